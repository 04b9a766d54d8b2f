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
