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
// process id is part of the name.
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
			if pid != 0 && (pid == self || processAlive(pid)) {
				continue
			}
			p := filepath.Join(dir, de.Name())
			// ReadDir's type comes from the folder entry: check again right
			// before removing that it is still a regular file, not a link.
			if fi, err := sys.Lstat(p); err != nil || !fi.Mode().IsRegular() {
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
