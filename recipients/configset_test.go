package recipients

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestConfigSetNearest: each file gets the nearest .sops.yaml at or above
// its folder, each config is loaded once, and FindConfigs lists them all.
func TestConfigSetNearest(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for d := filepath.Dir(root); ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ConfigFileName)); err == nil {
			t.Skipf("%s exists above the test folder", filepath.Join(d, ConfigFileName))
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	cfgText := "creation_rules:\n  - age: age1rwzen58ea23n0nsgnyvdu6mmvdzfcwd9750s7e8pt2g45u483crqq7pcas\n"
	for _, p := range []string{"a/.sops.yaml", "a/b/c/.sops.yaml", "a/.git/.sops.yaml"} {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(cfgText), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(root, "a", "b", "c", "d"), 0o755)
	s := NearestConfigSet()
	for file, want := range map[string]string{
		"a/x.yaml":         "a/.sops.yaml",
		"a/b/x.yaml":       "a/.sops.yaml",
		"a/b/c/x.yaml":     "a/b/c/.sops.yaml",
		"a/b/c/d/x.yaml":   "a/b/c/.sops.yaml",
		"a/b/c/d/y/z.yaml": "a/b/c/.sops.yaml",
	} {
		cfg, err := s.For(filepath.Join(root, file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if cfg.Path != filepath.Join(root, want) {
			t.Errorf("%s: governed by %s, want %s", file, cfg.Path, want)
		}
		if got := s.PathFor(filepath.Join(root, file)); got != filepath.Join(root, want) {
			t.Errorf("PathFor(%s) = %s, want %s", file, got, want)
		}
	}
	if n := len(s.Loaded()); n != 2 {
		t.Errorf("%d configs loaded, want 2", n)
	}
	if _, err := s.For(filepath.Join(root, "x.yaml")); !errors.Is(err, ErrNoConfigAbove) {
		t.Errorf("a file above every config: err = %v, want ErrNoConfigAbove", err)
	}
	found, err := FindConfigs(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(root, "a/.sops.yaml"), filepath.Join(root, "a/b/c/.sops.yaml")}
	if len(found) != 2 || found[0] != want[0] || found[1] != want[1] {
		t.Errorf("FindConfigs = %v, want %v (.git skipped)", found, want)
	}
	fixed, _ := LoadConfig(want[1])
	f := FixedConfigSet(fixed)
	if cfg, _ := f.For(filepath.Join(root, "a/x.yaml")); cfg != fixed {
		t.Errorf("a fixed set gave another config")
	}
}
