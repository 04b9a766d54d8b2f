package cli

import (
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
	var out []string
	seen := map[string]bool{}
	for _, p := range paths {
		a := abs(p)
		name := p
		// The highest folder above p whose files are all listed.
		for d := filepath.Dir(a); searched(d) && total[d] > 0 && have[d] == total[d]; d = filepath.Dir(d) {
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
