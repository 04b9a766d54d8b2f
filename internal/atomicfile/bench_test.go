package atomicfile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
)

// benchTree makes n small files in 10 folders.
func benchTree(b *testing.B, n int) []string {
	dir := b.TempDir()
	var paths []string
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("d%d", i%10), fmt.Sprintf("s%04d.yaml", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("old: value\n"), 0o600); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// BenchmarkStagedCommit replaces 500 files all or nothing and reports the
// fsyncs of one run (one per file, issued in parallel, and one per folder).
func BenchmarkStagedCommit(b *testing.B) {
	paths := benchTree(b, 500)
	data := make([]byte, 4096)
	before := atomicfile.SyncCount()
	for b.Loop() {
		s := atomicfile.NewStaged(nil)
		for _, p := range paths {
			if err := s.Stage(p, data, atomicfile.Options{}); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Commit(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(atomicfile.SyncCount()-before)/float64(b.N), "fsyncs/run")
}
