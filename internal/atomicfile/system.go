package atomicfile

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/sopsfleet/sopsfleet/internal/rawio"
)

// System is every file system operation this package performs, so that one
// small interface sees every write (as chezmoi's System does): a test hands
// [NewStaged] a recording implementation to prove the order of fsyncs and
// renames, which a kill test cannot (a SIGKILL keeps the page cache). The
// default is [OS].
type System interface {
	// CreateTemp creates a new file in dir, open for writing, as
	// [os.CreateTemp] does (pattern's last "*" becomes random digits).
	CreateTemp(dir, pattern string) (File, error)
	// SyncFile makes the content of the closed file name durable (fsync).
	SyncFile(name string) error
	// SyncDir makes the entries of folder dir durable (fsync of the folder).
	SyncDir(dir string) error
	// Rename replaces newpath by oldpath, as [os.Rename].
	Rename(oldpath, newpath string) error
	// Remove removes a file, as [os.Remove].
	Remove(name string) error
	// Lstat describes name without following a final symbolic link.
	Lstat(name string) (fs.FileInfo, error)
	// Stat describes name, following symbolic links.
	Stat(name string) (fs.FileInfo, error)
	// Readlink returns the target of the symbolic link name.
	Readlink(name string) (string, error)
	// EvalSymlinks returns path with every symbolic link resolved, as
	// [filepath.EvalSymlinks].
	EvalSymlinks(path string) (string, error)
	// ReadFile returns the content of name.
	ReadFile(name string) ([]byte, error)
	// ReadDir lists the folder name, as [os.ReadDir] (entries are not
	// followed: a link is reported as a link).
	ReadDir(name string) ([]fs.DirEntry, error)
}

// File is an open temporary file of a [System].
type File interface {
	io.Writer
	// Name is the path the file was created at.
	Name() string
	// Sync makes the content written so far durable (fsync).
	Sync() error
	// Close closes the file.
	Close() error
	// Chmod sets the file's permission bits.
	Chmod(mode fs.FileMode) error
	// Chown sets the file's owner and group.
	Chown(uid, gid int) error
}

// OS is the [System] of the real operating system. Its fsyncs (of files
// and of folders) are counted process-wide, see [SyncCount].
type OS struct{}

var _ System = OS{}

var syncCount atomic.Int64

// SyncCount returns how many fsyncs (of files and of folders) this process
// has made through [OS], so that a benchmark can report fsyncs per run.
func SyncCount() int64 { return syncCount.Load() }

// CreateTemp implements [System]. On unix the file is made and written
// with plain system calls (os.OpenFile would offer it to the network
// poller first, five wasted calls a file).
//
// A descriptor on the file system of dir is opened first, once per file
// system, for [OS.SyncFS] (see watchFS).
func (OS) CreateTemp(dir, pattern string) (File, error) {
	watchFS(dir)
	return createTemp(dir, pattern)
}

// SyncFile implements [System]: it opens name read-only (a temporary file
// may already have a mode without write bits) and fsyncs it, which on the
// systems sopsfleet runs on flushes the file's data whichever descriptor
// wrote it.
func (OS) SyncFile(name string) error {
	syncCount.Add(1)
	return syncFile(name)
}

// SyncDir implements [System].
func (OS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	syncCount.Add(1)
	err = d.Sync()
	d.Close()
	return err
}

// Rename implements [System].
func (OS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove implements [System].
func (OS) Remove(name string) error { return os.Remove(name) }

// Lstat implements [System].
func (OS) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(name) }

// Stat implements [System].
func (OS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// Readlink implements [System].
func (OS) Readlink(name string) (string, error) { return os.Readlink(name) }

// EvalSymlinks implements [System].
func (OS) EvalSymlinks(path string) (string, error) { return filepath.EvalSymlinks(path) }

// ReadFile implements [System].
func (OS) ReadFile(name string) ([]byte, error) { return rawio.ReadFile(name) }

// ReadDir implements [System].
func (OS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }
