package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sopsfleet/sopsfleet/cmd/sopsfleet/internal/cli"
	"github.com/sopsfleet/sopsfleet/internal/testsops"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sopsfleet": func() { os.Exit(cli.Main(os.Args[1:])) },
		// A test age plugin (plugin_test.go), on PATH for sopsfleet and sops.
		"age-plugin-" + testPluginName: func() { os.Exit(testPluginMain()) },
	})
}

// TestScripts runs the command-line scripts in testdata/*.txtar against the
// real main, in-process. Each script starts in an empty $WORK with HOME set
// to it, so no user configuration or key leaks in.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/.config")
			env.Setenv("NO_COLOR", "")
			// The real sops, when it can be built, as "sops" on PATH: for
			// scripts that cross-check results ([sops] condition).
			if bin, err := testsops.Bin(); err == nil {
				env.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+env.Getenv("PATH"))
				env.Setenv("SOPS_DISABLE_VERSION_CHECK", "1")
			}
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond != "sops" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			_, err := testsops.Bin()
			return err == nil, nil
		},
		RequireUniqueNames: true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitcode,
		},
	})
}

// cmdExitcode runs a program and checks its exit status:
//
//	exitcode 2 sopsfleet recipients add …
//
// Its stdout and stderr can be checked afterwards as after exec.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// TestReadmeSetUp keeps the README's set-up honest: exactly two commands, the
// second the test command .ci/run runs, and the first's example, run from the
// root of the repository, prints what the README says it prints.
func TestReadmeSetUp(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	_, setUp, ok := strings.Cut(text, "\n## Set up\n")
	if !ok {
		t.Fatal("README has no \"## Set up\" section")
	}
	_, block, ok := strings.Cut(setUp, "```sh\n")
	if !ok {
		t.Fatal("the set-up section has no sh block")
	}
	block, after, ok := strings.Cut(block, "```")
	if !ok {
		t.Fatal("unterminated sh block")
	}
	cmds := strings.Split(strings.TrimSpace(block), "\n")
	if len(cmds) != 2 {
		t.Fatalf("set-up has %d commands, want exactly 2: %q", len(cmds), cmds)
	}
	if cmds[1] != "go test ./..." {
		t.Fatalf("second command %q, want \"go test ./...\"", cmds[1])
	}
	const install = "go install ./cmd/sopsfleet && sopsfleet "
	if !strings.HasPrefix(cmds[0], install) {
		t.Fatalf("first command %q does not start with %q", cmds[0], install)
	}
	args := strings.Fields(strings.TrimPrefix(cmds[0], install))

	// The README quotes the output after "printing `…`".
	_, printed, ok := strings.Cut(after, "printing `")
	if !ok {
		t.Fatal("the set-up section does not say what the example prints")
	}
	want, _, _ := strings.Cut(printed, "`")

	t.Chdir("../..")
	ios, out, errOut := cli.TestIO("")
	if code := cli.Run(ios, args); code != cli.ExitOK {
		t.Fatalf("sopsfleet %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	if out.String() != want+"\n" {
		t.Fatalf("sopsfleet %s printed %q, README says %q", strings.Join(args, " "), out, want)
	}
}
