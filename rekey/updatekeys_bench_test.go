package rekey

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
)

// benchFleet writes n files (all five formats) encrypted to alice and bob
// under a fixture, and returns their paths and contents.
func benchFleet(b *testing.B, fx *fixture, n int) ([]string, map[string][]byte) {
	b.Helper()
	names := []string{"yaml", "json", "env", "ini", "bin"}
	plains := []string{"a: 1\nb:\n    c: secret\n", "{\"a\": \"secret\"}\n", "A=secret\n", "[s]\nk = secret\n", "raw"}
	var files []string
	orig := map[string][]byte{}
	for i := 0; i < n; i++ {
		p := fx.encrypt(fmt.Sprintf("d%d/f%d.%s", i%10, i, names[i%5]), plains[i%5], 0, []string{"alice", "bob"})
		files = append(files, p)
		orig[p] = mustRead(b, p)
	}
	return files, orig
}

func BenchmarkRunNoop(b *testing.B) {
	fx := &fixture{t: b, dir: b.TempDir(), keys: genKeys(b, "alice", "bob", "carol", "dave")}
	files, _ := benchFleet(b, fx, 100)
	cfg := fx.config(0, []string{"alice", "bob"})
	b.ResetTimer()
	for range b.N {
		Run(context.Background(), files, Options{Config: cfg})
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(files)), "µs/file")
}

// BenchmarkRunRewrap replaces bob with carol in 100 files (decrypt the data
// key once, encrypt it for carol, splice, atomic write).
func BenchmarkRunRewrap(b *testing.B) {
	fx := &fixture{t: b, dir: b.TempDir(), keys: genKeys(b, "alice", "bob", "carol", "dave")}
	files, orig := benchFleet(b, fx, 100)
	cfg := fx.config(0, []string{"alice", "carol"})
	ids := []age.Identity{fx.keys["alice"].id}
	opener := func() (*sopsfile.Opener, error) { return sopsfile.NewOpener(ids), nil }
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		for _, p := range files {
			if err := os.WriteFile(p, orig[p], 0o644); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		for _, r := range Run(context.Background(), files, Options{Config: cfg, Opener: opener}) {
			if r.Status != StatusUpdated {
				b.Fatalf("%s: %s", filepath.Base(r.Path), r.Error)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(files)), "µs/file")
}
