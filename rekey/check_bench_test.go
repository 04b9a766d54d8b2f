package rekey

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// BenchmarkCheck scans and checks the repository named by
// $SOPSFLEET_BENCH_REPO (bench/check.sh keeps the one it generates with
// -keep); it is skipped when the variable is not set.
func BenchmarkCheck(b *testing.B) {
	dir := os.Getenv("SOPSFLEET_BENCH_REPO")
	if dir == "" {
		b.Skip("set SOPSFLEET_BENCH_REPO to a repository (bench/check.sh -keep)")
	}
	cfg, err := recipients.LoadConfig(filepath.Join(dir, ".sops.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := Scan(ScanOptions{Config: cfg, Plaintext: true})
		if err != nil {
			b.Fatal(err)
		}
		Check(res, ".sops.yaml")
	}
}
