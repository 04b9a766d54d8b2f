package atomicfile_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
	"github.com/sopsfleet/sopsfleet/internal/atomicfile/atomictest"
)

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// A read-only file is replaced (a rename needs only the folder writable)
// and keeps its mode, and ReadOnly names it so that the caller can warn.
func TestStagedReadOnlyTarget(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix file modes")
	}
	dir := t.TempDir()
	paths := tree(t, dir, map[string]string{"ro.yaml": "old", "rw.yaml": "old"})
	if err := os.Chmod(paths[0], 0o444); err != nil {
		t.Fatal(err)
	}
	s := atomicfile.NewStaged(nil)
	for _, p := range paths {
		if err := s.Stage(p, []byte("new"), atomicfile.Options{Expect: []byte("old")}); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.ReadOnly(); !slices.Equal(got, paths[:1]) {
		t.Fatalf("ReadOnly() = %v, want %v", got, paths[:1])
	}
	if err := s.Commit(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if content(t, paths[0]) != "new" || mode(t, paths[0]) != 0o444 {
		t.Fatalf("read-only file: %q mode %04o", content(t, paths[0]), mode(t, paths[0]))
	}
	noTemps(t, dir)
}

// A folder that is not writable fails at Stage, before anything is
// written, naming the folder. (As root, where every folder is writable,
// the refusal is simulated at the System.)
func TestStagedUnwritableFolder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix file modes")
	}
	dir := t.TempDir()
	paths := tree(t, dir, map[string]string{"ok/a": "old", "locked/b": "old"})
	locked := filepath.Dir(paths[0])
	os.Chmod(locked, 0o555)
	defer os.Chmod(locked, 0o755)
	rec := &atomictest.Recorder{Fail: func(op atomictest.Op) error {
		if op.Kind == atomictest.Create && filepath.Dir(op.Path) == locked {
			return &fs.PathError{Op: "open", Path: op.Path, Err: fs.ErrPermission}
		}
		return nil
	}}
	s := atomicfile.NewStaged(rec)
	if err := s.Stage(paths[1], []byte("new"), atomicfile.Options{}); err != nil {
		t.Fatal(err)
	}
	err := s.Stage(paths[0], []byte("new"), atomicfile.Options{})
	if !errors.Is(err, fs.ErrPermission) || err.Error() != fmt.Sprintf("create a temporary file in %q: permission denied", locked) {
		t.Fatalf("err = %v", err)
	}
	s.Abort()
	noTemps(t, dir)
	if content(t, paths[1]) != "old" {
		t.Fatal("written")
	}
}

// Staged files go through symbolic links as WriteFile does; two links to
// one file with the same content are one write, with different content an
// error.
func TestStagedSymlinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links")
	}
	dir := t.TempDir()
	paths := tree(t, dir, map[string]string{"real/s.yaml": "old", "other.yaml": "old"})
	real := paths[1]
	l1, l2 := filepath.Join(dir, "l1.yaml"), filepath.Join(dir, "l2.yaml")
	os.Symlink(filepath.Join("real", "s.yaml"), l1)
	os.Symlink("l1.yaml", l2)
	s := atomicfile.NewStaged(nil)
	if err := s.Stage(l1, []byte("new"), atomicfile.Options{Expect: []byte("old")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Stage(l2, []byte("new"), atomicfile.Options{Expect: []byte("old")}); err != nil {
		t.Fatalf("same file, same content: %v", err)
	}
	if err := s.Stage(real, []byte("different"), atomicfile.Options{}); err == nil || !strings.Contains(err.Error(), "staged twice with different content") {
		t.Fatalf("same file, different content: %v", err)
	}
	if n := len(s.Pending()); n != 1 {
		t.Fatalf("Pending = %v, want one file", s.Pending())
	}
	if err := s.Commit(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{l1, l2} {
		if fi, err := os.Lstat(l); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link", l)
		}
	}
	if content(t, real) != "new" {
		t.Errorf("target = %q", content(t, real))
	}
	noTemps(t, dir)
}

// A target that is a folder fails at Stage.
func TestStagedNotRegular(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "d"), 0o755)
	s := atomicfile.NewStaged(nil)
	err := s.Stage(filepath.Join(dir, "d"), []byte("x"), atomicfile.Options{})
	if err == nil || !strings.HasSuffix(err.Error(), "d: not a regular file") {
		t.Fatalf("err = %v", err)
	}
	noTemps(t, dir)
}

// Many goroutines stage at once (as the workers preparing a fleet do); the
// batch is made durable file by file, or with syncfs where the system can.
func TestStagedConcurrent(t *testing.T) {
	for _, mode := range []struct {
		name     string
		noSyncFS bool
	}{{"fsync", true}, {"syncfs", false}} {
		t.Run(mode.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{}
			for i := range 60 {
				files[fmt.Sprintf("d%d/f%02d", i%4, i)] = "old"
			}
			paths := tree(t, dir, files)
			rec := &atomictest.Recorder{NoSyncFS: mode.noSyncFS}
			s := atomicfile.NewStaged(rec)
			var wg sync.WaitGroup
			errs := make([]error, len(paths))
			for i, p := range paths {
				wg.Go(func() { errs[i] = s.Stage(p, []byte("new "+p), atomicfile.Options{Expect: []byte("old")}) })
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			if err := s.Commit(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			if err := rec.CheckDurable(); err != nil {
				t.Fatalf("%v\n%s", err, rec)
			}
			for _, p := range paths {
				if content(t, p) != "new "+p {
					t.Errorf("%s = %q", p, content(t, p))
				}
			}
			fsyncs, syncfs := s.SyncCounts()
			switch {
			case rec.Count(atomictest.FSSync) > 0:
				// One file system: once for the files, once for the folders.
				if mode.noSyncFS || rec.Count(atomictest.FSSync) != 2 || rec.Count(atomictest.FileSync)+rec.Count(atomictest.DirSync) != 0 || fsyncs != 0 || syncfs != 2 {
					t.Errorf("syncfs mode: %d syncfs, %d file and %d folder fsyncs, counts %d/%d\n%s", rec.Count(atomictest.FSSync), rec.Count(atomictest.FileSync), rec.Count(atomictest.DirSync), fsyncs, syncfs, rec)
				}
			case !mode.noSyncFS && syncfsUsable():
				t.Errorf("syncfs not used on a system that has it\n%s", rec)
			default:
				if got := rec.Count(atomictest.DirSync); got != 4 {
					t.Errorf("%d folder syncs, want 4", got)
				}
				if got := rec.Count(atomictest.FileSync); got != len(paths) || fsyncs != len(paths)+4 || syncfs != 0 {
					t.Errorf("%d file fsyncs for %d files, counts %d/%d", got, len(paths), fsyncs, syncfs)
				}
			}
			noTemps(t, dir)
		})
	}
}

// Abort from another goroutine while Stage calls run (a signal handler)
// leaves no temporary file, whatever the interleaving.
func TestStagedAbortWhileStaging(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 40 {
		files[fmt.Sprintf("f%02d", i)] = "old"
	}
	paths := tree(t, dir, files)
	s := atomicfile.NewStaged(nil)
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Go(func() {
			err := s.Stage(p, []byte("new"), atomicfile.Options{})
			if err != nil && !errors.Is(err, atomicfile.ErrAborted) {
				t.Errorf("%s: %v", p, err)
			}
		})
		if i == 20 {
			wg.Go(s.Abort)
		}
	}
	wg.Wait()
	s.Abort()
	noTemps(t, dir)
	for _, p := range paths {
		if content(t, p) != "old" {
			t.Errorf("%s written", p)
		}
	}
}

// The plain WriteFile goes through the same steps: content synced before
// its rename, folder synced after.
func TestWriteFileDurableOrder(t *testing.T) {
	dir := t.TempDir()
	paths := tree(t, dir, map[string]string{"a": "old"})
	rec := &atomictest.Recorder{}
	s := atomicfile.NewStaged(rec)
	if err := s.Stage(paths[0], []byte("new"), atomicfile.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := rec.CheckDurable(); err != nil {
		t.Fatal(err)
	}
	// The check itself fails on a bad order.
	bad := &atomictest.Recorder{}
	f, err := bad.CreateTemp(dir, ".x"+atomicfile.TempMarker+"*")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x"))
	f.Close()
	bad.Rename(f.Name(), filepath.Join(dir, "x"))
	if err := bad.CheckDurable(); err == nil || !strings.Contains(err.Error(), "without an fsync") {
		t.Fatalf("CheckDurable on a rename without fsync: %v", err)
	}
	bad2 := &atomictest.Recorder{}
	f, _ = bad2.CreateTemp(dir, ".y"+atomicfile.TempMarker+"*")
	f.Write([]byte("y"))
	f.Sync()
	f.Close()
	bad2.Rename(f.Name(), filepath.Join(dir, "y"))
	if err := bad2.CheckDurable(); err == nil || !strings.Contains(err.Error(), "not fsynced after") {
		t.Fatalf("CheckDurable on a rename without folder sync: %v", err)
	}
}

// RefuseWrites proves a path never writes: Stage fails at once and leaves
// the tree as it was.
func TestRefuseWrites(t *testing.T) {
	dir := t.TempDir()
	paths := tree(t, dir, map[string]string{"a": "old"})
	s := atomicfile.NewStaged(atomictest.RefuseWrites())
	if err := s.Stage(paths[0], []byte("new"), atomicfile.Options{}); !errors.Is(err, atomictest.ErrRefused) {
		t.Fatalf("err = %v", err)
	}
	if content(t, paths[0]) != "old" || len(entriesOf(t, dir)) != 1 {
		t.Fatal("written")
	}
}

func entriesOf(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// ExpectSHA256 guards like Expect, from a digest.
func TestExpectSHA256(t *testing.T) {
	dir := t.TempDir()
	paths := tree(t, dir, map[string]string{"a": "old", "b": "old"})
	sum := sha256.Sum256([]byte("old"))
	s := atomicfile.NewStaged(nil)
	for _, p := range paths {
		if err := s.Stage(p, []byte("new"), atomicfile.Options{ExpectSHA256: &sum}); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(paths[1], []byte("olD"), 0o600)
	if err := s.Commit(context.Background(), nil); !errors.Is(err, atomicfile.ErrChanged) || !strings.HasPrefix(err.Error(), paths[1]+": ") {
		t.Fatalf("err = %v", err)
	}
	if content(t, paths[0]) != "old" {
		t.Fatal("written")
	}
	if err := atomicfile.WriteFile(paths[0], []byte("new"), atomicfile.Options{ExpectSHA256: &sum}); err != nil {
		t.Fatal(err)
	}
	if content(t, paths[0]) != "new" {
		t.Fatal("not written")
	}
}

// Commit issues the fsyncs of the files several at once, never more than
// DefaultWorkers.
func TestStagedSyncsInParallel(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows fsyncs each file at Stage")
	}
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 3 * atomicfile.DefaultWorkers {
		files[fmt.Sprintf("f%02d", i)] = "old"
	}
	paths := tree(t, dir, files)
	var mu sync.Mutex
	inflight, most := 0, 0
	second := make(chan struct{})
	var once sync.Once
	rec := &atomictest.Recorder{NoSyncFS: true, Fail: func(op atomictest.Op) error {
		if op.Kind != atomictest.FileSync {
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
		// The first fsync waits for a second one to start: with one
		// worker it would wait in vain.
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
	for _, p := range paths {
		if err := s.Stage(p, []byte("new"), atomicfile.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Commit(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if most < 2 || most > atomicfile.DefaultWorkers {
		t.Fatalf("at most %d fsyncs at once, want 2 to %d", most, atomicfile.DefaultWorkers)
	}
	if err := rec.CheckDurable(); err != nil {
		t.Fatal(err)
	}
}
