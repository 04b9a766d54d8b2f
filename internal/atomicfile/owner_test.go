//go:build unix

package atomicfile_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
	"github.com/sopsfleet/sopsfleet/internal/atomicfile/atomictest"
)

func ownerOf(t *testing.T, p string) (int, int) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return int(st.Uid), int(st.Gid)
}

// Running as root (as CI does, and as a host-key run may), a rewritten file
// keeps its owner and group instead of becoming root's.
func TestOwnerKeptAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files another owner")
	}
	dir := t.TempDir()
	const uid, gid = 4321, 8765
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("old"), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
		return p
	}
	check := func(p string) {
		t.Helper()
		if u, g := ownerOf(t, p); u != uid || g != gid {
			t.Errorf("%s: owner %d:%d, want %d:%d kept", filepath.Base(p), u, g, uid, gid)
		}
		if m := mode(t, p); m != 0o640 {
			t.Errorf("%s: mode %04o, want 0640", filepath.Base(p), m)
		}
		if content(t, p) != "new" {
			t.Errorf("%s not written", p)
		}
	}

	p := mk("write.yaml")
	if err := atomicfile.WriteFile(p, []byte("new"), atomicfile.Options{}); err != nil {
		t.Fatal(err)
	}
	check(p)

	rec := &atomictest.Recorder{}
	s := atomicfile.NewStaged(rec)
	staged := []string{mk("s1.yaml"), mk(".sops.yaml")}
	// A file that root owns already gets no chown at all.
	mine := filepath.Join(dir, "mine.yaml")
	os.WriteFile(mine, []byte("old"), 0o600)
	for _, p := range append(staged, mine) {
		if err := s.Stage(p, []byte("new"), atomicfile.Options{Last: filepath.Base(p) == ".sops.yaml"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Commit(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range staged {
		check(p)
	}
	if n := rec.Count(atomictest.Chown); n != len(staged) {
		t.Errorf("%d chowns, want %d (none for a file root owns)\n%s", n, len(staged), rec)
	}
	if u, g := ownerOf(t, mine); u != 0 || g != os.Getegid() {
		t.Errorf("mine.yaml: owner %d:%d", u, g)
	}
}
