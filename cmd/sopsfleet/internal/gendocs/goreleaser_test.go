package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// goreleaserConfig is the part of .goreleaser.yaml this test reads.
type goreleaserConfig struct {
	Before struct {
		Hooks []string `yaml:"hooks"`
	} `yaml:"before"`
	Archives []struct {
		ID    string `yaml:"id"`
		Files []struct {
			Src         string `yaml:"src"`
			Dst         string `yaml:"dst"`
			StripParent bool   `yaml:"strip_parent"`
		} `yaml:"files"`
	} `yaml:"archives"`
}

// TestGoreleaserShipsGeneratedFiles ties .goreleaser.yaml to this program,
// so that moving the generator or renaming its output folder breaks a test
// and not a release: a before hook runs it with SOURCE_DATE_EPOCH set to
// the commit time, and every archive takes its man pages and completions
// from the folder the hook writes, with LICENSE and README.md.
func TestGoreleaserShipsGeneratedFiles(t *testing.T) {
	const root = "../../../.."
	b, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg goreleaserConfig
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	const prefix = "env SOURCE_DATE_EPOCH={{ .CommitTimestamp }} go run ./cmd/sopsfleet/internal/gendocs "
	var hook string
	for _, h := range cfg.Before.Hooks {
		if strings.HasPrefix(h, prefix) {
			hook = h
		}
	}
	if hook == "" {
		t.Fatalf("no before hook starts with %q: %q", prefix, cfg.Before.Hooks)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd/sopsfleet/internal/gendocs/main.go")); err != nil {
		t.Fatalf("the hook's program: %v", err)
	}
	args := strings.Fields(strings.TrimPrefix(hook, prefix))
	i := slices.Index(args, "-out")
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("hook %q does not name its -out folder", hook)
	}
	out := args[i+1]
	for _, f := range []string{"LICENSE", "README.md"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("archives ship %s: %v", f, err)
		}
	}
	if len(cfg.Archives) == 0 {
		t.Fatal("no archives")
	}
	want := map[string]string{ // src → dst
		"LICENSE":              "",
		"README.md":            "",
		out + "/man/*.1":       "man",
		out + "/completions/*": "completions",
	}
	for _, a := range cfg.Archives {
		for src, dst := range want {
			found := false
			for _, f := range a.Files {
				if f.Src == src && f.Dst == dst && (dst == "" || f.StripParent) {
					found = true
				}
			}
			if !found {
				t.Errorf("archive %q does not ship %s (dst %q, strip_parent for a folder)", a.ID, src, dst)
			}
		}
	}
	ignore, err := os.ReadFile(filepath.Join(root, ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Split(string(ignore), "\n"), "/"+out+"/") {
		t.Errorf(".gitignore does not ignore the generated /%s/", out)
	}
}
