//go:build !unix

package atomicfile

import (
	"io/fs"
	"os"
)

// openForSync opens a file so that it can be fsynced: Windows flushes only
// through a handle opened for writing.
func openForSync(name string) (*os.File, error) { return os.OpenFile(name, os.O_WRONLY, 0) }

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
