//go:build !unix

package atomicfile

import (
	"io/fs"
	"os"
)

// owner is unknown here: files keep the owner the system gives them.
func owner(fs.FileInfo) (uid, gid int, ok bool) { return 0, 0, false }

// processAlive reports whether a process with this id exists.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}

// createTemp is [os.CreateTemp].
func createTemp(dir, pattern string) (File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// syncFile fsyncs the file name: Windows flushes only through a handle
// opened for writing.
func syncFile(name string) error {
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// osFile counts the fsyncs of an *os.File.
type osFile struct{ *os.File }

func (f osFile) Sync() error {
	syncCount.Add(1)
	return f.File.Sync()
}
