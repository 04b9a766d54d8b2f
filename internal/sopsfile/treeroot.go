package sopsfile

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// gitTopLevel finds the top level of the git work tree that holds the
// absolute folder abs, as git rev-parse --show-toplevel does, spelled from
// abs. Usually no git runs (a fork and exec of git were most of a small
// run's start): the first folder from abs up that holds a .git folder
// (with a HEAD) or a .git file pointing elsewhere ("gitdir:", a linked
// worktree or a submodule) is the top level, and the search stops, as
// git's does, at a file system boundary. The environment variables that
// change git's search (GIT_DIR, GIT_WORK_TREE, GIT_CEILING_DIRECTORIES,
// GIT_DISCOVERY_ACROSS_FILESYSTEM) make it ask git itself.
func gitTopLevel(abs string) (string, bool) {
	for _, v := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM"} {
		if os.Getenv(v) != "" {
			return gitRevParse(abs)
		}
	}
	// git searches from the physical folder.
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", false
	}
	here, err := os.Stat(real)
	if err != nil {
		return "", false
	}
	for d := real; ; {
		switch gitMarker(filepath.Join(d, ".git")) {
		case markerTop:
			return spellFrom(abs, real, d), true
		case markerBroken:
			return "", false
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", false
		}
		up, err := os.Stat(parent)
		if err != nil || !sameDevice(here, up) {
			return "", false
		}
		d, here = parent, up
	}
}

type marker int

const (
	markerNone   marker = iota // no .git here: look further up
	markerTop                  // a repository folder, or a file naming one
	markerBroken               // a .git file git cannot read: git fails
)

// gitMarker tells what the .git entry p makes of its folder: a top level
// when it is a repository folder (it has a HEAD) or a file naming one
// ("gitdir: …", a linked worktree or a submodule); git stops with an
// error at any other .git file, and looks further up past a folder that
// is not a repository.
func gitMarker(p string) marker {
	fi, err := os.Stat(p)
	switch {
	case err != nil:
		return markerNone
	case fi.IsDir():
		if _, err := os.Stat(filepath.Join(p, "HEAD")); err == nil {
			return markerTop
		}
		return markerNone
	case fi.Mode().IsRegular():
		b, err := os.ReadFile(p)
		if err == nil && bytes.HasPrefix(b, []byte("gitdir: ")) {
			return markerTop
		}
		return markerBroken
	}
	return markerNone
}

// spellFrom spells top, found from the physical folder real of abs, from
// abs (as the commands name their paths), so that paths under it stay
// comparable with abs's.
//
// When abs was reached through a symbolic link to a folder inside the
// work tree (~/secrets → ~/src/infra/secrets), no folder above abs is top:
// climbing from abs leaves the work tree at the link, and the lexical
// parent (~ here) is an unrelated folder that must never be walked as the
// repository. The tree is then the highest folder of abs still inside top
// (the link itself).
func spellFrom(abs, real, top string) string {
	if rel, err := filepath.Rel(real, top); err == nil {
		cand := filepath.Join(abs, rel)
		if r, err := filepath.EvalSymlinks(cand); err == nil && r == top {
			return cand
		}
	}
	best := abs
	for d := filepath.Dir(abs); d != best; d = filepath.Dir(d) {
		r, err := filepath.EvalSymlinks(d)
		if err != nil || !within(top, r) {
			break
		}
		best = d
	}
	return best
}

// within reports whether the clean path p is dir or a path under it.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// gitRevParse runs git rev-parse --show-toplevel in abs and spells the top
// level from abs (git prints it with symbolic links resolved), so that
// paths under it stay comparable with abs's.
func gitRevParse(abs string) (string, bool) {
	cmd := exec.Command("git", "rev-parse", "--show-toplevel")
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0")
	out, err := cmd.Output()
	if err != nil {
		return "", false
	}
	top := strings.TrimSpace(string(out))
	if top == "" || !filepath.IsAbs(filepath.FromSlash(top)) {
		return "", false
	}
	top = filepath.Clean(filepath.FromSlash(top))
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		top = spellFrom(abs, real, top)
	}
	return top, true
}
