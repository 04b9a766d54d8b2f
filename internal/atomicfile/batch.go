package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// TempPrefix and TempMarker frame the names of the temporary files: a
// temporary file for "name" is ".name" + TempMarker + random digits, in the
// folder of name. A process killed between creating and renaming it leaves
// it behind: [IsTemp] recognises such files so that tools walking a tree
// can skip them.
const (
	TempPrefix = "."
	TempMarker = ".sopsfleet-"
)

// IsTemp reports whether the base name of path is the name of a temporary
// file made by this package.
func IsTemp(path string) bool {
	base := filepath.Base(path)
	if len(base) < len(TempPrefix)+1 || base[:len(TempPrefix)] != TempPrefix {
		return false
	}
	i := strings.LastIndex(base, TempMarker)
	if i <= len(TempPrefix) {
		return false
	}
	rest := base[i+len(TempMarker):]
	if rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Batch replaces many files, each one atomically exactly as [WriteFile]
// does — temporary file in the same folder, fsync, mode kept, rename, links
// written through, [Options.Expect] checked right before the rename — except
// that the folders are fsynced once each, by [Batch.Sync], instead of once
// per file. Every file still goes from its whole old content to its whole
// new content (its data is on disk before the rename); the batch only
// defers making the renames themselves durable until Sync.
//
// WriteFile may be called from several goroutines at once: the fsyncs of
// the files then overlap, which is where most of the time of a large batch
// goes.
type Batch struct {
	mu   sync.Mutex
	dirs map[string]bool
}

// NewBatch returns an empty batch.
func NewBatch() *Batch { return &Batch{dirs: map[string]bool{}} }

// WriteFile atomically replaces the file at path with data and records its
// folder for [Batch.Sync]. On any error the target is untouched.
func (b *Batch) WriteFile(path string, data []byte, opts Options) error {
	dir, err := replace(path, data, opts)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.dirs[dir] = true
	b.mu.Unlock()
	return nil
}

// Sync fsyncs every folder a file was written to since the last Sync, once
// each, so that the renames survive a crash. Like [WriteFile] it is best
// effort: not every file system can sync a folder, and the files' content
// is already on disk.
func (b *Batch) Sync() {
	b.mu.Lock()
	dirs := make([]string, 0, len(b.dirs))
	for d := range b.dirs {
		dirs = append(dirs, d)
	}
	b.dirs = map[string]bool{}
	b.mu.Unlock()
	sort.Strings(dirs)
	for _, dir := range dirs {
		syncDir(dir)
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// replace is [WriteFile] without the fsync of the folder, which it returns.
func replace(path string, data []byte, opts Options) (dir string, err error) {
	target, err := resolve(path)
	if err != nil {
		return "", err
	}
	perm := opts.Perm
	if perm == 0 {
		perm = 0o644
	}
	if st, err := os.Stat(target); err == nil {
		perm = st.Mode().Perm()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	dir = filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, TempPrefix+filepath.Base(target)+TempMarker+"*")
	if err != nil {
		// Name the folder, not the random temporary name.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("create a temporary file in %q: %w", dir, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return "", err
	}
	if _, err = tmp.Write(data); err != nil {
		return "", err
	}
	if err = tmp.Sync(); err != nil {
		return "", err
	}
	if err = tmp.Close(); err != nil {
		return "", err
	}
	if opts.Expect != nil {
		cur, rerr := os.ReadFile(target)
		if rerr != nil || !bytes.Equal(cur, opts.Expect) {
			err = fmt.Errorf("%s: %w", path, ErrChanged)
			return "", err
		}
	}
	if err = os.Rename(tmp.Name(), target); err != nil {
		return "", err
	}
	return dir, nil
}
