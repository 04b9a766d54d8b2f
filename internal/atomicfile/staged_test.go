package atomicfile_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
	"github.com/sopsfleet/sopsfleet/internal/atomicfile/atomictest"
)

// tree makes files under dir (name → content, mode 0600) and returns their
// paths in name order.
func tree(t *testing.T, dir string, files map[string]string) []string {
	t.Helper()
	var paths []string
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths
}

func content(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noTemps fails when a temporary file of this package is anywhere under dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && atomicfile.IsTemp(p) {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

// The recording proves the crash-safe order: every temporary file synced
// before any rename, .sops.yaml (Last) renamed last, after the other
// folders were synced, and every touched folder synced after its renames.
func TestStagedCommitOrder(t *testing.T) {
	dir := t.TempDir()
	paths := tree(t, dir, map[string]string{
		".sops.yaml":    "old config",
		"a/s1.yaml":     "old 1",
		"a/s2.json":     "old 2",
		"b/c/s3.env":    "old 3",
		"s4.ini":        "old 4",
		"b/s5.binary":   "old 5",
		"b/c/d/s6.yaml": "old 6",
	})
	rec := &atomictest.Recorder{}
	s := atomicfile.NewStaged(rec)
	config := filepath.Join(dir, ".sops.yaml")
	// .sops.yaml staged first, but marked Last.
	if err := s.Stage(config, []byte("new config"), atomicfile.Options{Expect: []byte("old config"), Last: true}); err != nil {
		t.Fatal(err)
	}
	var others []string
	for _, p := range paths {
		if p == config {
			continue
		}
		others = append(others, p)
		if err := s.Stage(p, []byte("new "+filepath.Base(p)), atomicfile.Options{Expect: []byte(content(t, p))}); err != nil {
			t.Fatal(err)
		}
	}
	if rec.Count(atomictest.Rename) != 0 || rec.Count(atomictest.FileSync) != 0 {
		t.Fatalf("Stage synced or renamed:\n%s", rec)
	}
	for _, p := range paths {
		if strings.HasPrefix(content(t, p), "new") {
			t.Fatalf("%s visible before Commit", p)
		}
	}
	if n := len(s.Pending()); n != len(paths) {
		t.Fatalf("Pending lists %d files, want %d", n, len(paths))
	}
	var progress []string
	if err := s.Commit(context.Background(), func(p string) { progress = append(progress, p) }); err != nil {
		t.Fatal(err)
	}
	if err := rec.CheckDurable(); err != nil {
		t.Fatalf("%v\n%s", err, rec)
	}
	renamed := rec.Renamed()
	want := append(append([]string(nil), others...), config)
	if !slices.Equal(renamed, want) {
		t.Fatalf("renamed %v, want Stage order with .sops.yaml last %v", renamed, want)
	}
	if !slices.Equal(progress, want) {
		t.Fatalf("progress %v, want %v", progress, want)
	}
	// The folders of the other files are synced before .sops.yaml is
	// renamed, and .sops.yaml's folder after it.
	ops := rec.Ops()
	cfgRename := slices.IndexFunc(ops, func(o atomictest.Op) bool { return o.Kind == atomictest.Rename && o.To == config })
	for _, p := range others {
		d := filepath.Dir(p)
		i := slices.IndexFunc(ops, func(o atomictest.Op) bool { return o.Kind == atomictest.DirSync && o.Path == d })
		if i < 0 || i > cfgRename {
			t.Errorf("folder %s synced at op %d, want before .sops.yaml's rename (op %d)\n%s", d, i, cfgRename, rec)
		}
	}
	if i := slices.IndexFunc(ops[cfgRename:], func(o atomictest.Op) bool { return o.Kind == atomictest.DirSync && o.Path == dir }); i < 0 {
		t.Errorf(".sops.yaml's folder not synced after its rename\n%s", rec)
	}
	// One fsync per file and one per folder per phase: 7 files, folders
	// dir, a, b, b/c, b/c/d, then dir again for .sops.yaml.
	if got, want := rec.Count(atomictest.FileSync), len(paths); got != want {
		t.Errorf("%d file fsyncs, want %d", got, want)
	}
	if got, want := rec.Count(atomictest.DirSync), 6; got != want {
		t.Errorf("%d folder fsyncs, want %d\n%s", got, want, rec)
	}
	if got := s.Syncs(); got != len(paths)+6 {
		t.Errorf("Syncs() = %d, want %d", got, len(paths)+6)
	}
	for _, p := range others {
		if got := content(t, p); got != "new "+filepath.Base(p) {
			t.Errorf("%s = %q", p, got)
		}
	}
	if content(t, config) != "new config" {
		t.Errorf(".sops.yaml = %q", content(t, config))
	}
	if len(s.Pending()) != 0 {
		t.Errorf("Pending after Commit: %v", s.Pending())
	}
	noTemps(t, dir)
	if err := s.Commit(context.Background(), nil); err == nil {
		t.Error("a second Commit succeeded")
	}
	if err := s.Stage(config, nil, atomicfile.Options{}); err == nil {
		t.Error("Stage after Commit succeeded")
	}
}

// A file changed since it was read (one of many) fails the whole Commit:
// nothing is renamed, every failing file is named, no temporary file stays.
func TestStagedExpectAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	paths := tree(t, dir, map[string]string{"a": "old a", "b": "old b", "c": "old c", ".sops.yaml": "old config"})
	rec := &atomictest.Recorder{}
	s := atomicfile.NewStaged(rec)
	for _, p := range paths {
		if err := s.Stage(p, []byte("new"), atomicfile.Options{Expect: []byte(content(t, p)), Last: filepath.Base(p) == ".sops.yaml"}); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(paths[1], []byte("edited"), 0o600) // a
	os.Remove(paths[3])                             // c
	err := s.Commit(context.Background(), nil)
	if !errors.Is(err, atomicfile.ErrChanged) {
		t.Fatalf("err = %v, want ErrChanged", err)
	}
	for _, p := range []string{paths[1], paths[3]} {
		if !strings.Contains(err.Error(), p+": ") {
			t.Errorf("error %q does not name %s", err, p)
		}
	}
	if strings.Contains(err.Error(), paths[2]+": ") {
		t.Errorf("error %q names the unchanged %s", err, paths[2])
	}
	if n := rec.Count(atomictest.Rename); n != 0 {
		t.Fatalf("%d renames after a failed check\n%s", n, rec)
	}
	if content(t, paths[0]) != "old config" || content(t, paths[2]) != "old b" {
		t.Error("a file changed")
	}
	noTemps(t, dir)
	if len(s.Pending()) != 0 {
		t.Errorf("Pending: %v", s.Pending())
	}
}

// A failing fsync (here: refused) is a failure before the first rename.
func TestStagedSyncFailure(t *testing.T) {
	dir := t.TempDir()
	paths := tree(t, dir, map[string]string{"a": "old", "b": "old"})
	rec := &atomictest.Recorder{Fail: func(op atomictest.Op) error {
		if op.Kind == atomictest.FileSync && strings.Contains(op.Path, ".b"+atomicfile.TempMarker) {
			return errors.New("input/output error")
		}
		return nil
	}}
	s := atomicfile.NewStaged(rec)
	for _, p := range paths {
		if err := s.Stage(p, []byte("new"), atomicfile.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	err := s.Commit(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), paths[1]+": sync its new content: input/output error") || strings.Contains(err.Error(), atomicfile.TempMarker) {
		t.Fatalf("err = %v", err)
	}
	if rec.Count(atomictest.Rename) != 0 || content(t, paths[0]) != "old" {
		t.Fatalf("written after a failed sync\n%s", rec)
	}
	noTemps(t, dir)
}

// A failing rename part-way stops Commit: what was renamed stays (and its
// folder is synced), the rest is untouched, Last is not written.
func TestStagedRenameFailure(t *testing.T) {
	dir := t.TempDir()
	paths := tree(t, dir, map[string]string{"a": "old", "b": "old", "c": "old", ".sops.yaml": "old"})
	rec := &atomictest.Recorder{Fail: func(op atomictest.Op) error {
		if op.Kind == atomictest.Rename && filepath.Base(op.To) == "b" {
			return errors.New("no space left on device")
		}
		return nil
	}}
	s := atomicfile.NewStaged(rec)
	for _, p := range paths {
		if err := s.Stage(p, []byte("new"), atomicfile.Options{Last: filepath.Base(p) == ".sops.yaml"}); err != nil {
			t.Fatal(err)
		}
	}
	err := s.Commit(context.Background(), nil)
	var ie *atomicfile.IncompleteError
	if !errors.As(err, &ie) || ie.Written != 1 || ie.Total != 4 {
		t.Fatalf("err = %#v", err)
	}
	if want := "stopped after writing 1 of 4 files: " + paths[2] + ": no space left on device"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	got := []string{content(t, paths[0]), content(t, paths[1]), content(t, paths[2]), content(t, paths[3])}
	if !slices.Equal(got, []string{"old", "new", "old", "old"}) {
		t.Errorf(".sops.yaml, a, b, c = %q", got)
	}
	if err := rec.CheckDurable(); err != nil {
		t.Errorf("%v\n%s", err, rec)
	}
	noTemps(t, dir)
}

// Cancelling the context stops Commit between renames; the remaining
// temporary files are removed and .sops.yaml (Last) is not written.
func TestStagedCancelBetweenRenames(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{".sops.yaml": "old"}
	for i := range 10 {
		files[fmt.Sprintf("f%02d", i)] = "old"
	}
	paths := tree(t, dir, files)
	s := atomicfile.NewStaged(nil)
	for _, p := range paths {
		if err := s.Stage(p, []byte("new"), atomicfile.Options{Last: filepath.Base(p) == ".sops.yaml"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := s.Commit(ctx, func(string) {
		n++
		if n == 3 {
			cancel() // as a SIGINT handler would
		}
	})
	var ie *atomicfile.IncompleteError
	if !errors.As(err, &ie) || ie.Written != 3 || ie.Total != 11 || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	newer := 0
	for _, p := range paths {
		if content(t, p) == "new" {
			newer++
		}
	}
	if newer != 3 || content(t, paths[0]) != "old" {
		t.Fatalf("%d files new (want 3), .sops.yaml %q", newer, content(t, paths[0]))
	}
	noTemps(t, dir)
	if len(s.Pending()) != 0 {
		t.Errorf("Pending: %v", s.Pending())
	}
}

// A context cancelled before Commit writes nothing.
func TestStagedCancelledBeforeCommit(t *testing.T) {
	dir := t.TempDir()
	paths := tree(t, dir, map[string]string{"a": "old", "b": "old"})
	s := atomicfile.NewStaged(nil)
	for _, p := range paths {
		if err := s.Stage(p, []byte("new"), atomicfile.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Commit(ctx, nil)
	var ie *atomicfile.IncompleteError
	if !errors.As(err, &ie) || ie.Written != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	for _, p := range paths {
		if content(t, p) != "old" {
			t.Errorf("%s written", p)
		}
	}
	noTemps(t, dir)
}

// Abort removes every temporary file and is idempotent; nothing is written.
func TestStagedAbort(t *testing.T) {
	dir := t.TempDir()
	paths := tree(t, dir, map[string]string{"a": "old", "sub/b": "old"})
	s := atomicfile.NewStaged(nil)
	for _, p := range paths {
		if err := s.Stage(p, []byte("new"), atomicfile.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	pending := s.Pending()
	if len(pending) != 2 {
		t.Fatalf("Pending = %v", pending)
	}
	for _, p := range pending {
		if !atomicfile.IsTemp(p) {
			t.Errorf("pending %s is not a temporary file name", p)
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("pending %s: %v", p, err)
		}
	}
	s.Abort()
	s.Abort()
	noTemps(t, dir)
	if err := s.Stage(paths[0], []byte("x"), atomicfile.Options{}); !errors.Is(err, atomicfile.ErrAborted) {
		t.Errorf("Stage after Abort: %v", err)
	}
	if err := s.Commit(context.Background(), nil); !errors.Is(err, atomicfile.ErrAborted) {
		t.Errorf("Commit after Abort: %v", err)
	}
	for _, p := range paths {
		if content(t, p) != "old" {
			t.Errorf("%s written", p)
		}
	}
}
