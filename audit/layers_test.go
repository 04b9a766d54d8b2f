package audit_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestLayers checks the import graph runs one way, top to bottom as
// folders: cmd/ → rekey/ → audit/ → recipients/ → internal/. In particular
// the read-only package never imports the writer (rekey, internal/atomicfile)
// and nothing imports the command layer.
func TestLayers(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command")
	}
	out, err := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Imports", "github.com/sopsfleet/sopsfleet/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/sopsfleet/sopsfleet/"
	// Packages that may not be imported by each layer (by prefix).
	forbidden := map[string][]string{
		"audit":      {"rekey", "internal/atomicfile", "cmd/"},
		"recipients": {"rekey", "audit", "policy", "internal/sopsfile", "internal/atomicfile", "cmd/"},
		// the policy file (.sopsfleet.yaml): read-only, beside recipients
		"policy":    {"rekey", "audit", "internal/sopsfile", "internal/atomicfile", "cmd/"},
		"internal/": {"rekey", "audit", "policy", "cmd/"},
		"rekey":     {"cmd/"},
		"bench/":    {"cmd/sopsfleet/internal/"},
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		seen++
		rel := strings.TrimPrefix(p.ImportPath, mod)
		for layer, bad := range forbidden {
			if rel != strings.TrimSuffix(layer, "/") && !strings.HasPrefix(rel, layer) {
				continue
			}
			for _, imp := range p.Imports {
				irel, ok := strings.CutPrefix(imp, mod)
				if !ok {
					continue
				}
				for _, b := range bad {
					if irel == strings.TrimSuffix(b, "/") || strings.HasPrefix(irel, b) {
						t.Errorf("%s imports %s: the layers run cmd → rekey → audit → recipients → internal", rel, irel)
					}
				}
			}
		}
	}
	if seen < 8 {
		t.Fatalf("go list listed %d packages: expected the whole module", seen)
	}
}
