package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// BenchmarkCheck4000Rules1000Files scans and checks 1,000 encrypted files
// under a .sops.yaml of 4,000 creation rules (issue 8: 42 s before rule
// matching and lint became linear; well under 2 s now). The files are
// copies of one file encrypted by the real sops, spread over the rules.
func BenchmarkCheck4000Rules1000Files(b *testing.B) {
	fx := newCkRepo(b)
	var cfg strings.Builder
	cfg.WriteString("creation_rules:\n")
	for i := range 4000 {
		fmt.Fprintf(&cfg, "  - path_regex: ^hosts/host%05d/.*\\.yaml$\n    age: {{alice}}\n", i)
	}
	fx.write(".sops.yaml", cfg.String())
	fx.encrypt("template.yaml", "password: hunter2\n", ckEnc{groups: [][]string{{"alice"}}})
	tmpl := fx.read("template.yaml")
	if err := os.Remove(fx.path("template.yaml")); err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		fx.write(fmt.Sprintf("hosts/host%05d/secret.yaml", i*4), tmpl)
	}
	config, err := recipients.LoadConfig(fx.path(".sops.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := Scan(ScanOptions{Config: config, Plaintext: true})
		if err != nil {
			b.Fatal(err)
		}
		if fs := Check(res, ".sops.yaml"); len(fs) != 0 || len(res.Files) != 1000 {
			b.Fatalf("%d files, findings %+v", len(res.Files), fs)
		}
	}
}
