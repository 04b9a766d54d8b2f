package testsops

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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

// Builders that find no binary build it once between them: the others wait
// for the lock and then find the binary. (flock locks of separate opens
// exclude each other within one process too, so goroutines stand in for
// test binaries.)
func TestBuildUnderLock(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("SOPSFLEET_TESTSOPS_CACHE", cache)
	var mu sync.Mutex
	builds := 0
	real := goBuild
	t.Cleanup(func() { goBuild = real })
	goBuild = func(root, out string) error {
		mu.Lock()
		builds++
		mu.Unlock()
		time.Sleep(50 * time.Millisecond) // a slow build
		return os.WriteFile(out, []byte("#!/bin/sh\necho sops 3.fake\n"), 0o755)
	}
	var wg sync.WaitGroup
	bins := make([]string, 4)
	errs := make([]error, 4)
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
	if builds != 1 {
		t.Errorf("%d builds, want 1", builds)
	}
	if !strings.HasPrefix(bins[0], cache) {
		t.Errorf("binary %s outside the cache %s", bins[0], cache)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(bins[0]), "*.tmp"))
	if len(left) > 0 {
		t.Errorf("temporary binaries left: %v", left)
	}
	// A cache folder that cannot be made: the temporary folder instead.
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o644)
	t.Setenv("SOPSFLEET_TESTSOPS_CACHE", filepath.Join(blocker, "cache"))
	fallback := t.TempDir()
	realTemp := tempCacheDir
	t.Cleanup(func() { tempCacheDir = realTemp })
	tempCacheDir = func() string { return fallback }
	if b, err := build(); err != nil || !strings.HasPrefix(b, fallback) {
		t.Fatalf("with an unusable cache folder: %q, %v", b, err)
	}

	// A failed build leaves nothing that looks like a binary.
	t.Setenv("SOPSFLEET_TESTSOPS_CACHE", t.TempDir())
	goBuild = func(root, out string) error {
		os.WriteFile(out, []byte("half"), 0o755)
		return errors.New("build failed")
	}
	if _, err := build(); err == nil {
		t.Fatal("a failed build returns no error")
	}
	if b, err := build(); err == nil || b != "" {
		t.Fatalf("after a failed build: %q, %v", b, err)
	}
}
