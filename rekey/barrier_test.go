package rekey

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile/atomictest"
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
)

// TestRunTreeOneBarrier records every write of an updatekeys run over a
// tree: each file's new content is made durable before the first rename
// (one barrier for the run), each file is synced once and each folder once,
// and every file ends with the wanted recipients.
func TestRunTreeOneBarrier(t *testing.T) {
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
	rec := &atomictest.Recorder{}
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
	lastSync, firstRename := -1, len(ops)
	for i, o := range ops {
		switch o.Kind {
		case atomictest.FileSync:
			lastSync = i
		case atomictest.Rename:
			firstRename = min(firstRename, i)
		}
	}
	if lastSync > firstRename {
		t.Fatalf("a file was synced (op %d) after the first rename (op %d): not one barrier\n%s", lastSync, firstRename, rec)
	}
	if n := rec.Count(atomictest.FileSync); n != len(paths) {
		t.Errorf("%d file syncs for %d files", n, len(paths))
	}
	if n := rec.Count(atomictest.DirSync); n != 4 {
		t.Errorf("%d folder syncs for 4 folders", n)
	}
	if run.Syncs != len(paths)+4 {
		t.Errorf("Syncs = %d, want %d", run.Syncs, len(paths)+4)
	}
}
