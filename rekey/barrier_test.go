package rekey

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
	"github.com/sopsfleet/sopsfleet/internal/atomicfile/atomictest"
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
)

// TestRunTreeOneBarrier records every write of an updatekeys run over a
// tree: each file's new content is made durable before the first rename
// (one barrier for the run), each file is synced once and each folder once,
// and every file ends with the wanted recipients.
func TestRunTreeOneBarrier(t *testing.T) {
	for _, syncfs := range []bool{false, true} {
		t.Run(map[bool]string{false: "fsync", true: "syncfs"}[syncfs], func(t *testing.T) {
			oneBarrier(t, syncfs)
		})
	}
}

// oneBarrier is TestRunTreeOneBarrier with files fsynced one by one, or
// with syncfs where the system has it.
func oneBarrier(t *testing.T, syncfs bool) {
	fx := newFixture(t)
	var paths []string
	for i := 0; i < 24; i++ {
		name := fmt.Sprintf("d%d/s%02d.yaml", i%4, i)
		paths = append(paths, fx.encrypt(name, "a: 1\n", 0, []string{"alice", "bob"}))
	}
	plain := filepath.Join(fx.dir, "d0", "README.md")
	if err := os.WriteFile(plain, []byte("not sops\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fx.config(0, []string{"alice"})
	rec := &atomictest.Recorder{NoSyncFS: !syncfs}
	writeSystem = rec
	defer func() { writeSystem = nil }()
	run, err := RunTree(context.Background(), []string{fx.dir}, sopsfile.DiscoverOptions{Root: fx.dir}, Options{Config: cfg, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Results) != len(paths) || len(run.Ignored) != 2 {
		t.Fatalf("%d results and %d ignored, want %d and 2, .sops.yaml and README.md (%v)", len(run.Results), len(run.Ignored), len(paths), run.Ignored)
	}
	for _, r := range run.Results {
		if r.Status != StatusUpdated {
			t.Fatalf("%s: %s %s", r.Path, r.Status, r.Error)
		}
		if r.Plan != nil {
			t.Fatalf("%s: RunTree results keep their plan (and so the file's content)", r.Path)
		}
		if fx.canOpen(r.Path, "bob") || !fx.canOpen(r.Path, "alice") {
			t.Fatalf("%s: wrong recipients", r.Path)
		}
	}
	if err := rec.CheckDurable(); err != nil {
		t.Fatalf("%v\n%s", err, rec)
	}
	// One barrier: no rename before the last file sync.
	ops := rec.Ops()
	lastSync, firstRename, firstFS := -1, len(ops), -1
	for i, o := range ops {
		switch o.Kind {
		case atomictest.FileSync:
			lastSync = i
		case atomictest.FSSync:
			// The first syncfs is the files'; a later one, the folders'.
			if firstFS < 0 {
				firstFS, lastSync = i, max(lastSync, i)
			}
		case atomictest.Rename:
			firstRename = min(firstRename, i)
		}
	}
	if lastSync > firstRename {
		t.Fatalf("a file was synced (op %d) after the first rename (op %d): not one barrier\n%s", lastSync, firstRename, rec)
	}
	if !syncfs || rec.Count(atomictest.FSSync) == 0 {
		if syncfs && syncfsHere() {
			t.Fatalf("syncfs not used for %d files\n%s", len(paths), rec)
		}
		if n := rec.Count(atomictest.FileSync); n != len(paths) {
			t.Errorf("%d file syncs for %d files", n, len(paths))
		}
		if n := rec.Count(atomictest.DirSync); n != 4 {
			t.Errorf("%d folder syncs for 4 folders", n)
		}
		if run.Syncs != len(paths)+4 || run.SyncFS != 0 {
			t.Errorf("Syncs = %d (%d syncfs), want %d", run.Syncs, run.SyncFS, len(paths)+4)
		}
		return
	}
	// One syncfs for the files, one for the 4 folders: one file system.
	if n := rec.Count(atomictest.FileSync) + rec.Count(atomictest.DirSync); n != 0 {
		t.Errorf("%d fsyncs beside syncfs\n%s", n, rec)
	}
	if run.Syncs != 2 || run.SyncFS != 2 {
		t.Errorf("Syncs = %d (%d syncfs), want 2 syncfs", run.Syncs, run.SyncFS)
	}

}

// syncfsHere reports whether the real system does syncfs (Linux 5.8 or
// later).
func syncfsHere() bool {
	_, ok, _ := atomicfile.OS{}.SyncFS([]string{"."})
	return ok
}
