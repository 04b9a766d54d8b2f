package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// configEnv is a getenv that knows only the given variables.
func configEnv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// warnings collects what findConfig warns about.
type warnings []string

func (w *warnings) warn(format string, a ...any) { *w = append(*w, fmt.Sprintf(format, a...)) }

// configTree makes root/a/b/c, writes the given files (relative to root) and
// returns root. It skips the test when a folder above root already has a
// config file, since the walk up would find it.
func configTree(t *testing.T, files ...string) string {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for d := filepath.Dir(root); ; d = filepath.Dir(d) {
		for _, n := range []string{".sops.yaml", ".sops.yml"} {
			if _, err := os.Stat(filepath.Join(d, n)); err == nil {
				t.Skipf("%s exists above the test folder", filepath.Join(d, n))
			}
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "a", "b", "c"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(root, f), []byte("creation_rules: []\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestFindConfigFlagAndEnv(t *testing.T) {
	root := configTree(t, "a/.sops.yaml")
	t.Chdir(filepath.Join(root, "a", "b"))
	env := configEnv(map[string]string{"SOPS_CONFIG": "/from/env.yaml"})

	// --config wins over $SOPS_CONFIG and over the walk; it is returned as
	// given, even when it does not exist (the caller reports that).
	var w warnings
	got, err := findConfig("custom.yaml", env, w.warn)
	if err != nil || got != "custom.yaml" {
		t.Fatalf("--config: got %q, %v", got, err)
	}
	// $SOPS_CONFIG wins over the walk.
	got, err = findConfig("", env, w.warn)
	if err != nil || got != "/from/env.yaml" {
		t.Fatalf("SOPS_CONFIG: got %q, %v", got, err)
	}
	if len(w) != 0 {
		t.Fatalf("unexpected warnings %q", w)
	}
	// Through the command line: --config and SOPS_CONFIG reach ConfigPath.
	ios, _, _ := TestIO("")
	ios.Getenv = env
	g := &globalOptions{IO: ios}
	if got, _ := g.ConfigPath(); got != "/from/env.yaml" {
		t.Fatalf("ConfigPath with SOPS_CONFIG = %q", got)
	}
	g.Config = "flag.yaml"
	if got, _ := g.ConfigPath(); got != "flag.yaml" {
		t.Fatalf("ConfigPath with --config = %q", got)
	}
}

func TestFindConfigWalksUp(t *testing.T) {
	root := configTree(t, "a/.sops.yaml", ".sops.yaml")
	none := configEnv(nil)

	// From a/b/c the nearest .sops.yaml is in a, not the one in root.
	t.Chdir(filepath.Join(root, "a", "b", "c"))
	var w warnings
	got, err := findConfig("", none, w.warn)
	if err != nil || got != filepath.Join(root, "a", ".sops.yaml") {
		t.Fatalf("got %q, %v; want a/.sops.yaml", got, err)
	}
	// In the folder itself.
	t.Chdir(filepath.Join(root, "a"))
	got, err = findConfig("", none, w.warn)
	if err != nil || got != filepath.Join(root, "a", ".sops.yaml") {
		t.Fatalf("got %q, %v; want a/.sops.yaml", got, err)
	}
	if len(w) != 0 {
		t.Fatalf("unexpected warnings %q", w)
	}
}

func TestFindConfigNone(t *testing.T) {
	root := configTree(t)
	t.Chdir(filepath.Join(root, "a", "b"))
	_, err := findConfig("", configEnv(nil), nil)
	if !errors.Is(err, errNoConfig) {
		t.Fatalf("err = %v, want errNoConfig", err)
	}
	if strings.Contains(err.Error(), ".sops.yml\"") {
		t.Fatalf("mentions a .sops.yml that does not exist: %v", err)
	}
}

// sops reads only .sops.yaml: a .sops.yml on the way is warned about (when a
// .sops.yaml is found above it) or named in the error (when none is).
func TestFindConfigSopsYml(t *testing.T) {
	root := configTree(t, "a/b/.sops.yml", "a/.sops.yml", ".sops.yaml")
	t.Chdir(filepath.Join(root, "a", "b", "c"))
	var w warnings
	got, err := findConfig("", configEnv(nil), w.warn)
	if err != nil || got != filepath.Join(root, ".sops.yaml") {
		t.Fatalf("got %q, %v; want the .sops.yaml at the top", got, err)
	}
	// Only the nearest .sops.yml is named, once.
	want := fmt.Sprintf("ignoring %q: sops only reads %q", filepath.Join(root, "a", "b", ".sops.yml"), ".sops.yaml")
	if len(w) != 1 || w[0] != want {
		t.Fatalf("warnings %q, want [%q]", w, want)
	}
	// A nil warn is allowed.
	if _, err := findConfig("", configEnv(nil), nil); err != nil {
		t.Fatal(err)
	}

	// No .sops.yaml at all: the error names the .sops.yml and says what to do.
	root = configTree(t, "a/.sops.yml")
	t.Chdir(filepath.Join(root, "a", "b"))
	w = nil
	_, err = findConfig("", configEnv(nil), w.warn)
	if !errors.Is(err, errNoConfig) {
		t.Fatalf("err = %v, want errNoConfig", err)
	}
	alt := filepath.Join(root, "a", ".sops.yml")
	if !strings.Contains(err.Error(), fmt.Sprintf("found %q, which sops ignores: rename it to .sops.yaml", alt)) {
		t.Fatalf("err = %v", err)
	}
	if len(w) != 0 {
		t.Fatalf("warned as well as failing: %q", w)
	}
}

// Through the command line, the warning reaches stderr in the one voice.
func TestConfigPathWarnsOnStderr(t *testing.T) {
	root := configTree(t, "a/.sops.yml", ".sops.yaml")
	t.Chdir(filepath.Join(root, "a"))
	ios, _, errOut := TestIO("")
	g := &globalOptions{IO: ios}
	got, err := g.ConfigPath()
	if err != nil || got != filepath.Join(root, ".sops.yaml") {
		t.Fatalf("got %q, %v", got, err)
	}
	if !strings.HasPrefix(errOut.String(), "sopsfleet: warning: ignoring ") {
		t.Fatalf("stderr %q", errOut)
	}
	// -q silences it.
	ios, _, errOut = TestIO("")
	ios.Quiet = true
	g = &globalOptions{IO: ios}
	if _, err := g.ConfigPath(); err != nil || errOut.Len() != 0 {
		t.Fatalf("quiet: %v, stderr %q", err, errOut)
	}
}
