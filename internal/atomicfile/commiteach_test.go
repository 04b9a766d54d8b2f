package atomicfile_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// TestCommitEachAbortWaitsForRenames: CommitEach renames several files at
// once; Abort called while renames are in flight returns only after they
// ended, and no rename starts after it returned. The files renamed are
// whole and the others untouched, with no temporary file left.
func TestCommitEachAbortWaitsForRenames(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 40 {
		files[fmt.Sprintf("s%02d", i)] = "old"
	}
	paths := tree(t, dir, files)
	started := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	var aborted atomic.Bool
	var late atomic.Int32
	rec := &atomictest.Recorder{Fail: func(op atomictest.Op) error {
		if op.Kind != atomictest.Rename {
			return nil
		}
		if aborted.Load() {
			late.Add(1)
		}
		once.Do(func() { close(started) })
		<-release
		return nil
	}}
	s := atomicfile.NewStaged(rec)
	stageAll(t, s, paths)
	reported := map[string]error{}
	var commitErr error
	committed := make(chan struct{})
	go func() {
		commitErr = s.CommitEach(context.Background(), func(p string, err error) { reported[p] = err })
		close(committed)
	}()
	<-started
	abortDone := make(chan struct{})
	go func() {
		s.Abort()
		aborted.Store(true)
		close(abortDone)
	}()
	select {
	case <-abortDone:
		t.Fatal("Abort returned while a rename was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-abortDone
	<-committed
	if n := late.Load(); n != 0 {
		t.Fatalf("%d renames started after Abort returned", n)
	}
	var ie *atomicfile.IncompleteError
	if !errors.As(commitErr, &ie) || !errors.Is(commitErr, atomicfile.ErrAborted) {
		t.Fatalf("CommitEach = %v, want an IncompleteError for ErrAborted", commitErr)
	}
	written := 0
	for _, p := range paths {
		c := content(t, p)
		switch {
		case reported[p] == nil:
			written++
			if c != "new "+filepath.Base(p) {
				t.Errorf("%s reported written but holds %q", p, c)
			}
		case c != "old":
			t.Errorf("%s reported %v but holds %q", p, reported[p], c)
		}
	}
	if len(reported) != len(paths) || written != ie.Written || written == 0 || written == len(paths) {
		t.Fatalf("%d reported, %d written (IncompleteError says %d of %d)", len(reported), written, ie.Written, ie.Total)
	}
	noTemps(t, dir)
}

// TestCommitEachRenamesInParallel: renames of independent files overlap.
func TestCommitEachRenamesInParallel(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 20 {
		files[fmt.Sprintf("s%02d", i)] = "old"
	}
	paths := tree(t, dir, files)
	var mu sync.Mutex
	inflight, most := 0, 0
	second := make(chan struct{})
	var once sync.Once
	rec := &atomictest.Recorder{Fail: func(op atomictest.Op) error {
		if op.Kind != atomictest.Rename {
			return nil
		}
		mu.Lock()
		inflight++
		most = max(most, inflight)
		n := inflight
		mu.Unlock()
		if n >= 2 {
			once.Do(func() { close(second) })
		}
		// The first rename waits for a second to start: renamed one by
		// one, it would wait in vain.
		select {
		case <-second:
		case <-time.After(10 * time.Second):
		}
		mu.Lock()
		inflight--
		mu.Unlock()
		return nil
	}}
	s := atomicfile.NewStaged(rec)
	stageAll(t, s, paths)
	if err := s.CommitEach(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if most < 2 {
		t.Fatalf("at most %d renames at once", most)
	}
	if err := rec.CheckDurable(); err != nil {
		t.Fatal(err)
	}
}
