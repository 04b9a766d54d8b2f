package sopsfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
)

// Found is one file found by [DiscoverParsed]: its content and metadata, or
// the error that made its metadata unreadable.
type Found struct {
	Path string
	Data []byte
	File *File // nil when Err is set
	Err  error
}

// Discover walks roots (files or folders, recursively, skipping .git) and
// returns the sops-encrypted files of every format, sorted, and the other
// regular files it looked at. A file is sops-encrypted when it has sops
// metadata; a file that looks encrypted (it holds sops values) but whose
// metadata cannot be read is listed too, so that callers report it.
func Discover(roots []string) (files []string, ignored []string, err error) {
	found, ignored, err := DiscoverParsed(roots, 0)
	for _, f := range found {
		files = append(files, f.Path)
	}
	return files, ignored, err
}

// DiscoverParsed is [Discover] that also returns each file's content and
// metadata, read and parsed with jobs workers (0 means one per CPU), so that
// callers do not read and parse every file twice.
func DiscoverParsed(roots []string, jobs int) (found []Found, ignored []string, err error) {
	var results []Found
	var keep []bool
	err = WalkParsed(roots, jobs, func(n int) {
		results = make([]Found, n)
		keep = make([]bool, n)
	}, func(i int, f Found, sops bool) {
		results[i], keep[i] = f, sops
	})
	if err != nil {
		return nil, nil, err
	}
	for i, r := range results {
		if keep[i] {
			found = append(found, r)
		} else {
			ignored = append(ignored, r.Path)
		}
	}
	return found, ignored, nil
}

// WalkParsed walks roots as [Walk] does and reads and parses each file with
// jobs workers (0 means one per CPU), streaming: fn is called once per file,
// from the workers (so concurrently), with the file's index in the sorted
// walk, and nothing is kept after fn returns, so memory stays flat on large
// trees. start, if not nil, is called first with the number of files.
//
// sops reports whether the file is sops-encrypted, or looks encrypted (it
// holds sops values) but its metadata cannot be read (f.Err is then set); a
// file that cannot be read at all is passed with sops true and f.Err set
// (errors.Is(f.Err, fs.ErrNotExist) when it vanished during the walk). For
// any other file only f.Path is set.
func WalkParsed(roots []string, jobs int, start func(n int), fn func(i int, f Found, sops bool)) error {
	paths, err := Walk(roots)
	if err != nil {
		return err
	}
	if start != nil {
		start(len(paths))
	}
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(jobs, max(len(paths), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f, sops := examine(paths[i])
				fn(i, f, sops)
			}
		}()
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	return nil
}

// examine reads and parses one file; keep reports whether it is (or looks
// like) a sops file.
func examine(path string) (Found, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Found{Path: path, Err: err}, true
	}
	if !bytes.Contains(data, []byte("sops")) {
		return Found{Path: path}, false
	}
	f, err := Parse(path, data)
	switch {
	case err == nil:
		return Found{Path: path, Data: data, File: f}, true
	case errors.Is(err, ErrNotEncrypted):
		return Found{Path: path}, false
	case bytes.Contains(data, []byte("ENC[AES256_GCM,")):
		return Found{Path: path, Data: data, Err: err}, true
	}
	return Found{Path: path}, false
}

// Walk lists the regular files under roots (files or folders, recursively,
// skipping .git folders), sorted and without duplicates: the files
// [Discover] looks at. Temporary files of [atomicfile] (hidden files a killed
// process may leave next to the file it was replacing) are skipped in
// folders: they are never sops files of their own.
// Symbolic links to files are followed, unless the file they point to is
// listed itself (so that no file is handled twice); links to folders are
// not followed.
func Walk(roots []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	var links []string
	add := func(p string) {
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	dedupe := func() {
		// Drop links whose target is listed under its own name or
		// through an earlier link.
		abs := map[string]bool{}
		for _, p := range out {
			if a, err := filepath.Abs(p); err == nil {
				abs[a] = true
			}
		}
		for _, l := range links {
			target, err := filepath.EvalSymlinks(l)
			if err != nil {
				continue
			}
			a, err := filepath.Abs(target)
			if err != nil {
				continue
			}
			if !abs[a] {
				abs[a] = true // a second link to the same file goes
				continue
			}
			for i, p := range out {
				if p == filepath.Clean(l) {
					out = append(out[:i], out[i+1:]...)
					break
				}
			}
		}
	}
	for _, root := range roots {
		info, err := os.Stat(root)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			if info.Mode().IsRegular() {
				add(root)
				if li, err := os.Lstat(root); err == nil && li.Mode()&fs.ModeSymlink != 0 {
					links = append(links, root)
				}
			}
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == ".git" && p != root {
					return filepath.SkipDir
				}
				return nil
			}
			if atomicfile.IsTemp(p) {
				return nil
			}
			if d.Type().IsRegular() {
				add(p)
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
					add(p)
					links = append(links, p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	dedupe()
	sort.Strings(out)
	return out, nil
}
