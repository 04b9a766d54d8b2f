package sopsfile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
	"github.com/sopsfleet/sopsfleet/internal/rawio"
)

// Found is one file found by [DiscoverParsed]: its content and metadata, or
// the error that made its metadata unreadable. For a file that is not
// sops-encrypted, [WalkParsed] sets Data only for YAML and JSON files that
// are read whole (callers look for plaintext Kubernetes Secrets in them).
type Found struct {
	Path string
	Data []byte
	File *File // nil when Err is set
	Err  error
}

// SkippedLink is a symbolic link a walk did not follow because the file it
// points to is outside the tree root ([DiscoverOptions.Root]).
type SkippedLink struct {
	Path   string // the link, as found
	Target string // where it points, resolved; "" when it cannot be resolved
}

// DiscoverOptions say how [DiscoverTree], [WalkTree] and [WalkParsedTree]
// walk.
type DiscoverOptions struct {
	// Jobs is the number of workers that read and parse files; 0 means one
	// per CPU.
	Jobs int
	// Root is the tree root: a symbolic link (found in a folder, or given
	// as a root) to a file outside it is skipped and listed in
	// [Tree.SkippedLinks], never read or written through. "" puts no limit
	// (the behaviour of [Walk]). Callers pass [TreeRoot] of the folder of
	// .sops.yaml.
	Root string
	// ReuseData lets [WalkParsedTree] read later files into the memory of
	// Found.Data once fn has returned: fn must not keep Data, nor any
	// slice of it, after it returns (what [Parse] returns never shares
	// memory with Data, so a kept *File is fine). Each worker then reads
	// with one buffer instead of allocating one per file. [DiscoverTree]
	// keeps the content of sops files and never sets it.
	ReuseData bool
}

// Tree is what a walk found besides the files it lists.
type Tree struct {
	// SkippedLinks are the symbolic links to files outside the root, sorted.
	SkippedLinks []SkippedLink
	// Temps are temporary files of [atomicfile] (left by a killed
	// process) met in folders or named as roots, sorted; they are never
	// listed as files.
	Temps []string
}

// Discovery is the outcome of [DiscoverTree].
type Discovery struct {
	Tree
	// Found are the sops-encrypted files (and those that look encrypted
	// but whose metadata cannot be read), sorted by path.
	Found []Found
	// Ignored are the other regular files looked at.
	Ignored []string
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
// callers do not read and parse every file twice. It puts no limit on
// symbolic links; [DiscoverTree] does.
func DiscoverParsed(roots []string, jobs int) (found []Found, ignored []string, err error) {
	d, err := DiscoverTree(roots, DiscoverOptions{Jobs: jobs})
	if err != nil {
		return nil, nil, err
	}
	return d.Found, d.Ignored, nil
}

// DiscoverTree is [DiscoverParsed] with options: with opts.Root set, links
// to files outside the root are skipped and returned in the result.
func DiscoverTree(roots []string, opts DiscoverOptions) (*Discovery, error) {
	var results []Found
	var keep []bool
	opts.ReuseData = false // the content of sops files is kept
	tree, err := WalkParsedTree(roots, opts, func(n int) {
		results = make([]Found, n)
		keep = make([]bool, n)
	}, func(i int, f Found, sops bool) {
		if !sops {
			f.Data = nil
		}
		results[i], keep[i] = f, sops
	})
	if err != nil {
		return nil, err
	}
	d := &Discovery{Tree: *tree}
	for i, r := range results {
		if keep[i] {
			d.Found = append(d.Found, r)
		} else {
			d.Ignored = append(d.Ignored, r.Path)
		}
	}
	return d, nil
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
// any other file only f.Path is set, and f.Data for YAML and JSON files.
//
// A file larger than [LargeFile] is read whole only when its beginning
// looks like a sops file (holds an encrypted value); any other is skipped
// after reading [SniffSize] bytes.
func WalkParsed(roots []string, jobs int, start func(n int), fn func(i int, f Found, sops bool)) error {
	_, err := WalkParsedTree(roots, DiscoverOptions{Jobs: jobs}, start, fn)
	return err
}

// WalkParsedTree is [WalkParsed] with options; it also returns what the
// walk skipped (links out of opts.Root, temporary files).
func WalkParsedTree(roots []string, opts DiscoverOptions, start func(n int), fn func(i int, f Found, sops bool)) (*Tree, error) {
	paths, tree, err := WalkTree(roots, opts)
	if err != nil {
		return nil, err
	}
	if start != nil {
		start(len(paths))
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	// Each worker takes the next file itself: handing the indexes out
	// through an unbuffered channel made every file wait for the feeding
	// goroutine to be scheduled (a quarter of the wall time of a no-op
	// updatekeys on 2 CPUs).
	var next atomic.Int64
	for range min(jobs, max(len(paths), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte // with opts.ReuseData: the worker's read buffer
			for {
				i := int(next.Add(1) - 1)
				if i >= len(paths) {
					return
				}
				f, sops, data := examine(paths[i], buf)
				fn(i, f, sops)
				if opts.ReuseData && cap(data) >= cap(buf) && cap(data) <= maxReuse {
					clear(data) // nothing of a file outlives it in memory
					buf = data[:0]
				}
			}
		}()
	}
	wg.Wait()
	return tree, nil
}

// SniffSize is how much of a large file is read to decide whether it may be
// a sops file.
const SniffSize = 64 << 10

// LargeFile is the size above which a file is read whole only when its
// first [SniffSize] bytes hold a sops encrypted value: a multi-gigabyte
// file that is not a sops file is never read whole. (sops keeps a whole
// file in memory too, so a real sops file is read whatever its size.)
var LargeFile int64 = 16 << 20

// maxReuse is the largest read buffer a walk worker keeps for the next
// file ([DiscoverOptions.ReuseData]).
const maxReuse = 4 << 20

// openFile opens a file for examine; tests replace it to count the bytes
// read. [rawio.Open] costs open, fstat, read and close only.
var openFile = func(path string) (io.ReadCloser, error) { return rawio.Open(path) }

// readSniffed reads path whole, unless it is larger than [LargeFile] and
// its first [SniffSize] bytes hold no sops encrypted value: then it
// returns only those bytes, and whole false. It reads into buf when buf
// has room for the whole file (and one byte more, to see its end), else
// into a new buffer.
func readSniffed(path string, buf []byte) (data []byte, whole bool, err error) {
	r, err := openFile(path)
	if err != nil {
		return nil, false, err
	}
	defer r.Close()
	size := int64(-1)
	switch st := r.(type) {
	case interface{ Size() int64 }:
		size = st.Size()
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := st.Stat(); err == nil {
			size = fi.Size()
		}
	}
	if size < 0 {
		if fi, err := os.Stat(path); err == nil {
			size = fi.Size()
		}
	}
	if size >= 0 && size <= LargeFile {
		data, err := rawio.ReadAll(r, bufFor(buf, size+1), size)
		return data, err == nil, err
	}
	head := bufFor(buf, SniffSize)[:SniffSize]
	n, err := io.ReadFull(r, head)
	head = head[:n]
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return head, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !bytes.Contains(head, []byte("ENC[AES256_GCM,")) {
		return head, false, nil
	}
	all := make([]byte, len(head), max(size, SniffSize)+1)
	copy(all, head)
	data, err = rawio.ReadAll(r, all, size)
	return data, err == nil, err
}

// bufFor returns buf emptied when it has room for n bytes, else a new
// buffer of n bytes.
func bufFor(buf []byte, n int64) []byte {
	if int64(cap(buf)) >= n {
		return buf[:0]
	}
	return make([]byte, 0, n)
}

// examine reads (into buf, when it has room: see [readSniffed]) and parses
// one file; keep reports whether it is (or looks like) a sops file. data is
// the memory the file was read into, for the caller to reuse once the file
// is done.
func examine(path string, buf []byte) (found Found, keep bool, data []byte) {
	data, whole, err := readSniffed(path, buf)
	f, keep := examineData(path, data, whole, err)
	return f, keep, data
}

// examineData parses what readSniffed read.
func examineData(path string, data []byte, whole bool, err error) (Found, bool) {
	if err != nil {
		return Found{Path: path, Err: err}, true
	}
	if !whole {
		return Found{Path: path}, false
	}
	other := Found{Path: path}
	if ff := FormatFor(path); ff == FormatYAML || ff == FormatJSON {
		other.Data = data
	}
	if !bytes.Contains(data, []byte("sops")) {
		return other, false
	}
	f, err := Parse(path, data)
	switch {
	case err == nil:
		return Found{Path: path, Data: data, File: f}, true
	case errors.Is(err, ErrNotEncrypted):
		return other, false
	case bytes.Contains(data, []byte("ENC[AES256_GCM,")):
		return Found{Path: path, Data: data, Err: err}, true
	}
	return other, false
}

// Walk lists the regular files under roots (files or folders, recursively,
// skipping .git folders), sorted and without duplicates: the files
// [Discover] looks at. Temporary files of [atomicfile] (hidden files a killed
// process may leave next to the file it was replacing) are skipped in
// folders: they are never sops files of their own.
// Symbolic links to files are followed, unless the file they point to is
// listed itself (so that no file is handled twice); links to folders are
// not followed. [WalkTree] also skips links out of a tree root.
func Walk(roots []string) ([]string, error) {
	paths, _, err := WalkTree(roots, DiscoverOptions{})
	return paths, err
}

// WalkTree is [Walk] with options: with opts.Root set, a symbolic link to a
// file outside the root is skipped and returned in Tree.SkippedLinks (a
// link in a pull request must not make a command read or rewrite a file
// elsewhere on the machine). The temporary files met are returned too.
func WalkTree(roots []string, opts DiscoverOptions) ([]string, *Tree, error) {
	tree := &Tree{}
	var out []string // may hold a path twice (roots that overlap) until compacted
	var links []string
	rootReal := ""
	if opts.Root != "" {
		r, err := filepath.Abs(opts.Root)
		if err != nil {
			return nil, nil, err
		}
		if rr, err := filepath.EvalSymlinks(r); err == nil {
			r = rr
		}
		rootReal = r
	}
	// outside reports whether link resolves to a file outside the root,
	// and where it points.
	outside := func(link string) (bool, string) {
		if rootReal == "" {
			return false, ""
		}
		target, err := filepath.EvalSymlinks(link)
		if err != nil {
			return true, ""
		}
		if a, err := filepath.Abs(target); err == nil {
			target = a
		}
		if target == rootReal || strings.HasPrefix(target, rootReal+string(filepath.Separator)) {
			return false, target
		}
		return true, target
	}
	addLink := func(p string) bool {
		if out, target := outside(p); out {
			tree.SkippedLinks = append(tree.SkippedLinks, SkippedLink{Path: filepath.Clean(p), Target: target})
			return false
		}
		links = append(links, p)
		return true
	}
	add := func(p string) { out = append(out, p) }
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
			return nil, nil, err
		}
		if !info.IsDir() {
			if atomicfile.IsTemp(root) {
				// Named (pre-commit passes the staged files): reported,
				// not read as a file of its own.
				tree.Temps = append(tree.Temps, filepath.Clean(root))
				continue
			}
			if info.Mode().IsRegular() {
				if li, err := os.Lstat(root); err == nil && li.Mode()&fs.ModeSymlink != 0 {
					if !addLink(root) {
						continue
					}
				}
				add(filepath.Clean(root))
			}
			continue
		}
		// A root that is a link to a folder (the working folder reached
		// through ~/secrets -> ~/src/infra/secrets) is walked through the
		// link: WalkDir does not follow a link, even as its root, and
		// would find nothing.
		walkRoot := root
		if li, err := os.Lstat(root); err == nil && li.Mode()&fs.ModeSymlink != 0 {
			walkRoot = root + string(filepath.Separator)
		}
		err = filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == ".git" && p != walkRoot {
					return filepath.SkipDir
				}
				return nil
			}
			if atomicfile.IsTemp(p) {
				tree.Temps = append(tree.Temps, filepath.Clean(p))
				return nil
			}
			if d.Type().IsRegular() {
				add(p)
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && addLink(p) {
					add(p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	// Paths under a folder come from filepath.Join: already clean.
	sort.Strings(out)
	out = compactSorted(out)
	dedupe()
	sort.Slice(tree.SkippedLinks, func(i, j int) bool { return tree.SkippedLinks[i].Path < tree.SkippedLinks[j].Path })
	tree.SkippedLinks = slicesCompactLinks(tree.SkippedLinks)
	sort.Strings(tree.Temps)
	tree.Temps = compactSorted(tree.Temps)
	return out, tree, nil
}

func slicesCompactLinks(s []SkippedLink) []SkippedLink {
	out := s[:0]
	for i, l := range s {
		if i == 0 || l.Path != s[i-1].Path {
			out = append(out, l)
		}
	}
	return out
}

func compactSorted(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

type treeRootEntry struct {
	root string
	git  bool
}

var treeRoots sync.Map // absolute folder → treeRootEntry

// TreeRoot returns the root of the tree dir belongs to: the top level of
// its git work tree (as git rev-parse --show-toplevel finds it, once per
// folder),
// else dir itself, made absolute. Commands that walk a repository keep
// symbolic links inside it ([DiscoverOptions.Root]).
func TreeRoot(dir string) string {
	root, _ := FindTreeRoot(dir)
	return root
}

// FindTreeRoot is [TreeRoot] and whether the root is a git top level. The
// top level is spelled from dir (git prints it with symbolic links
// resolved), so that paths under it stay comparable with dir's.
func FindTreeRoot(dir string) (root string, git bool) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	if v, ok := treeRoots.Load(abs); ok {
		e := v.(treeRootEntry)
		return e.root, e.git
	}
	root = abs
	if top, ok := gitTopLevel(abs); ok {
		root, git = top, true
	}
	treeRoots.Store(abs, treeRootEntry{root, git})
	return root, git
}
