package atomicfile

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

var _ FSSyncer = OS{}

// SyncFS implements [FSSyncer] with one syncfs(2) per file system (the
// folders are grouped by device). It declines (ok false) on kernels
// before 5.8, whose syncfs reports no write-back error: a failed write
// would pass unnoticed there, which a per-file fsync would report.
//
// syncfs reports the write-back errors of the file system that no one has
// seen yet, as fsync of a newly opened file does for that file; like
// [OS.SyncFile], it relies on no other process having consumed them.
func (OS) SyncFS(dirs []string) (int, bool, error) {
	if !syncfsReportsErrors() {
		return 0, false, nil
	}
	byDev := map[uint64]string{}
	for _, d := range dirs {
		var st syscall.Stat_t
		if err := syscall.Stat(d, &st); err != nil {
			return 0, true, fmt.Errorf("sync the file system of %s: %w", d, err)
		}
		if _, ok := byDev[uint64(st.Dev)]; !ok {
			byDev[uint64(st.Dev)] = d
		}
	}
	one := make([]string, 0, len(byDev))
	for _, d := range byDev {
		one = append(one, d)
	}
	sort.Strings(one)
	for _, d := range one {
		var st syscall.Stat_t
		syscall.Stat(d, &st)
		if err := syncfsWatched(uint64(st.Dev), d); err != nil {
			return 0, true, fmt.Errorf("sync the file system of %s: %w", d, err)
		}
	}
	return len(one), true, nil
}

// fsWatch holds, per file system, a folder descriptor opened before this
// process created its first temporary file there ([OS.CreateTemp] calls
// watchFS), for [OS.SyncFS]. syncfs reports the write-back errors that
// happened since its descriptor was opened, and those still unseen from
// before; a descriptor opened only when syncing misses an error that
// another process's syncfs of the same file system saw in between (a
// second sopsfleet run in another repository, sync -f, a database): the
// batch's lost data would be renamed over the files. These descriptors
// stay open for the life of the process; each syncfs on one advances it,
// so the next batch is checked from there.
var fsWatch struct {
	sync.Mutex
	dirs  map[string]bool
	byDev map[uint64]int
}

// watchFS opens a descriptor on the file system of dir, unless one is
// open already.
func watchFS(dir string) {
	if !syncfsReportsErrors() {
		return
	}
	fsWatch.Lock()
	seen := fsWatch.dirs[dir]
	fsWatch.Unlock()
	if seen {
		return
	}
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return
	}
	fsWatch.Lock()
	defer fsWatch.Unlock()
	if fsWatch.dirs == nil {
		fsWatch.dirs, fsWatch.byDev = map[string]bool{}, map[uint64]int{}
	}
	fsWatch.dirs[dir] = true
	if _, ok := fsWatch.byDev[uint64(st.Dev)]; ok {
		return
	}
	if fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0); err == nil {
		fsWatch.byDev[uint64(st.Dev)] = fd
	}
}

// syncfsWatched syncs the file system dev (holding dir) through its
// watched descriptor, else through dir opened now.
func syncfsWatched(dev uint64, dir string) error {
	fsWatch.Lock()
	fd, ok := fsWatch.byDev[dev]
	fsWatch.Unlock()
	if !ok {
		return syncfs(dir)
	}
	syncfsCount.Add(1)
	for {
		err := unix.Syncfs(fd)
		if err != unix.EINTR {
			return err
		}
	}
}

// syncfs opens the folder dir and calls syncfs(2) on it.
func syncfs(dir string) error {
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	syncfsCount.Add(1)
	for {
		err := unix.Syncfs(fd)
		if err != unix.EINTR {
			return err
		}
	}
}

// syncfsReportsErrors is whether the running kernel is Linux 5.8 or
// later, the first whose syncfs returns write-back errors.
var syncfsReportsErrors = sync.OnceValue(func() bool {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return false
	}
	var b strings.Builder
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b.WriteByte(byte(c))
	}
	return kernelAtLeast(b.String(), 5, 8)
})

// kernelAtLeast reports whether the release string of uname(2) ("6.1.0-18-
// amd64", "5.8.0") names version major.minor or later; an unreadable
// release is not.
func kernelAtLeast(release string, major, minor int) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false
	}
	maj, err := strconv.Atoi(parts[0])
	if err != nil {
		return false
	}
	mstr := parts[1]
	if i := strings.IndexFunc(mstr, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		mstr = mstr[:i]
	}
	min, err := strconv.Atoi(mstr)
	if err != nil {
		return false
	}
	return maj > major || (maj == major && min >= minor)
}
