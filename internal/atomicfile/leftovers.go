package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// CleanLeftovers removes, from each of the given folders (not their
// subfolders), the temporary files that a run killed before it could clean
// up (SIGKILL, power loss) left behind, and returns their paths so that the
// caller can say so. Only regular files whose name [IsTemp] recognises are
// removed, never anything else, and symbolic links are neither followed nor
// removed. Temporary files of a process that is still running (another
// sopsfleet working on the same tree, or this process itself) are kept: its
// process id is part of the name. A file is a leftover all the same when
// that id now belongs to a process that started after the file was written
// (checked on Linux), or is this process's id but not one of its files (in
// a container every run may be pid 1).
//
// A folder that does not exist is skipped; other errors are returned
// together, after every folder was tried.
func CleanLeftovers(dirs ...string) ([]string, error) {
	return CleanLeftoversWith(OS{}, dirs...)
}

// CleanLeftoversWith is [CleanLeftovers] done through sys.
func CleanLeftoversWith(sys System, dirs ...string) ([]string, error) {
	self := os.Getpid()
	var removed []string
	var errs []error
	seen := map[string]bool{}
	for _, dir := range dirs {
		if seen[dir] {
			continue
		}
		seen[dir] = true
		des, err := sys.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, de := range des {
			pid, ok := tempPID(de.Name())
			if !ok || !de.Type().IsRegular() {
				continue
			}
			p := filepath.Join(dir, de.Name())
			// ReadDir's type comes from the folder entry: check again right
			// before removing that it is still a regular file, not a link.
			fi, err := sys.Lstat(p)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			if pid == self {
				if _, mine := live.Load(de.Name()); mine {
					continue
				}
			} else if pid != 0 && processAlive(pid) && !startedAfter(pid, fi.ModTime()) {
				continue
			}
			if err := sys.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, p)
		}
	}
	sort.Strings(removed)
	return removed, errors.Join(errs...)
}
