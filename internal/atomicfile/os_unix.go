//go:build unix

package atomicfile

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// owner returns the numeric owner and group of a file.
func owner(fi fs.FileInfo) (uid, gid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

// processAlive reports whether a process with this id exists (it may belong
// to another user: that is still a live process).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// createTemp is [os.CreateTemp] with plain system calls: the pattern's last
// "*" becomes random digits, and the file is created with O_EXCL, mode
// 0600, open for writing.
func createTemp(dir, pattern string) (File, error) {
	prefix, suffix := pattern, ""
	if i := strings.LastIndexByte(pattern, '*'); i >= 0 {
		prefix, suffix = pattern[:i], pattern[i+1:]
	}
	if strings.ContainsRune(prefix+suffix, filepath.Separator) {
		return nil, &fs.PathError{Op: "createtemp", Path: pattern, Err: errors.New("pattern contains path separator")}
	}
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10)+suffix)
		fd, err := openRetry(name, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o600)
		if err == syscall.EEXIST && try < 10000 {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &unixFile{fd: fd, name: name}, nil
	}
}

// openRetry is open(2), again after an interruption.
func openRetry(name string, flags int, perm uint32) (int, error) {
	for {
		fd, err := syscall.Open(name, flags, perm)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

// syncFile fsyncs the file name through a read-only descriptor.
func syncFile(name string) error {
	fd, err := openRetry(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: name, Err: err}
	}
	err = fsyncRetry(fd)
	if cerr := syscall.Close(fd); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return &fs.PathError{Op: "sync", Path: name, Err: err}
	}
	return nil
}

func fsyncRetry(fd int) error {
	for {
		err := syscall.Fsync(fd)
		if err != syscall.EINTR {
			return err
		}
	}
}

// unixFile is a temporary file written with plain system calls.
type unixFile struct {
	fd   int
	name string
}

func (f *unixFile) Name() string { return f.name }

func (f *unixFile) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := syscall.Write(f.fd, p[done:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return done, &fs.PathError{Op: "write", Path: f.name, Err: err}
		}
		if n == 0 {
			return done, &fs.PathError{Op: "write", Path: f.name, Err: syscall.EIO}
		}
		done += n
	}
	return done, nil
}

func (f *unixFile) Sync() error {
	syncCount.Add(1)
	if err := fsyncRetry(f.fd); err != nil {
		return &fs.PathError{Op: "sync", Path: f.name, Err: err}
	}
	return nil
}

func (f *unixFile) Close() error {
	if f.fd < 0 {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	err := syscall.Close(f.fd)
	f.fd = -1
	if err != nil {
		return &fs.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}

func (f *unixFile) Chmod(mode fs.FileMode) error {
	for {
		err := syscall.Fchmod(f.fd, uint32(mode.Perm()))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "chmod", Path: f.name, Err: err}
		}
		return nil
	}
}

func (f *unixFile) Chown(uid, gid int) error {
	for {
		err := syscall.Fchown(f.fd, uid, gid)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "chown", Path: f.name, Err: err}
		}
		return nil
	}
}
