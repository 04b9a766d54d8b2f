package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// -v is --verbose and -q is --quiet on every command, with no other meaning
// anywhere, and --version is the root's only.
func TestVerboseQuietSameEverywhere(t *testing.T) {
	for path, flags := range commandPaths(t) {
		byName := map[string]*pflag.Flag{}
		for _, f := range flags {
			byName[f.Name] = f
			switch {
			case f.Shorthand == "v" && f.Name != "verbose":
				t.Errorf("%q: -v is --%s", path, f.Name)
			case f.Shorthand == "q" && f.Name != "quiet":
				t.Errorf("%q: -q is --%s", path, f.Name)
			case f.Name == "version" && path != "":
				t.Errorf("%q has its own --version", path)
			}
		}
		for name, short := range map[string]string{"verbose": "v", "quiet": "q"} {
			if f := byName[name]; f == nil || f.Shorthand != short || f.Value.Type() != "bool" {
				t.Errorf("%q: no -%s/--%s switch", path, short, name)
			}
		}
	}
}

// The switches reach IOStreams whichever command they are given to, before
// or after the command name; together they are a usage error.
func TestVerboseQuietReachIOStreams(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, ".sops.yaml")
	if err := os.WriteFile(conf, []byte("creation_rules:\n  - age: age18qzqssxgx4zryu2063uc75kjyx5klr6ajqcpngq20psrmns32cpqpyqec8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args           []string
		verbose, quiet bool
	}{
		{[]string{"-v", "recipients", "list"}, true, false},
		{[]string{"recipients", "list", "--verbose"}, true, false},
		{[]string{"check", "-v", dir}, true, false},
		{[]string{"updatekeys", "-v", "--dry-run", dir}, true, false},
		{[]string{"-q", "report", dir}, false, true},
		{[]string{"report", "--quiet", dir}, false, true},
		{[]string{"recipients", "list"}, false, false},
	} {
		ios, _, errOut := TestIO("")
		args := append([]string{"--config", conf}, tc.args...)
		if code := Run(ios, args); code != ExitOK {
			t.Errorf("%q: exit %d: %s", tc.args, code, errOut)
		}
		if ios.Verbose != tc.verbose || ios.Quiet != tc.quiet {
			t.Errorf("%q: Verbose %v Quiet %v, want %v %v", tc.args, ios.Verbose, ios.Quiet, tc.verbose, tc.quiet)
		}
	}
	ios, _, errOut := TestIO("")
	if code := Run(ios, []string{"--config", conf, "-q", "check", "-v", dir}); code != ExitUsage {
		t.Errorf("-q with -v: exit %d", code)
	}
	if want := "sopsfleet: error: -q/--quiet and -v/--verbose cannot be used together\n"; !strings.HasPrefix(errOut.String(), want) {
		t.Errorf("-q with -v: stderr %q, want %q", errOut, want)
	}
}

// Verbosef prints only with -v; Alertf prints even with -q.
func TestVerbosefAlertf(t *testing.T) {
	for _, tc := range []struct {
		verbose, quiet bool
		want           string
	}{
		{false, false, "sopsfleet: warning: a\n"},
		{true, false, "sopsfleet: detail\nsopsfleet: warning: a\n"},
		{false, true, "sopsfleet: warning: a\n"},
	} {
		ios, _, errOut := TestIO("")
		ios.Verbose, ios.Quiet = tc.verbose, tc.quiet
		ios.Verbosef("detail")
		ios.Alertf("a")
		if errOut.String() != tc.want {
			t.Errorf("verbose %v quiet %v: %q, want %q", tc.verbose, tc.quiet, errOut, tc.want)
		}
	}
}

// The root's PersistentPreRunE (flag-value guard, -q/-v, --no-color) runs
// for every command only while no command declares its own: cobra runs
// the nearest one alone.
func TestOnlyRootHasPersistentHooks(t *testing.T) {
	ios, _, _ := TestIO("")
	root := newRootCmd(ios)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.PersistentPreRun != nil || sub.PersistentPreRunE != nil {
				t.Errorf("%s declares its own PersistentPreRun: the root's would not run for it", sub.CommandPath())
			}
			walk(sub)
		}
	}
	walk(root)
	if root.PersistentPreRunE == nil {
		t.Fatal("the root has no PersistentPreRunE")
	}
}
