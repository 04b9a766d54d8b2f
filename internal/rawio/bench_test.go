package rawio

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReadFile reads a 10 KB file, as a sops file of a fleet is.
// Compare with BenchmarkOSReadFile: on Linux os.Open spends four fcntl and
// one epoll_ctl per file on top of what is needed.
func BenchmarkReadFile(b *testing.B) { benchRead(b, ReadFile) }

// BenchmarkOSReadFile is [os.ReadFile] on the same file.
func BenchmarkOSReadFile(b *testing.B) { benchRead(b, os.ReadFile) }

func benchRead(b *testing.B, read func(string) ([]byte, error)) {
	p := filepath.Join(b.TempDir(), "f")
	if err := os.WriteFile(p, make([]byte, 10<<10), 0o600); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := read(p); err != nil {
			b.Fatal(err)
		}
	}
}
