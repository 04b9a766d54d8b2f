package atomicfile

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSyncFSReportsErrorSeenElsewhere loses a batch's write-back on a real
// file system (ext4 on a loop device whose backing file is on a full
// tmpfs) and lets another process's syncfs see the error first, as any
// syncfs of that file system does (a second sopsfleet run in another
// repository, sync -f, a database). A descriptor opened after that
// (SyncFS opened the folder only when syncing) samples the error as
// already seen, and syncfs returns 0: CommitEach then renamed 20 files
// whose data was lost. The error must fail the batch, nothing renamed.
//
// It mounts file systems: it runs only as root with SOPSFLEET_LOOP_TESTS=1
// (and losetup, mkfs.ext4).
func TestSyncFSReportsErrorSeenElsewhere(t *testing.T) {
	if os.Getuid() != 0 || os.Getenv("SOPSFLEET_LOOP_TESTS") != "1" {
		t.Skip("needs root and SOPSFLEET_LOOP_TESTS=1 (mounts a tmpfs and a loop device)")
	}
	if !syncfsReportsErrors() {
		t.Skip("kernel before 5.8")
	}
	for _, tool := range []string{"losetup", "mkfs.ext4", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool + " not found")
		}
	}
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Skipf("%s %v: %v: %s", name, args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	base := t.TempDir()
	back, mnt := filepath.Join(base, "back"), filepath.Join(base, "mnt")
	os.Mkdir(back, 0o700)
	os.Mkdir(mnt, 0o700)
	run("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", back)
	t.Cleanup(func() { exec.Command("umount", back).Run() })
	img := filepath.Join(back, "img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 128<<20); err != nil {
		t.Fatal(err)
	}
	run("mkfs.ext4", "-q", "-F", "-O", "^has_journal", img)
	loop := run("losetup", "-f", "--show", img)
	t.Cleanup(func() { exec.Command("losetup", "-d", loop).Run() })
	run("mount", "-o", "errors=continue", loop, mnt)
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	// The descriptor SyncFS keeps on the file system would keep it busy.
	t.Cleanup(func() {
		fsWatch.Lock()
		defer fsWatch.Unlock()
		for dev, fd := range fsWatch.byDev {
			unix.Close(fd)
			delete(fsWatch.byDev, dev)
		}
		clear(fsWatch.dirs)
	})

	// Fill the backing tmpfs: from now on every write-back fails.
	filler := make([]byte, 1<<20)
	f, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for range 16 {
		f.Write(filler)
	}
	f.Sync() // fails: the backing store is full
	f.Close()
	syncfsPath(mnt) // see (and mark seen) the filler's error

	// Another process's descriptor on the file system, opened earlier.
	other, err := unix.Open(mnt, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(other)

	dir := filepath.Join(mnt, "hosts")
	os.Mkdir(dir, 0o755)
	s := NewStaged(OS{})
	data := make([]byte, 256<<10)
	for i := range data {
		data[i] = byte(i*7 + i>>8)
	}
	var names []string
	for i := range SyncFSMin + 4 {
		name := filepath.Join(dir, fmt.Sprintf("s%02d.yaml", i))
		if err := os.WriteFile(name, []byte("old\n"), 0o644); err != nil {
			t.Skipf("cannot write on the full file system: %v", err)
		}
		names = append(names, name)
	}
	for _, name := range names {
		if err := s.Stage(name, data, Options{}); err != nil {
			t.Fatalf("Stage: %v", err)
		}
	}
	// The other process syncs the file system first: it gets the error.
	if err := unix.Syncfs(other); err == nil {
		t.Skip("the write-back did not fail: cannot test")
	}
	err = s.CommitEach(context.Background(), func(string, error) {})
	if err == nil {
		t.Fatal("CommitEach succeeded: a write-back error seen by another process's syncfs was hidden, and the files were renamed")
	}
	for _, name := range names {
		b, rerr := os.ReadFile(name)
		if rerr != nil || string(b) != "old\n" {
			t.Errorf("%s was replaced after a failed write-back (%v)", name, rerr)
		}
	}
}

func syncfsPath(dir string) {
	if fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
		unix.Syncfs(fd)
		unix.Close(fd)
	}
}
