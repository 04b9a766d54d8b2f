package cli

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/reference from the command tree")

// TestReferenceUpToDate fails when docs/reference no longer matches the
// commands. Refresh with: go test ./cmd/sopsfleet/internal/cli -run TestReferenceUpToDate -update-docs
func TestReferenceUpToDate(t *testing.T) {
	const dir = "../../../../docs/reference"
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
		t.Fatalf("docs/reference is stale:\n  %s\nrefresh with: go test ./cmd/sopsfleet/internal/cli -run TestReferenceUpToDate -update-docs",
			strings.Join(stale, "\n  "))
	}
}

// StaleReference notices a changed, a missing and a left-over page, and
// WriteReference repairs all three.
func TestStaleReferenceDetects(t *testing.T) {
	dir := t.TempDir()
	if err := WriteReference(dir); err != nil {
		t.Fatal(err)
	}
	if stale, err := StaleReference(dir); err != nil || len(stale) != 0 {
		t.Fatalf("fresh reference stale: %q, %v", stale, err)
	}
	edit := filepath.Join(dir, "sopsfleet_convert.md")
	b, err := os.ReadFile(edit)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(edit, append(b, "edited by hand\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "sopsfleet_keyscan.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sopsfleet_gone.md"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stale, err := StaleReference(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"sopsfleet_convert.md: out of date",
		"sopsfleet_gone.md: no such command any more",
		"sopsfleet_keyscan.md: missing",
	}
	if strings.Join(stale, "|") != strings.Join(want, "|") {
		t.Fatalf("stale = %q, want %q", stale, want)
	}
	if err := WriteReference(dir); err != nil {
		t.Fatal(err)
	}
	if stale, err := StaleReference(dir); err != nil || len(stale) != 0 {
		t.Fatalf("after WriteReference: %q, %v", stale, err)
	}
}
