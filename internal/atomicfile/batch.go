package atomicfile

import (
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// TempPrefix and TempMarker frame the names of the temporary files: a
// temporary file for "name" is ".name" + TempMarker + the process id + "-"
// + random digits, in the folder of name (older versions wrote only the
// random digits). A process killed between creating and renaming it leaves
// it behind: [IsTemp] recognises such files so that tools walking a tree
// can skip them, and [CleanLeftovers] removes them.
const (
	TempPrefix = "."
	TempMarker = ".sopsfleet-"
)

// IsTemp reports whether the base name of path is the name of a temporary
// file made by this package.
func IsTemp(path string) bool {
	_, ok := tempPID(filepath.Base(path))
	return ok
}

// tempPID parses the name of a temporary file: ok reports whether base is
// one, pid is the id of the process that made it (0 when the name is of the
// older form without it).
func tempPID(base string) (pid int, ok bool) {
	if len(base) < len(TempPrefix)+1 || base[:len(TempPrefix)] != TempPrefix {
		return 0, false
	}
	i := strings.LastIndex(base, TempMarker)
	if i <= len(TempPrefix) {
		return 0, false
	}
	rest := base[i+len(TempMarker):]
	first, random, two := strings.Cut(rest, "-")
	if !two {
		first, random = "", rest
	}
	if !allDigits(random) || (two && !allDigits(first)) {
		return 0, false
	}
	if two {
		n, err := strconv.Atoi(first)
		if err != nil {
			return 0, false
		}
		pid = n
	}
	return pid, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
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
	dir, err := replace(OS{}, path, data, opts)
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
		OS{}.SyncDir(dir)
	}
}

// replace is [WriteFile] without the fsync of the folder, which it returns.
func replace(sys System, path string, data []byte, opts Options) (dir string, err error) {
	t, err := prepare(sys, path, data, opts, true, nil)
	if err != nil {
		return "", err
	}
	if err = t.checkExpect(sys); err == nil {
		err = renameTemp(sys, t.name, t.target)
	}
	if err != nil {
		removeTemp(sys, t.name)
		return "", err
	}
	return filepath.Dir(t.target), nil
}
