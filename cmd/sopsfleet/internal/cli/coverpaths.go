package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// coverPaths shortens the list of files a follow-up command names (the
// "sopsfleet updatekeys --rotate FILE…" of a warning, 500 paths after a
// fleet-wide change) by naming a folder instead of its files wherever that
// reaches exactly the same files: every sops file found under the folder
// is listed, and the folder was searched whole (it lies in one of the
// folders searched, roots). found are all the sops files the run saw.
// The files and folders keep the order of their first file in paths.
//
// A folder holding a symbolic link to a file that the run did not list
// under the link's name is never named: the run dropped the link because
// it reached its target under its own name, but a run on that folder alone
// would follow it and rotate (and re-encrypt under the link's rule) a file
// elsewhere that did not need it.
func coverPaths(paths, found, roots []string) []string {
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return filepath.Clean(p)
	}
	var rootDirs []string
	for _, r := range roots {
		rootDirs = append(rootDirs, abs(r))
	}
	searched := func(d string) bool {
		for _, r := range rootDirs {
			if d == r || strings.HasPrefix(d, r+string(filepath.Separator)) || r == string(filepath.Separator) {
				return true
			}
		}
		return false
	}
	listed := map[string]bool{}
	for _, p := range paths {
		listed[abs(p)] = true
	}
	// Per folder: the sops files under it, and how many of them are listed.
	total, have := map[string]int{}, map[string]int{}
	for _, f := range found {
		a := abs(f)
		for d := filepath.Dir(a); searched(d); d = filepath.Dir(d) {
			total[d]++
			if listed[a] {
				have[d]++
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	var blocked map[string]bool
	foldable := func(d string) bool {
		if !searched(d) || total[d] == 0 || have[d] != total[d] {
			return false
		}
		if blocked == nil {
			blocked = linkedFolders(rootDirs, found, abs)
		}
		return !blocked[d]
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range paths {
		a := abs(p)
		name := p
		// The highest folder above p whose files are all listed.
		for d := filepath.Dir(a); foldable(d); d = filepath.Dir(d) {
			name = d
			if filepath.Dir(d) == d {
				break
			}
		}
		if name != p {
			name = ukDisplayPath(name)
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// linkedFolders walks the folders roots and returns every folder (up to
// its root) that holds, at any depth, a symbolic link to a regular file
// not in found: a run on such a folder alone would follow the link.
func linkedFolders(roots, found []string, abs func(string) string) map[string]bool {
	listed := map[string]bool{}
	for _, f := range found {
		listed[abs(f)] = true
	}
	blocked := map[string]bool{}
	for _, r := range roots {
		filepath.WalkDir(r, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				if d.Name() == ".git" && p != r {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type()&fs.ModeSymlink == 0 || listed[p] {
				return nil
			}
			if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
				return nil
			}
			for dd := filepath.Dir(p); !blocked[dd]; dd = filepath.Dir(dd) {
				blocked[dd] = true
				if dd == r || filepath.Dir(dd) == dd {
					break
				}
			}
			return nil
		})
	}
	return blocked
}
