package atomicfile_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
)

// CleanLeftovers removes the temporary files of dead runs (and of older
// versions, whose names carry no process id, and of earlier processes whose
// id is now this one's or a newer process's), and nothing else: not the
// files of a live process, not a link or a folder with such a name, not a
// file whose name only looks close, not files in subfolders.
func TestCleanLeftovers(t *testing.T) {
	dir := t.TempDir()
	dead := exec.Command(os.Args[0], "-test.run=^$")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadPID := strconv.Itoa(dead.Process.Pid)
	livePID := strconv.Itoa(os.Getppid())
	self := strconv.Itoa(os.Getpid())
	m := atomicfile.TempMarker
	files := map[string]bool{ // name → removed
		".s.yaml" + m + deadPID + "-123": true,
		".s.json" + m + "987654":         true, // older form
		".s.env" + m + livePID + "-5":    false,
		".s.ini" + m + self + "-5":       true, // this pid, not this process's file

		"s.yaml":                false,
		".s.yaml":               false,
		".s.yaml" + m + "12x":   false,
		"sub/.t.yaml" + m + "1": false, // not this folder
	}
	for name := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if runtime.GOOS != "windows" {
		outside := filepath.Join(t.TempDir(), "precious")
		os.WriteFile(outside, []byte("keep"), 0o600)
		if err := os.Symlink(outside, filepath.Join(dir, ".l"+m+"1")); err != nil {
			t.Fatal(err)
		}
		files[".l"+m+"1"] = false
		defer func() {
			if content(t, outside) != "keep" {
				t.Error("the link's target changed")
			}
		}()
	}
	if runtime.GOOS == "linux" {
		// The live pid's process started after this file was written: the
		// id was reused, the file is a leftover.
		old := ".old" + m + livePID + "-9"
		p := filepath.Join(dir, old)
		os.WriteFile(p, []byte("x"), 0o600)
		hourAgo := time.Now().Add(-time.Hour)
		if err := os.Chtimes(p, hourAgo, hourAgo); err != nil {
			t.Fatal(err)
		}
		files[old] = true
	}
	os.Mkdir(filepath.Join(dir, ".d"+m+"1"), 0o755)
	files[".d"+m+"1"] = false

	removed, err := atomicfile.CleanLeftovers(dir, filepath.Join(dir, "missing"), dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for name, gone := range files {
		p := filepath.Join(dir, name)
		_, err := os.Lstat(p)
		if gone {
			want = append(want, p)
			if err == nil {
				t.Errorf("%s kept", name)
			}
		} else if err != nil {
			t.Errorf("%s removed", name)
		}
	}
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
}

// The temporary files of a Staged run in progress survive a CleanLeftovers
// of their folder (this process is alive), so a concurrent run cannot break
// this one's Commit.
func TestCleanLeftoversKeepsLiveRun(t *testing.T) {
	dir := t.TempDir()
	paths := tree(t, dir, map[string]string{"a": "old"})
	s := atomicfile.NewStaged(nil)
	if err := s.Stage(paths[0], []byte("new"), atomicfile.Options{}); err != nil {
		t.Fatal(err)
	}
	if removed, err := atomicfile.CleanLeftovers(dir); err != nil || len(removed) != 0 {
		t.Fatalf("removed %v, %v", removed, err)
	}
	if err := s.Commit(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if content(t, paths[0]) != "new" {
		t.Fatal("not written")
	}
}
