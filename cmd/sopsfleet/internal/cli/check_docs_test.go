package cli

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/google/shlex"
	"github.com/rogpeppe/go-internal/txtar"
	"go.yaml.in/yaml/v3"

	"github.com/sopsfleet/sopsfleet/audit"
)

// ckRoot is the repository root (tests chdir, so paths are made absolute
// while the working directory is still the package's).
var ckRoot, _ = filepath.Abs("../../../..")

// The docs of check and report, with copy-paste examples that are run here.
var ckDocs = []string{"check.md", "report.md", "ci-github-actions.md", "ci-gitlab.md", "pre-commit.md"}

// ckRepo materializes the example repository of the check and report
// scripts (real sops files): the findings repository, plus the clean one's
// secrets/api.env, which the docs name too.
func ckRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"check_findings.txtar", "check_clean.txtar"} {
		a, err := txtar.ParseFile(filepath.Join(ckRoot, "cmd/sopsfleet/testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range a.Files {
			if name == "check_clean.txtar" && f.Name != "secrets/api.env" {
				continue
			}
			p := filepath.Join(dir, filepath.FromSlash(f.Name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// ckRun runs the command line in dir and returns exit code, stdout, stderr.
func ckRun(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	t.Chdir(dir)
	ios, out, errOut := TestIO("")
	code := Run(ios, args)
	return code, out.String(), errOut.String()
}

type ckBlock struct {
	lang string
	text string
}

func ckBlocks(t *testing.T, doc string) []ckBlock {
	t.Helper()
	f, err := os.Open(filepath.Join(ckRoot, "docs", doc))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []ckBlock
	var cur *ckBlock
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			if cur == nil {
				cur = &ckBlock{lang: strings.TrimPrefix(line, "```")}
			} else {
				blocks = append(blocks, *cur)
				cur = nil
			}
			continue
		}
		if cur != nil {
			cur.text += line + "\n"
		}
	}
	return blocks
}

// ckCommands finds the sopsfleet command lines of a block: shell lines,
// "$ sopsfleet" transcripts, and run:/script: lines of CI YAML. Pipes,
// redirections and comments are cut off.
func ckCommands(b ckBlock) []string {
	var cmds []string
	re := regexp.MustCompile(`(?:^|[-:] |\$ |xargs -r )(sopsfleet (?:check|report)\b[^|>#\n]*)`)
	for _, line := range strings.Split(b.text, "\n") {
		if m := re.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			cmds = append(cmds, strings.TrimSpace(m[1]))
		}
	}
	return cmds
}

// TestCheckDocsExamples runs every sopsfleet command shown in the docs in
// the example repository: none is a usage error, reports succeed, and the
// outputs shown in check.md and report.md are the real ones.
func TestCheckDocsExamples(t *testing.T) {
	dir := ckRepo(t)
	ran := 0
	for _, doc := range ckDocs {
		for _, b := range ckBlocks(t, doc) {
			if b.lang == "yaml" {
				var v any
				if err := yaml.Unmarshal([]byte(b.text), &v); err != nil {
					t.Errorf("%s: YAML example does not parse: %v\n%s", doc, err, b.text)
				}
			}
			for _, c := range ckCommands(b) {
				args, err := shlex.Split(c)
				if err != nil {
					t.Fatalf("%s: %q: %v", doc, c, err)
				}
				code, _, stderr := ckRun(t, dir, args[1:]...)
				ran++
				if code == ExitUsage || (args[1] == "report" && code != ExitOK) {
					t.Errorf("%s: %q exits %d:\n%s", doc, c, code, stderr)
				}
			}
		}
	}
	if ran < 15 {
		t.Errorf("only %d commands found in the docs", ran)
	}

	// The sample outputs are what the commands print.
	for _, c := range []struct {
		doc  string
		args []string
		want string // a line of the sample that starts the output
	}{
		{"check.md", []string{"check"}, ".sops.yaml:4: warning[unused-anchor]"},
		{"report.md", []string{"report"}, "FILE  "},
		{"report.md", []string{"report", "--recipient", "old"}, "$ sopsfleet report --recipient old"},
	} {
		_, out, _ := ckRun(t, dir, c.args...)
		found := false
		for _, b := range ckBlocks(t, c.doc) {
			if b.lang != "text" || !strings.HasPrefix(b.text, c.want) {
				continue
			}
			found = true
			sample := b.text
			if strings.HasPrefix(sample, "$ ") {
				sample = sample[strings.IndexByte(sample, '\n')+1:]
			}
			if sample != out {
				t.Errorf("%s: the sample of %v is stale:\n--- docs\n%s--- real\n%s", c.doc, c.args, sample, out)
			}
		}
		if !found {
			t.Errorf("%s: no sample output starting %q", c.doc, c.want)
		}
	}

	// Every finding code is documented under its own heading (SARIF rules
	// link to docs/check.md#CODE).
	check, err := os.ReadFile(filepath.Join(ckRoot, "docs/check.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range audit.Codes {
		head := "\n### " + string(c.Code) + "\n"
		i := strings.Index(string(check), head)
		if i < 0 {
			t.Errorf("docs/check.md has no section for %s", c.Code)
			continue
		}
		// ... with an example finding of that code
		sec := string(check)[i+len(head):]
		if j := strings.Index(sec, "\n#"); j >= 0 {
			sec = sec[:j]
		}
		if !strings.Contains(sec, "```text\n") || !strings.Contains(sec, "["+string(c.Code)+"]: ") {
			t.Errorf("docs/check.md: the section of %s has no example", c.Code)
		}
	}
}

// TestCheckManifests parses .pre-commit-hooks.yaml and action.yml, checks
// they name the right entry points, and runs the commands they run.
func TestCheckManifests(t *testing.T) {
	var hooks []struct {
		ID, Name, Entry, Language string
		PassFilenames             *bool `yaml:"pass_filenames"`
		RequireSerial             bool  `yaml:"require_serial"`
	}
	data, err := os.ReadFile(filepath.Join(ckRoot, ".pre-commit-hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &hooks); err != nil {
		t.Fatalf(".pre-commit-hooks.yaml: %v", err)
	}
	if len(hooks) != 1 || hooks[0].ID != "sopsfleet-check" || hooks[0].Language != "golang" ||
		hooks[0].Entry != "sopsfleet check" || hooks[0].PassFilenames == nil || !*hooks[0].PassFilenames {
		t.Fatalf(".pre-commit-hooks.yaml: %+v", hooks)
	}
	// The docs' pre-commit config names this hook.
	for _, b := range ckBlocks(t, "pre-commit.md") {
		if b.lang == "yaml" && strings.Contains(b.text, "repos:") && !strings.Contains(b.text, "id: "+hooks[0].ID) {
			t.Errorf("docs/pre-commit.md does not use the hook id %q", hooks[0].ID)
		}
	}
	// pre-commit runs the entry with the staged file names.
	dir := ckRepo(t)
	entry := strings.Fields(hooks[0].Entry)
	if code, _, stderr := ckRun(t, dir, append(entry[1:], "secrets/db.yaml", "secrets/api.env", "README.md")...); code != ExitOK {
		t.Errorf("hook entry on clean files exits %d:\n%s", code, stderr)
	}
	if code, out, _ := ckRun(t, dir, append(entry[1:], "secrets/cfg.json")...); code != ExitFailure || !strings.Contains(out, "drift") {
		t.Errorf("hook entry on a drifted file exits %d:\n%s", code, out)
	}
	// language: golang builds the module's commands: the entry must be one.
	if _, err := os.Stat(filepath.Join(ckRoot, "cmd", entry[0], "main.go")); err != nil {
		t.Errorf("entry %q is not a command of this module: %v", entry[0], err)
	}

	var action struct {
		Name   string
		Inputs map[string]struct {
			Default string
		}
		Runs struct {
			Using string
			Steps []struct {
				Uses, Run, Shell string
				With             map[string]string
				Env              map[string]string
				WorkingDirectory string `yaml:"working-directory"`
			}
		}
	}
	data, err = os.ReadFile(filepath.Join(ckRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if action.Runs.Using != "composite" || action.Inputs["format"].Default != "github" {
		t.Fatalf("action.yml: using %q, format default %q", action.Runs.Using, action.Inputs["format"].Default)
	}
	var setupGo, install, check bool
	var script string
	var env map[string]string
	for _, s := range action.Runs.Steps {
		switch {
		case strings.HasPrefix(s.Uses, "actions/setup-go@"):
			setupGo = strings.Contains(s.With["go-version-file"], "github.action_path")
		case strings.Contains(s.Run, "go install ./cmd/sopsfleet"):
			install = s.WorkingDirectory == "${{ github.action_path }}" && s.Shell == "bash"
		case strings.Contains(s.Run, "sopsfleet\" \"${args[@]}\""):
			check = s.Shell == "bash"
			script, env = s.Run, s.Env
		}
	}
	if !setupGo || !install || !check {
		t.Fatalf("action.yml steps: setup-go %v, go install at the action's ref %v, check %v", setupGo, install, check)
	}
	// Run the check step as the runner would, with a stand-in for "go env
	// GOPATH" whose bin holds a freshly built sopsfleet.
	if runtime.GOOS == "windows" {
		t.Skip("the action runs bash")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	gopath := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(gopath, "bin", "sopsfleet"), "./cmd/sopsfleet")
	build.Dir = ckRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	fakeBin := t.TempDir()
	if err := os.WriteFile(filepath.Join(fakeBin, "go"), []byte("#!/bin/sh\necho \"$FAKE_GOPATH\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		inputs map[string]string
		code   int
		want   string
	}{
		{map[string]string{"format": "github", "paths": "secrets/db.yaml secrets/api.env"}, 0, ""},
		{map[string]string{"format": "github", "paths": ""}, 1, "::error file=secrets/cfg.json,line=10,title=sopsfleet drift::"},
		{map[string]string{"format": "sarif", "config": ".sops.yaml", "strict": "true", "paths": "secrets/db.yaml"}, 1, `"version": "2.1.0"`},
	} {
		cmd := exec.Command(bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + fakeBin + ":/usr/bin:/bin", "FAKE_GOPATH=" + gopath, "HOME=" + dir}
		for k, v := range env {
			// ${{ inputs.NAME }} → the value the workflow gives.
			name := strings.TrimSuffix(strings.TrimPrefix(v, "${{ inputs."), " }}")
			val, ok := c.inputs[name]
			if !ok {
				val = action.Inputs[name].Default
			}
			cmd.Env = append(cmd.Env, k+"="+val)
		}
		out, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.code || !strings.Contains(string(out), c.want) {
			t.Errorf("action with %v: exit %d (want %d), output:\n%s", c.inputs, code, c.code, out)
		}
	}
}
