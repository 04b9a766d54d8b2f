package atomicfile

import (
	"path/filepath"
	"strconv"
	"strings"
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
