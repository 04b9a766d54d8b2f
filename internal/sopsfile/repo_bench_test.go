package sopsfile

import (
	"os"
	"testing"
)

// benchRepo returns the files of $SOPSFLEET_BENCH_REPO (a fleet made by
// bench/updatekeys -keep), read once.
func benchRepo(b *testing.B) (paths []string, data [][]byte) {
	dir := os.Getenv("SOPSFLEET_BENCH_REPO")
	if dir == "" {
		b.Skip("set SOPSFLEET_BENCH_REPO to a repository (bench/updatekeys -keep)")
	}
	paths, err := Walk([]string{dir})
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range paths {
		d, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, d)
	}
	return paths, data
}

// BenchmarkParseRepo parses every file of $SOPSFLEET_BENCH_REPO from
// memory: ns/op is the parse cost of the whole tree, on one CPU.
func BenchmarkParseRepo(b *testing.B) {
	paths, data := benchRepo(b)
	b.ReportAllocs()
	for b.Loop() {
		for i, p := range paths {
			Parse(p, data[i])
		}
	}
}

// BenchmarkExamineRepo reads and parses every file of $SOPSFLEET_BENCH_REPO
// as a walk does, on one CPU.
func BenchmarkExamineRepo(b *testing.B) {
	paths, _ := benchRepo(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range paths {
			examine(p, nil)
		}
	}
}

// BenchmarkWalkParsedRepo is the whole walk of $SOPSFLEET_BENCH_REPO:
// listing, reading and parsing on one worker per CPU, reusing read
// buffers as updatekeys and check do.
func BenchmarkWalkParsedRepo(b *testing.B) {
	dir := os.Getenv("SOPSFLEET_BENCH_REPO")
	if dir == "" {
		b.Skip("set SOPSFLEET_BENCH_REPO to a repository (bench/updatekeys -keep)")
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := WalkParsedTree([]string{dir}, DiscoverOptions{ReuseData: true}, nil, func(int, Found, bool) {}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWalkTreeRepo is the listing alone.
func BenchmarkWalkTreeRepo(b *testing.B) {
	dir := os.Getenv("SOPSFLEET_BENCH_REPO")
	if dir == "" {
		b.Skip("set SOPSFLEET_BENCH_REPO to a repository (bench/updatekeys -keep)")
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := WalkTree([]string{dir}, DiscoverOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
