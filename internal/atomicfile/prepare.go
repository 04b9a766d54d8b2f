package atomicfile

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// temp is a temporary file written next to its target but not yet renamed.
type temp struct {
	path     string // as the caller named it
	target   string // path with symbolic links resolved: what is replaced
	name     string // the temporary file
	expect   []byte
	sum      *[sha256.Size]byte
	readOnly bool // the target exists and its owner has no write bit
}

// prepare writes data to a temporary file next to the (link-resolved)
// target of path, with the target's mode and owner/group (or opts.Perm for a
// new file). created, when not nil, learns the temporary file's name as soon
// as it exists. With syncNow the content is fsynced before the file is
// closed. On error the temporary file is removed and nothing else changed.
func prepare(sys System, path string, data []byte, opts Options, syncNow bool, created func(name string)) (t *temp, err error) {
	target, err := resolve(sys, path)
	if err != nil {
		return nil, err
	}
	t = &temp{path: path, target: target, expect: opts.Expect, sum: opts.ExpectSHA256}
	perm := opts.Perm
	if perm == 0 {
		perm = 0o644
	}
	uid, gid, haveOwner := 0, 0, false
	st, err := sys.Stat(target)
	switch {
	case err == nil:
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: not a regular file", path)
		}
		perm = st.Mode().Perm()
		t.readOnly = perm&0o200 == 0
		uid, gid, haveOwner = owner(st)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	dir := filepath.Dir(target)
	unlock := lockDir(dir)
	f, err := sys.CreateTemp(dir, tempPattern(filepath.Base(target)))
	unlock()
	if err != nil {
		// Name the folder, not the random temporary name.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("create a temporary file in %q: %w", dir, err)
	}
	t.name = f.Name()
	live.Store(filepath.Base(t.name), true)
	if created != nil {
		created(t.name)
	}
	defer func() {
		if err != nil {
			f.Close()
			removeTemp(sys, t.name)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return nil, fmt.Errorf("write a temporary file in %q: %w", dir, unwrapPath(err))
	}
	if haveOwner {
		if err = keepOwner(sys, f, uid, gid); err != nil {
			return nil, fmt.Errorf("%s: keep its owner (uid %d, gid %d): %w", path, uid, gid, unwrapPath(err))
		}
	}
	// After Chown, which may clear set-id bits.
	if err = f.Chmod(perm); err != nil {
		return nil, fmt.Errorf("%s: keep its mode %04o: %w", path, perm, unwrapPath(err))
	}
	if syncNow {
		if err = f.Sync(); err != nil {
			return nil, fmt.Errorf("sync a temporary file in %q: %w", dir, unwrapPath(err))
		}
	}
	if err = f.Close(); err != nil {
		return nil, fmt.Errorf("write a temporary file in %q: %w", dir, unwrapPath(err))
	}
	return t, nil
}

// keepOwner gives the temporary file f the owner and group of the file it
// replaces when they differ from the ones it was created with (running as
// root must not re-own a user's file to root).
func keepOwner(sys System, f File, uid, gid int) error {
	fi, err := sys.Lstat(f.Name())
	if err != nil {
		return err
	}
	tu, tg, ok := owner(fi)
	if !ok || (tu == uid && tg == gid) {
		return nil
	}
	return f.Chown(uid, gid)
}

// checkExpect fails with [ErrChanged] when t's target no longer holds the
// content t was prepared from.
func (t *temp) checkExpect(sys System) error {
	if t.expect == nil && t.sum == nil {
		return nil
	}
	cur, err := sys.ReadFile(t.target)
	if err != nil || (t.expect != nil && !bytes.Equal(cur, t.expect)) || (t.sum != nil && sha256.Sum256(cur) != *t.sum) {
		return &ChangedError{Path: t.path}
	}
	return nil
}

// tempPattern is the [System.CreateTemp] pattern of a temporary file for a
// file named base: the process id in the name lets [CleanLeftovers] tell
// the leftovers of a dead run from the files of a run still going.
func tempPattern(base string) string {
	return TempPrefix + base + TempMarker + strconv.Itoa(os.Getpid()) + "-*"
}

// live holds the (base names of the) temporary files of this process that
// are on disk, so
// that [CleanLeftovers] spares them but not the leftovers of an earlier
// process that had the same id (in a container every run can be pid 1).
var live sync.Map

// removeTemp removes a temporary file of this process.
func removeTemp(sys System, name string) {
	sys.Remove(name)
	live.Delete(filepath.Base(name))
}

// renameTemp renames a temporary file of this process over its target.
func renameTemp(sys System, name, target string) error {
	err := sys.Rename(name, target)
	if err == nil {
		live.Delete(filepath.Base(name))
	}
	return err
}

// unwrapPath drops the *fs.PathError around err, whose path would be the
// random temporary name.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// dirLocks holds a mutex per folder (by path) for the creation of temporary
// files: the kernel creates one file of a folder at a time anyway (it holds
// the folder's lock, and ext4 may scan its inode bitmap meanwhile), and a
// second creator waiting inside the kernel spins on a CPU, while one
// waiting here lets the other goroutines of a batch use it.
var dirLocks sync.Map // string → *sync.Mutex

func lockDir(dir string) (unlock func()) {
	v, _ := dirLocks.LoadOrStore(dir, new(sync.Mutex))
	mu := v.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}
