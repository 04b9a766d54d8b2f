package audit

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Repo reads a git repository through the git command: revisions with
// rev-parse, trees with ls-tree, changes with diff --name-status -M, history
// with log, and blobs through one long-running `git cat-file --batch`.
// It never writes to the repository. Close stops the cat-file process.
type Repo struct {
	// Dir is the top of the work tree.
	Dir string

	mu    sync.Mutex
	batch *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	trees map[string][]TreeFile // TreeFiles cache; not safe for concurrent use
}

// OpenRepo opens the repository that holds dir.
func OpenRepo(dir string) (*Repo, error) {
	out, err := gitOutput(dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, err
	}
	return &Repo{Dir: strings.TrimRight(string(out), "\n")}, nil
}

// gitOutput runs git in dir and returns its standard output; a failure
// carries git's first line of standard error.
func gitOutput(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("git is not installed (or not on PATH)")
		}
		msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		msg = strings.TrimPrefix(msg, "fatal: ")
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", args[0], msg)
	}
	return out, nil
}

func (r *Repo) git(args ...string) ([]byte, error) { return gitOutput(r.Dir, args...) }

// ResolveCommit returns the commit id rev names.
func (r *Repo) ResolveCommit(rev string) (string, error) {
	if strings.HasPrefix(rev, "-") {
		return "", fmt.Errorf("invalid revision %q", rev)
	}
	out, err := r.git("rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		return "", fmt.Errorf("unknown revision %q", rev)
	}
	return strings.TrimSpace(string(out)), nil
}

// MergeBase returns the best common ancestor of two commits.
func (r *Repo) MergeBase(a, b string) (string, error) {
	out, err := r.git("merge-base", a, b)
	if err != nil {
		return "", fmt.Errorf("no merge base of %s and %s: %v", short(a), short(b), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// TreeFile is one file of a revision: its path from the top of the work
// tree and its blob id ("" for a work-tree file, read from disk).
type TreeFile struct {
	Path string
	Blob string
}

// Files lists the files of commit (every blob, recursively); with commit
// "" the tracked files of the work tree.
func (r *Repo) Files(commit string) ([]TreeFile, error) {
	if commit == "" {
		out, err := r.git("ls-files", "-z", "--cached")
		if err != nil {
			return nil, err
		}
		var files []TreeFile
		for _, p := range splitZ(out) {
			files = append(files, TreeFile{Path: p})
		}
		return files, nil
	}
	out, err := r.git("ls-tree", "-r", "-z", "--full-tree", commit)
	if err != nil {
		return nil, err
	}
	var files []TreeFile
	for _, rec := range splitZ(out) {
		meta, path, ok := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 || f[1] != "blob" {
			continue
		}
		files = append(files, TreeFile{Path: path, Blob: f[2]})
	}
	return files, nil
}

// Change is one changed path between two revisions, as git diff
// --name-status -M reports it: Status is 'A', 'D', 'M', 'R' (OldPath set),
// 'T' or 'C'.
type Change struct {
	Status  byte
	Path    string
	OldPath string
}

// Changes lists the paths that differ between base and head (head "":
// the work tree), with git's rename detection.
func (r *Repo) Changes(base, head string) ([]Change, error) {
	args := []string{"diff", "--name-status", "-M", "-z", "--no-ext-diff", "--no-textconv", base}
	if head != "" {
		args = append(args, head)
	}
	out, err := r.git(append(args, "--")...)
	if err != nil {
		return nil, err
	}
	return parseNameStatus(splitZ(out)), nil
}

func parseNameStatus(recs []string) []Change {
	var cs []Change
	for i := 0; i < len(recs); i++ {
		st := recs[i]
		if st == "" {
			continue
		}
		c := Change{Status: st[0]}
		if (c.Status == 'R' || c.Status == 'C') && i+2 < len(recs) {
			c.OldPath, c.Path = recs[i+1], recs[i+2]
			i += 2
		} else if i+1 < len(recs) {
			c.Path = recs[i+1]
			i++
		}
		if c.Status == 'C' { // a copy is a new file
			c.Status, c.OldPath = 'A', ""
		}
		cs = append(cs, c)
	}
	return cs
}

func splitZ(out []byte) []string {
	s := strings.TrimRight(string(out), "\x00")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x00")
}

// Read returns the content of path at commit (commit "": the work tree,
// read from disk). A path absent there gives an error wrapping
// os.ErrNotExist.
func (r *Repo) Read(commit, path string) ([]byte, error) {
	if commit == "" {
		p := filepath.Join(r.Dir, filepath.FromSlash(path))
		if st, err := os.Stat(p); err == nil && !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: %w", path, ErrNotFile)
		}
		return os.ReadFile(p)
	}
	return r.Blob(commit + ":" + path)
}

// Blob returns the content of an object named as `git cat-file` takes it
// (a blob id, or "commit:path"), read through one long-running
// `git cat-file --batch`. A missing object wraps os.ErrNotExist.
func (r *Repo) Blob(name string) ([]byte, error) {
	typ, data, err := r.object(name)
	if err != nil {
		return nil, err
	}
	if typ != "blob" {
		return nil, fmt.Errorf("%s is a %s: %w", name, typ, ErrNotFile)
	}
	return data, nil
}

// ErrNotFile reports a path that names no file: a submodule (a commit) or
// a folder.
var ErrNotFile = errors.New("not a file")

// object reads one object through cat-file --batch: its type and content.
func (r *Repo) object(name string) (string, []byte, error) {
	if strings.ContainsAny(name, "\n") {
		return "", nil, fmt.Errorf("invalid object name %q", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.batch == nil {
		cmd := exec.Command("git", "cat-file", "--batch")
		cmd.Dir = r.Dir
		in, err := cmd.StdinPipe()
		if err != nil {
			return "", nil, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return "", nil, err
		}
		if err := cmd.Start(); err != nil {
			return "", nil, fmt.Errorf("git cat-file: %v", err)
		}
		r.batch, r.in, r.out = cmd, in, bufio.NewReaderSize(out, 64<<10)
	}
	if _, err := io.WriteString(r.in, name+"\n"); err != nil {
		return "", nil, fmt.Errorf("git cat-file: %v", err)
	}
	header, err := r.out.ReadString('\n')
	if err != nil {
		return "", nil, fmt.Errorf("git cat-file: %v", err)
	}
	f := strings.Fields(header)
	if len(f) == 2 && (f[1] == "missing" || f[1] == "ambiguous") {
		return "", nil, fmt.Errorf("%s: %w", name, os.ErrNotExist)
	}
	if len(f) != 3 {
		return "", nil, fmt.Errorf("git cat-file: unexpected answer %q", strings.TrimSpace(header))
	}
	size, err := strconv.Atoi(f[2])
	if err != nil {
		return "", nil, fmt.Errorf("git cat-file: unexpected answer %q", strings.TrimSpace(header))
	}
	buf := make([]byte, size+1)
	if _, err := io.ReadFull(r.out, buf); err != nil {
		return "", nil, fmt.Errorf("git cat-file: %v", err)
	}
	return f[1], buf[:size], nil
}

// Commit is one commit of a history walk.
type Commit struct {
	ID      string
	Parents []string
	// Tree is the id of the commit's root tree.
	Tree string
	// Date is the committer date, ISO 8601 strict.
	Date string
	// Subject is the first line of the message.
	Subject string
}

// Log lists the commits reachable from revs (nil: HEAD; "--all": every
// ref), oldest first, parents before children; since, when set, excludes
// the commits reachable from it.
func (r *Repo) Log(revs []string, since string) ([]Commit, error) {
	args := []string{"log", "--topo-order", "--reverse", "-z", "--format=%H%x01%P%x01%T%x01%cI%x01%s"}
	if len(revs) == 0 {
		revs = []string{"HEAD"}
	}
	for _, rv := range revs {
		if strings.HasPrefix(rv, "-") && rv != "--all" {
			return nil, fmt.Errorf("invalid revision %q", rv)
		}
	}
	args = append(args, revs...)
	if since != "" {
		id, err := r.ResolveCommit(since)
		if err != nil {
			return nil, err
		}
		args = append(args, "^"+id)
	}
	out, err := r.git(append(args, "--")...)
	if err != nil {
		return nil, err
	}
	var cs []Commit
	for _, rec := range splitZ(out) {
		f := strings.SplitN(strings.TrimLeft(rec, "\n"), "\x01", 5)
		if len(f) != 5 {
			continue
		}
		cs = append(cs, Commit{ID: f[0], Parents: strings.Fields(f[1]), Tree: f[2], Date: f[3], Subject: f[4]})
	}
	return cs, nil
}

// TreeFiles lists the files (blobs, recursively) of a tree object, read
// through cat-file and cached by tree id, so that walking many commits
// reads only the subtrees that changed. The result must not be modified.
func (r *Repo) TreeFiles(tree string) ([]TreeFile, error) {
	if fs, ok := r.trees[tree]; ok {
		return fs, nil
	}
	typ, data, err := r.object(tree)
	if err != nil {
		return nil, err
	}
	if typ != "tree" {
		return nil, fmt.Errorf("%s is a %s, not a tree", short(tree), typ)
	}
	hashLen := len(tree) / 2
	var files []TreeFile
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		nul := bytes.IndexByte(data, 0)
		if sp < 0 || nul < sp || nul+1+hashLen > len(data) {
			return nil, fmt.Errorf("tree %s: unexpected format", short(tree))
		}
		mode, name := string(data[:sp]), string(data[sp+1:nul])
		id := hex.EncodeToString(data[nul+1 : nul+1+hashLen])
		data = data[nul+1+hashLen:]
		switch {
		case mode == "40000":
			sub, err := r.TreeFiles(id)
			if err != nil {
				return nil, err
			}
			for _, f := range sub {
				files = append(files, TreeFile{Path: name + "/" + f.Path, Blob: f.Blob})
			}
		case strings.HasPrefix(mode, "100"):
			files = append(files, TreeFile{Path: name, Blob: id})
		}
	}
	if r.trees == nil {
		r.trees = map[string][]TreeFile{}
	}
	r.trees[tree] = files
	return files, nil
}

// Versions returns the contents of path (from the top of the work tree) in
// the last n commits of HEAD that changed it, newest first.
func (r *Repo) Versions(path string, n int) ([][]byte, error) {
	out, err := r.git("log", fmt.Sprintf("-n%d", n), "--format=%H", "HEAD", "--", path)
	if err != nil {
		return nil, err
	}
	var vs [][]byte
	for _, id := range strings.Fields(string(out)) {
		data, err := r.Blob(id + ":" + path)
		if err != nil {
			continue // deleted in that commit
		}
		vs = append(vs, data)
	}
	return vs, nil
}

// Close stops the cat-file process.
func (r *Repo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.batch == nil {
		return nil
	}
	r.in.Close()
	err := r.batch.Wait()
	r.batch = nil
	return err
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
