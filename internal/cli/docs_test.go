package cli

import (
	"flag"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/reference from the command tree")

// TestReferenceUpToDate fails when docs/reference no longer matches the
// commands. Refresh with: go test ./internal/cli -run TestReferenceUpToDate -update-docs
func TestReferenceUpToDate(t *testing.T) {
	const dir = "../../docs/reference"
	if *updateDocs {
		if err := WriteReference(dir); err != nil {
			t.Fatal(err)
		}
	}
	stale, err := StaleReference(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) > 0 {
		t.Fatalf("docs/reference is stale:\n  %s\nrefresh with: go test ./internal/cli -run TestReferenceUpToDate -update-docs",
			strings.Join(stale, "\n  "))
	}
}
