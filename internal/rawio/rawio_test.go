package rawio

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestReadFileAsOS compares ReadFile with os.ReadFile on files of many
// sizes (around the growth points), an empty file, a folder and a missing
// file.
func TestReadFileAsOS(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 511, 512, 513, 4095, 4096, 4097, 1 << 20} {
		data := bytes.Repeat([]byte{'a' + byte(n%26)}, n)
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(p)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: got %d bytes, %v", n, len(got), err)
		}
		f, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if f.Size() != int64(n) {
			t.Errorf("size %d: Size() = %d", n, f.Size())
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
			t.Errorf("second Close: %v, want ErrClosed", err)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	} else if _, werr := os.ReadFile(filepath.Join(dir, "missing")); err.Error() != werr.Error() {
		t.Errorf("missing file: %q, os says %q", err, werr)
	}
	if _, err := ReadFile(dir); err == nil {
		t.Error("reading a folder succeeded")
	}
}

// TestReadNoGrowth: a file read whole fits the first buffer (size+1), so
// reading allocates once.
func TestReadNoGrowth(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, bytes.Repeat([]byte("x"), 10000), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if cap(got) != 10001 {
		t.Errorf("cap %d, want 10001 (no growth)", cap(got))
	}
}

// TestReadUnknownSize: a stream without a size (a pipe) is read whole.
func TestReadUnknownSize(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	got, err := ReadAll(io.MultiReader(bytes.NewReader(data[:3]), bytes.NewReader(data[3:])), nil, -1)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
}
