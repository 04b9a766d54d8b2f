//go:build unix

package atomicfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
)

// TestTryLock: a second lock on the same file fails at once with ErrLocked
// until the first is released.
func TestTryLock(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".sops.yaml")
	if err := os.WriteFile(p, []byte("creation_rules: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unlock, err := atomicfile.TryLock(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := atomicfile.TryLock(p); !errors.Is(err, atomicfile.ErrLocked) {
		t.Fatalf("second lock: %v, want ErrLocked", err)
	}
	unlock()
	again, err := atomicfile.TryLock(p)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	again()
}
