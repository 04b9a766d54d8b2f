// Package atomictest has [atomicfile.System] implementations for tests: a
// [Recorder] that logs every operation (to prove the order of fsyncs and
// renames, which a kill test cannot since a SIGKILL keeps the page cache),
// and [RefuseWrites], which fails every write (to prove that a read-only
// code path never writes).
package atomictest

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
)

// Kind names an operation a [Recorder] saw.
type Kind string

// The operations a [Recorder] records. Reads (Stat, ReadFile, …) are not
// recorded.
const (
	Create   Kind = "create"  // Path: the temporary file created
	Write    Kind = "write"   // Path: the file written to
	Chmod    Kind = "chmod"   // Path; Mode
	Chown    Kind = "chown"   // Path; UID, GID
	FileSync Kind = "sync"    // Path: a file fsynced (open or by name)
	Close    Kind = "close"   // Path
	Rename   Kind = "rename"  // Path: the old name; To: the new one
	Remove   Kind = "remove"  // Path
	DirSync  Kind = "syncdir" // Path: the folder fsynced
	// FSSync is one [atomicfile.FSSyncer.SyncFS] call: Dirs are the
	// folders whose file systems were synced (so their files and entries).
	FSSync Kind = "syncfs"
)

// Op is one recorded operation.
type Op struct {
	Kind     Kind
	Path, To string
	Dirs     []string // FSSync
	Mode     fs.FileMode
	UID, GID int
	Err      error // what the underlying system returned
}

// String is the operation in one line, as [Recorder.String] lists it.
func (o Op) String() string {
	switch o.Kind {
	case Rename:
		return fmt.Sprintf("%s %s -> %s", o.Kind, o.Path, o.To)
	case Chmod:
		return fmt.Sprintf("%s %s %04o", o.Kind, o.Path, o.Mode)
	case Chown:
		return fmt.Sprintf("%s %s %d:%d", o.Kind, o.Path, o.UID, o.GID)
	case FSSync:
		return fmt.Sprintf("%s %s", o.Kind, strings.Join(o.Dirs, " "))
	}
	return fmt.Sprintf("%s %s", o.Kind, o.Path)
}

// Recorder is an [atomicfile.System] that does every operation through
// another System (the real one by default) and records it. It is safe for
// concurrent use.
type Recorder struct {
	// Under does the work; nil means [atomicfile.OS].
	Under atomicfile.System
	// Fail, when not nil, is asked before each recorded operation; an error
	// it returns is returned instead of doing the operation (and recorded).
	Fail func(op Op) error
	// NoSyncFS makes the Recorder a System without
	// [atomicfile.FSSyncer.SyncFS] (as on an old kernel, or not Linux), so
	// that a test sees files fsynced one by one. Otherwise SyncFS is done
	// by Under when it can.
	NoSyncFS bool

	mu  sync.Mutex
	ops []Op
}

var (
	_ atomicfile.System   = (*Recorder)(nil)
	_ atomicfile.FSSyncer = (*Recorder)(nil)
)

func (r *Recorder) under() atomicfile.System {
	if r.Under == nil {
		return atomicfile.OS{}
	}
	return r.Under
}

// do records op and runs f unless Fail refuses it.
func (r *Recorder) do(op Op, f func() error) error {
	var err error
	if r.Fail != nil {
		err = r.Fail(op)
	}
	if err == nil {
		err = f()
	}
	op.Err = err
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
	return err
}

// Ops returns a copy of the operations recorded so far, in order.
func (r *Recorder) Ops() []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Op(nil), r.ops...)
}

// Count is how many operations of kind k succeeded.
func (r *Recorder) Count(k Kind) int {
	n := 0
	for _, o := range r.Ops() {
		if o.Kind == k && o.Err == nil {
			n++
		}
	}
	return n
}

// Renamed lists the targets of the successful renames, in order.
func (r *Recorder) Renamed() []string {
	var out []string
	for _, o := range r.Ops() {
		if o.Kind == Rename && o.Err == nil {
			out = append(out, o.To)
		}
	}
	return out
}

// CheckDurable verifies the ordering that makes a batch of renames
// crash-safe: every file renamed was made durable after its last write and
// before the first rename of the batch — by an fsync of its own, or by a
// syncfs of a file system holding its folder — and every folder that
// received a rename was synced (fsync or syncfs) after it. It returns nil
// or an error describing the first violation.
func (r *Recorder) CheckDurable() error {
	ops := r.Ops()
	firstRename := -1
	for i, o := range ops {
		if o.Kind == Rename && o.Err == nil {
			firstRename = i
			break
		}
	}
	if firstRename < 0 {
		return nil
	}
	lastWrite := map[string]int{}
	synced := map[string]int{} // file -> index of its first successful sync after its last write
	for i, o := range ops {
		switch {
		case o.Err != nil:
		case o.Kind == Write || o.Kind == Create:
			lastWrite[o.Path] = i
			delete(synced, o.Path)
		case o.Kind == FileSync:
			if _, ok := synced[o.Path]; !ok {
				synced[o.Path] = i
			}
		case o.Kind == FSSync:
			for p := range lastWrite {
				if _, ok := synced[p]; !ok && slices.Contains(o.Dirs, filepath.Dir(p)) {
					synced[p] = i
				}
			}
		}
	}
	for i, o := range ops {
		if o.Kind != Rename || o.Err != nil {
			continue
		}
		s, ok := synced[o.Path]
		if !ok || s < lastWrite[o.Path] {
			return fmt.Errorf("op %d: %s renamed without an fsync after its last write", i, o.Path)
		}
		if s > firstRename {
			return fmt.Errorf("op %d: %s fsynced (op %d) after the first rename (op %d)", i, o.Path, s, firstRename)
		}
		dir := filepath.Dir(o.To)
		found := false
		for _, later := range ops[i+1:] {
			if later.Err == nil && ((later.Kind == DirSync && later.Path == dir) || (later.Kind == FSSync && slices.Contains(later.Dirs, dir))) {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("op %d: folder %s not fsynced after %s was renamed into it", i, dir, o.To)
		}
	}
	return nil
}

// String lists the operations, one a line.
func (r *Recorder) String() string {
	var b strings.Builder
	for _, o := range r.Ops() {
		b.WriteString(o.String())
		if o.Err != nil {
			fmt.Fprintf(&b, " (%v)", o.Err)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// CreateTemp implements [atomicfile.System].
func (r *Recorder) CreateTemp(dir, pattern string) (atomicfile.File, error) {
	var f atomicfile.File
	op := Op{Kind: Create, Path: filepath.Join(dir, pattern)}
	var err error
	if r.Fail != nil {
		err = r.Fail(op)
	}
	if err == nil {
		f, err = r.under().CreateTemp(dir, pattern)
	}
	if err == nil {
		op.Path = f.Name()
	}
	op.Err = err
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &file{f: f, r: r}, nil
}

// SyncFile implements [atomicfile.System].
func (r *Recorder) SyncFile(name string) error {
	return r.do(Op{Kind: FileSync, Path: name}, func() error { return r.under().SyncFile(name) })
}

// SyncDir implements [atomicfile.System].
func (r *Recorder) SyncDir(dir string) error {
	return r.do(Op{Kind: DirSync, Path: dir}, func() error { return r.under().SyncDir(dir) })
}

// SyncFS implements [atomicfile.FSSyncer]: it declines when NoSyncFS is
// set or Under cannot, and is recorded only when done.
func (r *Recorder) SyncFS(dirs []string) (int, bool, error) {
	fss, ok := r.under().(atomicfile.FSSyncer)
	if r.NoSyncFS || !ok {
		return 0, false, nil
	}
	var n int
	done := true
	err := r.do(Op{Kind: FSSync, Dirs: slices.Clone(dirs)}, func() (err error) {
		n, done, err = fss.SyncFS(dirs)
		return err
	})
	if !done {
		// Under declined after all (an old kernel): drop the record.
		r.mu.Lock()
		r.ops = r.ops[:len(r.ops)-1]
		r.mu.Unlock()
		return 0, false, nil
	}
	return n, true, err
}

// Rename implements [atomicfile.System].
func (r *Recorder) Rename(oldpath, newpath string) error {
	return r.do(Op{Kind: Rename, Path: oldpath, To: newpath}, func() error { return r.under().Rename(oldpath, newpath) })
}

// Remove implements [atomicfile.System].
func (r *Recorder) Remove(name string) error {
	return r.do(Op{Kind: Remove, Path: name}, func() error { return r.under().Remove(name) })
}

// Lstat implements [atomicfile.System].
func (r *Recorder) Lstat(name string) (fs.FileInfo, error) { return r.under().Lstat(name) }

// Stat implements [atomicfile.System].
func (r *Recorder) Stat(name string) (fs.FileInfo, error) { return r.under().Stat(name) }

// Readlink implements [atomicfile.System].
func (r *Recorder) Readlink(name string) (string, error) { return r.under().Readlink(name) }

// EvalSymlinks implements [atomicfile.System].
func (r *Recorder) EvalSymlinks(path string) (string, error) { return r.under().EvalSymlinks(path) }

// ReadFile implements [atomicfile.System].
func (r *Recorder) ReadFile(name string) ([]byte, error) { return r.under().ReadFile(name) }

// ReadDir implements [atomicfile.System].
func (r *Recorder) ReadDir(name string) ([]fs.DirEntry, error) { return r.under().ReadDir(name) }

// file records the operations on an open temporary file.
type file struct {
	f atomicfile.File
	r *Recorder
}

func (f *file) Name() string { return f.f.Name() }

func (f *file) Write(p []byte) (int, error) {
	var n int
	err := f.r.do(Op{Kind: Write, Path: f.f.Name()}, func() (err error) {
		n, err = f.f.Write(p)
		return err
	})
	return n, err
}

func (f *file) Sync() error {
	return f.r.do(Op{Kind: FileSync, Path: f.f.Name()}, f.f.Sync)
}

func (f *file) Close() error {
	return f.r.do(Op{Kind: Close, Path: f.f.Name()}, f.f.Close)
}

func (f *file) Chmod(mode fs.FileMode) error {
	return f.r.do(Op{Kind: Chmod, Path: f.f.Name(), Mode: mode}, func() error { return f.f.Chmod(mode) })
}

func (f *file) Chown(uid, gid int) error {
	return f.r.do(Op{Kind: Chown, Path: f.f.Name(), UID: uid, GID: gid}, func() error { return f.f.Chown(uid, gid) })
}

// ErrRefused is the error of every write [RefuseWrites] is asked to do.
var ErrRefused = errors.New("atomictest: write refused")

// RefuseWrites returns a [Recorder] over the real system that refuses every
// operation that would change a file or folder (create, rename, remove,
// sync), so that a test can prove a code path never writes.
func RefuseWrites() *Recorder {
	return &Recorder{Fail: func(op Op) error { return fmt.Errorf("%s %s: %w", op.Kind, op.Path, ErrRefused) }}
}
