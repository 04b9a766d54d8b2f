//go:build unix

package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// createTemp behaves as os.CreateTemp: a new file of mode 0600 named from
// the pattern, never one that exists, and no separator in the pattern.
func TestCreateTempAsOS(t *testing.T) {
	dir := t.TempDir()
	seen := map[string]bool{}
	for range 50 {
		f, err := createTemp(dir, ".x.*-tmp")
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f.Name())
		if !strings.HasPrefix(base, ".x.") || !strings.HasSuffix(base, "-tmp") || seen[base] {
			t.Fatalf("name %q", base)
		}
		seen[base] = true
		if _, err := f.Write([]byte("data")); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		if err := f.Chmod(0o640); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
			t.Fatalf("second Close: %v", err)
		}
		fi, err := os.Stat(f.Name())
		if err != nil || fi.Mode().Perm() != 0o640 || fi.Size() != 4 {
			t.Fatalf("%v %v", fi, err)
		}
	}
	f, err := createTemp(dir, "plain")
	if err != nil || filepath.Base(f.Name()) == "plain" {
		t.Fatalf("pattern without *: %v %v", f, err)
	}
	f.Close()
	if _, err := createTemp(dir, "a/b*"); err == nil {
		t.Fatal("a pattern with a separator was accepted")
	}
	if _, err := createTemp(filepath.Join(dir, "missing"), "x*"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing folder: %v", err)
	}
	if err := syncFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("syncFile of a missing file: %v", err)
	}
}
