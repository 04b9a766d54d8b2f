package testsops

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestBinIsCachedAndRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds sops")
	}
	bin, err := Bin()
	if err != nil {
		t.Fatal(err)
	}
	root, sum, err := moduleRoot()
	if err != nil || len(sum) == 0 || root == "" {
		t.Fatalf("moduleRoot: %q, %d bytes of go.sum, %v", root, len(sum), err)
	}
	if !strings.Contains(bin, "sopsfleet-testsops") && os.Getenv("SOPSFLEET_TESTSOPS_CACHE") == "" {
		t.Errorf("binary %s is not in the cache folder", bin)
	}
	out, err := Run(t.TempDir(), nil, "--version")
	if err != nil || !strings.HasPrefix(string(out), "sops 3.") {
		t.Fatalf("sops --version = %q, %v", out, err)
	}
	_, err = Run(t.TempDir(), nil, "decrypt", "missing.yaml")
	if e, ok := err.(*Error); !ok || e.Stderr == "" {
		t.Errorf("failed run: %v, want an *Error with stderr", err)
	}
}

// Processes that find no binary build it once between them: the second
// waits for the lock and then finds the binary.
func TestBuildUnderLock(t *testing.T) {
	if testing.Short() {
		t.Skip("builds sops")
	}
	if _, err := Bin(); err != nil { // warm the go build cache
		t.Fatal(err)
	}
	cache := t.TempDir()
	t.Setenv("SOPSFLEET_TESTSOPS_CACHE", cache)
	var wg sync.WaitGroup
	bins := make([]string, 3)
	errs := make([]error, 3)
	for i := range bins {
		wg.Add(1)
		go func() { defer wg.Done(); bins[i], errs[i] = build() }()
	}
	wg.Wait()
	for i := range bins {
		if errs[i] != nil || bins[i] != bins[0] || !ok(bins[i]) {
			t.Fatalf("build %d: %q, %v", i, bins[i], errs[i])
		}
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(bins[0]), "*.tmp"))
	if len(left) > 0 {
		t.Errorf("temporary binaries left: %v", left)
	}
}
