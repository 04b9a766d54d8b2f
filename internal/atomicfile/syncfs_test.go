package atomicfile_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
	"github.com/sopsfleet/sopsfleet/internal/atomicfile/atomictest"
)

// syncfsUsable reports whether the real system does SyncFS here (Linux
// 5.8 or later).
func syncfsUsable() bool {
	_, ok, _ := atomicfile.OS{}.SyncFS([]string{"."})
	return ok
}

// fakeFS is the real system with a SyncFS of its own: it records the
// folders asked and fails with err.
type fakeFS struct {
	atomicfile.OS
	calls [][]string
	err   error
}

func (f *fakeFS) SyncFS(dirs []string) (int, bool, error) {
	f.calls = append(f.calls, slices.Clone(dirs))
	return 1, true, f.err
}

func stageLast(t *testing.T, s *atomicfile.Staged, paths []string, last string) {
	t.Helper()
	for _, p := range paths {
		if err := s.Stage(p, []byte("new "+filepath.Base(p)), atomicfile.Options{Expect: []byte("old"), Last: p == last}); err != nil {
			t.Fatal(err)
		}
	}
}

// A batch of SyncFSMin files or more is made durable with one syncfs before
// the first rename (no file is fsynced on its own), the folders of the
// other files with one more before .sops.yaml (Last) is renamed, and
// .sops.yaml's folder after it.
func TestStagedSyncFSOrder(t *testing.T) {
	if !syncfsUsable() {
		t.Skip("no syncfs here (not Linux 5.8 or later)")
	}
	dir := t.TempDir()
	files := map[string]string{".sops.yaml": "old"}
	for i := range atomicfile.SyncFSMin + 4 {
		files[fmt.Sprintf("d%d/s%02d.yaml", i%3, i)] = "old"
	}
	paths := tree(t, dir, files)
	config := filepath.Join(dir, ".sops.yaml")
	rec := &atomictest.Recorder{}
	s := atomicfile.NewStaged(rec)
	stageLast(t, s, paths, config)
	if err := s.Commit(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := rec.CheckDurable(); err != nil {
		t.Fatalf("%v\n%s", err, rec)
	}
	ops := rec.Ops()
	var kinds []atomictest.Kind
	for _, o := range ops {
		if o.Kind != atomictest.Create && o.Kind != atomictest.Write && o.Kind != atomictest.Chmod && o.Kind != atomictest.Close && o.Kind != atomictest.Rename {
			kinds = append(kinds, o.Kind)
		}
	}
	// syncfs of the files; syncfs of the 3 folders d0–d2 before the config's
	// rename; one fsync of the config's folder after it.
	if want := []atomictest.Kind{atomictest.FSSync, atomictest.FSSync, atomictest.DirSync}; !slices.Equal(kinds, want) {
		t.Fatalf("syncs %v, want %v\n%s", kinds, want, rec)
	}
	cfgRename := slices.IndexFunc(ops, func(o atomictest.Op) bool { return o.Kind == atomictest.Rename && o.To == config })
	dirsSync := slices.IndexFunc(ops, func(o atomictest.Op) bool {
		return o.Kind == atomictest.FSSync && o.Dirs[0] == filepath.Join(dir, "d0") && len(o.Dirs) == 3
	})
	if dirsSync < 0 || dirsSync > cfgRename || len(ops[dirsSync].Dirs) != 3 {
		t.Fatalf("folders of the files synced at op %d (%v), .sops.yaml renamed at op %d\n%s", dirsSync, ops[max(dirsSync, 0)].Dirs, cfgRename, rec)
	}
	if fsyncs, syncfs := s.SyncCounts(); fsyncs != 1 || syncfs != 2 || s.Syncs() != 3 {
		t.Errorf("SyncCounts %d fsyncs, %d syncfs; Syncs %d", fsyncs, syncfs, s.Syncs())
	}
	for _, p := range paths {
		if content(t, p) != "new "+filepath.Base(p) {
			t.Errorf("%s = %q", p, content(t, p))
		}
	}
	noTemps(t, dir)
}

// Below SyncFSMin files, every file is fsynced on its own even where
// syncfs exists: a syncfs would also wait for unrelated dirty data.
func TestStagedSmallBatchFsyncs(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := range atomicfile.SyncFSMin - 1 {
		files[fmt.Sprintf("s%02d", i)] = "old"
	}
	paths := tree(t, dir, files)
	fake := &fakeFS{}
	rec := &atomictest.Recorder{Under: fake}
	s := atomicfile.NewStaged(rec)
	stageLast(t, s, paths, "")
	if err := s.Commit(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if len(fake.calls) != 0 || rec.Count(atomictest.FileSync) != len(paths) {
		t.Fatalf("%d syncfs calls and %d file fsyncs for %d files\n%s", len(fake.calls), rec.Count(atomictest.FileSync), len(paths), rec)
	}
	if err := rec.CheckDurable(); err != nil {
		t.Fatal(err)
	}
}

// A failing syncfs writes nothing: every target keeps its content and no
// temporary file is left, with Commit and with CommitEach (which reports
// the error for every file).
func TestStagedSyncFSFails(t *testing.T) {
	for _, each := range []bool{false, true} {
		t.Run(fmt.Sprint("each=", each), func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{}
			for i := range atomicfile.SyncFSMin {
				files[fmt.Sprintf("d%d/s%02d", i%2, i)] = "old"
			}
			paths := tree(t, dir, files)
			eio := errors.New("input/output error")
			fake := &fakeFS{err: eio}
			rec := &atomictest.Recorder{Under: fake}
			s := atomicfile.NewStaged(rec)
			stageLast(t, s, paths, "")
			var err error
			var reported []error
			if each {
				err = s.CommitEach(context.Background(), func(_ string, err error) { reported = append(reported, err) })
			} else {
				err = s.Commit(context.Background(), nil)
			}
			if !errors.Is(err, eio) {
				t.Fatalf("err = %v, want the syncfs error", err)
			}
			if each && (len(reported) != len(paths) || !errors.Is(reported[0], eio)) {
				t.Fatalf("CommitEach reported %v", reported)
			}
			if len(fake.calls) != 1 || len(fake.calls[0]) != 2 {
				t.Fatalf("syncfs calls %v, want one for the 2 folders", fake.calls)
			}
			if n := rec.Count(atomictest.Rename); n != 0 {
				t.Fatalf("%d renames after a failed syncfs", n)
			}
			for _, p := range paths {
				if content(t, p) != "old" {
					t.Fatalf("%s changed", p)
				}
			}
			noTemps(t, dir)
		})
	}
}

// CheckDurable accepts a syncfs only for the folders it names and only
// after the last write: a rename of a file whose folder no syncfs covered
// is reported, and so is a file written again after the syncfs.
func TestCheckDurableSyncFSFolders(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, map[string]string{"d0/a": "old", "d1/b": "old"})
	for _, tc := range []struct {
		name     string
		syncDirs []string
		rewrite  bool
		ok       bool
	}{
		{"both folders", []string{"d0", "d1"}, false, true},
		{"one folder", []string{"d0"}, false, false},
		{"written after", []string{"d0", "d1"}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &atomictest.Recorder{}
			var temps []atomicfile.File
			for _, d := range []string{"d0", "d1"} {
				f, err := rec.CreateTemp(filepath.Join(dir, d), ".t*")
				if err != nil {
					t.Fatal(err)
				}
				f.Write([]byte("new"))
				temps = append(temps, f)
			}
			var dirs []string
			for _, d := range tc.syncDirs {
				dirs = append(dirs, filepath.Join(dir, d))
			}
			if _, ok, err := rec.SyncFS(dirs); !ok || err != nil {
				t.Skipf("no syncfs here: %v", err)
			}
			if tc.rewrite {
				temps[1].Write([]byte("more"))
			}
			for i, f := range temps {
				f.Close()
				target := filepath.Join(dir, []string{"d0/a", "d1/b"}[i])
				if err := rec.Rename(f.Name(), target); err != nil {
					t.Fatal(err)
				}
			}
			rec.SyncFS(dirs)
			err := rec.CheckDurable()
			if (err == nil) != tc.ok {
				t.Fatalf("CheckDurable = %v, want ok %v\n%s", err, tc.ok, rec)
			}
		})
	}
}
