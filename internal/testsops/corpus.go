package testsops

import (
	"os"
	"path/filepath"
	"testing"
)

// CorpusDir returns the folder of one part of the real-world corpus
// ("encrypted" or "sops-yaml"), which the project's maintainers keep beside
// the repository in shared/corpus/, and whether it is there. A user's clone
// has no such folder. The corpus is read, never copied into the project.
func CorpusDir(name string) (string, bool) {
	root, _, err := moduleRoot()
	if err != nil {
		return "", false
	}
	dir := filepath.Join(filepath.Dir(root), "shared", "corpus", name)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", false
	}
	return dir, true
}

// Corpus returns the corpus folder like [CorpusDir], and skips the test
// (never fails it) when the folder is absent.
func Corpus(t testing.TB, name string) string {
	t.Helper()
	dir, ok := CorpusDir(name)
	if !ok {
		t.Skipf("corpus %q not available beside the repository: skipped", name)
	}
	return dir
}

// CorpusFiles lists the files of one part of the corpus, sorted, as full
// paths (its SOURCES.tsv, which names where each file came from, left out),
// and skips the test when the corpus is absent.
func CorpusFiles(t testing.TB, name string) []string {
	t.Helper()
	dir := Corpus(t, name)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && e.Name() != "SOURCES.tsv" {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out // os.ReadDir sorts by name
}
