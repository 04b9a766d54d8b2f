package recipients

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/testsops"
)

// corpusFiles returns the shared corpus of public .sops.yaml files (not
// part of the repository), or skips the test when it is absent.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	return testsops.CorpusFiles(t, "sops-yaml")
}

// corpusProbes are extra paths typical of real repositories.
var corpusProbes = append([]string{
	"secrets.yaml", "secrets/secrets.yaml", "secrets.enc.yaml", "clusters/prod/secret.yaml",
	"clusters/staging/apps/secret.sops.yaml", "hosts/server/secrets.yaml", ".env",
	"secrets/default.yaml", "terraform/prod.tfvars.json", "kubernetes/apps/x/secret.sops.yaml",
	"nixos/secrets/secrets.yaml", "users/alice/secrets.yaml", "home/secrets.yaml",
	"values.secret.yaml", "config/secrets.json", "env/prod/secrets.env",
}, probePaths...)

// TestCorpusResolutionMatchesSops runs the sops comparison over the corpus.
func TestCorpusResolutionMatchesSops(t *testing.T) {
	for _, f := range corpusFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			compareWithSops(t, data, corpusProbes)
		})
	}
}

// TestCorpusRoundTrip adds a fresh key to every group of every rule of
// every corpus file and removes it again: each edit must be verified,
// minimal, and the removal must restore the file byte for byte.
func TestCorpusRoundTrip(t *testing.T) {
	refused, done := 0, 0
	for _, f := range corpusFiles(t) {
		c, err := LoadConfig(f)
		if err != nil {
			continue // not a config sops can load either
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			for _, r := range c.Rules {
				for gi := range r.Groups {
					if checkRoundTrip(t, c, GroupRef{r.Index, gi}, keyG, "newbie", !testing.Short()) == nil {
						refused++
					} else {
						done++
					}
				}
			}
			checkRemoveAndRename(t, c, false, nil)
		})
	}
	t.Logf("corpus: %d groups edited and restored, %d refused cleanly", done, refused)
}
