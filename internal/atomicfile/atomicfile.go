// Package atomicfile replaces files so that a reader, or a crash, sees either
// the whole old content or the whole new content, never a mix or an empty file.
// It is the one way sopsfleet writes a file.
//
// # How
//
// The new content goes to a temporary file in the same folder as the target
// (so the rename cannot cross file systems), is fsynced, gets the mode of the
// file it replaces (and, where the system has owners, its owner and group),
// and is renamed over it; the folder is then fsynced so the rename itself
// survives a crash. A target that is a symbolic link is written through: the
// link's final target is replaced and the link stays a link (deciding not to
// write through a link that leaves the tree is the caller's job). On any
// error the temporary file is removed and the target is untouched.
//
// # One file, or many all or nothing
//
// [WriteFile] replaces one file. [Staged] replaces many all or nothing:
// every new content is written to its temporary file first
// ([Staged.Stage]), then [Staged.Commit] fsyncs them all in parallel,
// checks that no target changed, renames them (.sops.yaml, staged with
// [Options.Last], after the others) and syncs each folder once.
//
// # Every write through one interface
//
// Every operation goes through a [System] ([OS] by default), so that tests
// can record the order of fsyncs and renames (package atomictest) or refuse
// every write. Temporary files carry the id of the process that made them:
// [CleanLeftovers] removes those of runs that were killed.
package atomicfile

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// ErrChanged reports that the file on disk no longer holds the content it had
// when it was read, so writing would lose someone else's change.
var ErrChanged = errors.New("file changed on disk since it was read")

// ChangedError is the [ErrChanged] of one file (errors.Is(err, ErrChanged)
// holds), naming it as the caller did.
type ChangedError struct{ Path string }

func (e *ChangedError) Error() string { return e.Path + ": " + ErrChanged.Error() }

// Is makes errors.Is(e, ErrChanged) true.
func (e *ChangedError) Is(target error) bool { return target == ErrChanged }

// Options adjust [WriteFile] and [Staged.Stage].
type Options struct {
	// Perm is the mode of a file that does not exist yet. An existing file
	// keeps its own mode. Zero means 0o644.
	Perm fs.FileMode
	// Expect, when not nil, is the content the file must still have right
	// before the rename; otherwise WriteFile fails with [ErrChanged].
	Expect []byte
	// ExpectSHA256, when not nil, is the SHA-256 of the content the file
	// must still have, checked like Expect: a caller staging thousands of
	// files holds 32 bytes per file instead of each file's old content.
	ExpectSHA256 *[sha256.Size]byte
	// Last puts a [Staged] file after all the others: it is renamed only
	// when every other file is renamed and their folders synced (for
	// .sops.yaml, whose change the files must reflect first). WriteFile
	// ignores it.
	Last bool
}

// WriteFile atomically replaces the file at path with data, then fsyncs its
// folder so that the rename survives a crash (best effort: not every file
// system can sync a folder). [Staged] replaces many files all or nothing.
func WriteFile(path string, data []byte, opts Options) error {
	dir, err := replace(OS{}, path, data, opts)
	if err != nil {
		return err
	}
	OS{}.SyncDir(dir)
	return nil
}

// maxLinks bounds the symbolic links followed, as the kernel does (ELOOP).
const maxLinks = 40

// resolve follows symbolic links so that the file behind them is replaced.
// A link whose target does not exist yet resolves to that target, which is
// then created, as a shell redirection through the link would.
func resolve(sys System, path string) (string, error) {
	for i := 0; i < maxLinks; i++ {
		fi, err := sys.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		if real, err := sys.EvalSymlinks(path); err == nil {
			return real, nil
		}
		// The chain ends at a name that does not exist (or loops): follow
		// one link by hand, relative to its real folder.
		link, err := sys.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			dir, err := sys.EvalSymlinks(filepath.Dir(path))
			if err != nil {
				return "", err
			}
			link = filepath.Join(dir, link)
		}
		path = link
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// ErrLocked reports that another process holds the lock of [TryLock].
var ErrLocked = errors.New("locked by another process")
