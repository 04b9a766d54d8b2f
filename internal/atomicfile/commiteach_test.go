package atomicfile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
	"github.com/sopsfleet/sopsfleet/internal/atomicfile/atomictest"
)

// stageAll stages "new NAME" for every path, expecting its current content.
func stageAll(t *testing.T, s *atomicfile.Staged, paths []string) {
	t.Helper()
	for _, p := range paths {
		if err := s.Stage(p, []byte("new "+filepath.Base(p)), atomicfile.Options{Expect: []byte(content(t, p))}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCommitEachKeepsGoing: a file changed on disk after it was staged is
// left alone and reported; the others are written, every file synced before
// the first rename, and no temporary file is left.
func TestCommitEachKeepsGoing(t *testing.T) {
	dir := t.TempDir()
	paths := tree(t, dir, map[string]string{"a/s1.yaml": "old 1", "a/s2.json": "old 2", "b/s3.env": "old 3"})
	rec := &atomictest.Recorder{}
	s := atomicfile.NewStaged(rec)
	stageAll(t, s, paths)
	changed := filepath.Join(dir, "a/s2.json")
	if err := os.WriteFile(changed, []byte("edited by someone"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := map[string]error{}
	if err := s.CommitEach(context.Background(), func(p string, err error) { got[p] = err }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(paths) {
		t.Fatalf("done called for %d files, want %d", len(got), len(paths))
	}
	for _, p := range paths {
		switch {
		case p == changed:
			if !errors.Is(got[p], atomicfile.ErrChanged) {
				t.Errorf("%s: err %v, want ErrChanged", p, got[p])
			}
			if c := content(t, p); c != "edited by someone" {
				t.Errorf("%s was overwritten: %q", p, c)
			}
		default:
			if got[p] != nil {
				t.Errorf("%s: %v", p, got[p])
			}
			if c := content(t, p); !strings.HasPrefix(c, "new ") {
				t.Errorf("%s not written: %q", p, c)
			}
		}
	}
	if err := rec.CheckDurable(); err != nil {
		t.Fatalf("%v\n%s", err, rec)
	}
	noTemps(t, dir)
	if n := rec.Count(atomictest.DirSync); n != 2 {
		t.Errorf("%d folder syncs, want one per folder written (2)\n%s", n, rec)
	}
}

// TestCommitEachCancelled: cancelled before the renames, nothing is
// written, every file is reported and no temporary file is left.
func TestCommitEachCancelled(t *testing.T) {
	dir := t.TempDir()
	paths := tree(t, dir, map[string]string{"s1.yaml": "old 1", "s2.yaml": "old 2"})
	s := atomicfile.NewStaged(nil)
	stageAll(t, s, paths)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	err := s.CommitEach(ctx, func(p string, err error) {
		n++
		if err == nil {
			t.Errorf("%s reported written", p)
		}
	})
	var ie *atomicfile.IncompleteError
	if !errors.As(err, &ie) && !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want an IncompleteError or context.Canceled", err)
	}
	for _, p := range paths {
		if c := content(t, p); strings.HasPrefix(c, "new") {
			t.Errorf("%s written after cancel", p)
		}
	}
	noTemps(t, dir)
	if n != len(paths) {
		t.Errorf("done called %d times, want %d", n, len(paths))
	}
}
