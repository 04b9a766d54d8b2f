package sopsfile

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// countingFile counts the bytes read from a file.
type countingFile struct {
	*os.File
	n *atomic.Int64
}

func (c countingFile) Read(p []byte) (int, error) {
	n, err := c.File.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// countReads makes examine count the bytes it reads, until the test ends.
func countReads(t *testing.T) *atomic.Int64 {
	var n atomic.Int64
	old := openFile
	openFile = func(path string) (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		return countingFile{f, &n}, nil
	}
	t.Cleanup(func() { openFile = old })
	return &n
}

// TestWalkSniffsLargeFiles: a 4 GiB file that is not a sops file (sparse:
// no disk used) is skipped after reading SniffSize bytes, however large;
// a sops file above LargeFile is still read whole and parsed.
func TestWalkSniffsLargeFiles(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "disk.img")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("sops sops sops, but no value\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(4 << 30); err != nil {
		t.Skip("no sparse files here:", err)
	}
	f.Close()
	n := countReads(t)
	found, ignored, err := DiscoverParsed([]string{dir}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 0 || len(ignored) != 1 {
		t.Fatalf("found %d, ignored %v", len(found), ignored)
	}
	if got := n.Load(); got > SniffSize {
		t.Fatalf("read %d bytes of a 4 GiB file, want at most %d", got, SniffSize)
	}

	// A real sops file larger than LargeFile is read whole.
	old := LargeFile
	LargeFile = 1 << 10
	t.Cleanup(func() { LargeFile = old })
	k := genAgeKey(t)
	data := sopsEncrypt(t, "big.yaml", "blob: "+strings.Repeat("x", 3000)+"\n", "", k.rcp)
	if err := os.WriteFile(filepath.Join(dir, "big.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	n.Store(0)
	found, _, err = DiscoverParsed([]string{dir}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].File == nil || found[0].Err != nil {
		t.Fatalf("large sops file: %+v", found)
	}
	if got := n.Load(); got < int64(len(data)) || got > int64(len(data))+SniffSize {
		t.Errorf("read %d bytes for a %d-byte sops file and a sniffed one", got, len(data))
	}
}

// TestWalkTreeSkipsLinksOutOfRoot: links to files outside the root are
// skipped and listed, found in a folder or named; links inside are kept
// (once); without a root, Walk follows them as before.
func TestWalkTreeSkipsLinksOutOfRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	write := func(p string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x: 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "s", "in.yaml"))
	write(filepath.Join(outside, "out.yaml"))
	if err := os.Symlink(filepath.Join(outside, "out.yaml"), filepath.Join(root, "s", "evil.yaml")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := os.Symlink("in.yaml", filepath.Join(root, "s", "alias.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "out.yaml"), filepath.Join(root, "named.yaml")); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(root, "s", ".in.yaml.sopsfleet-42"))

	paths, tree, err := WalkTree([]string{filepath.Join(root, "s"), filepath.Join(root, "named.yaml")}, DiscoverOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 1 || filepath.Base(paths[0]) != "in.yaml" {
		t.Errorf("paths %v, want only s/in.yaml", paths)
	}
	var skipped []string
	for _, l := range tree.SkippedLinks {
		skipped = append(skipped, filepath.Base(l.Path))
		if want, _ := filepath.EvalSymlinks(filepath.Join(outside, "out.yaml")); l.Target != want {
			t.Errorf("%s: target %q, want %q", l.Path, l.Target, want)
		}
	}
	if strings.Join(skipped, " ") != "named.yaml evil.yaml" {
		t.Errorf("skipped %v", skipped)
	}
	if len(tree.Temps) != 1 || filepath.Base(tree.Temps[0]) != ".in.yaml.sopsfleet-42" {
		t.Errorf("temps %v", tree.Temps)
	}
	// The same through DiscoverTree.
	d, err := DiscoverTree([]string{root}, DiscoverOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.SkippedLinks) != 2 || len(d.Ignored) != 1 {
		t.Errorf("DiscoverTree: skipped %v, ignored %v", d.SkippedLinks, d.Ignored)
	}
	// Walk (no root) keeps following links to files, as before: the link
	// out is listed (once for its target), the link to in.yaml is not.
	all, err := Walk([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || filepath.Base(all[0]) != "named.yaml" || filepath.Base(all[1]) != "in.yaml" {
		t.Errorf("Walk: %v, want named.yaml and s/in.yaml", all)
	}
}

// TestTreeRoot: the git top level of a work tree, else the folder itself.
func TestTreeRoot(t *testing.T) {
	plain := t.TempDir()
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(plain))
	if got := TreeRoot(plain); got != plain {
		t.Errorf("TreeRoot(%s) = %s outside git", plain, got)
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	top := t.TempDir()
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(top))
	if out, err := exec.Command("git", "init", "-q", top).CombinedOutput(); err != nil {
		t.Skipf("git init: %v: %s", err, out)
	}
	sub := filepath.Join(top, "deploy", "prod")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.EvalSymlinks(top)
	got, _ := filepath.EvalSymlinks(TreeRoot(sub))
	if got != want {
		t.Errorf("TreeRoot(%s) = %s, want the git top level %s", sub, got, want)
	}
}

// TestWalkOverlappingRoots: roots that overlap (a folder and a folder or
// file inside it, spelled differently) list every file once, sorted and
// clean, links to a listed file dropped.
func TestWalkOverlappingRoots(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"a/x.yaml", "a/b/y.yaml", "a-b/z.yaml", "a.txt"} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("k: v\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("x.yaml", filepath.Join(root, "a", "link.yaml")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	got, err := Walk([]string{
		filepath.Join(root, "a"), root + "/a/b/", filepath.Join(root, "a", "b", "y.yaml"),
		root + "/./a-b", filepath.Join(root, "a.txt"), root + "//a.txt",
	})
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, p := range got {
		r, err := filepath.Rel(root, p)
		if err != nil || p != filepath.Clean(p) {
			t.Fatalf("path %q not clean or outside (%v)", p, err)
		}
		rel = append(rel, filepath.ToSlash(r))
	}
	want := "a-b/z.yaml a.txt a/b/y.yaml a/x.yaml"
	if strings.Join(rel, " ") != want {
		t.Errorf("walked %v, want %s", rel, want)
	}
}

// A root that is a link to a folder is walked through the link, its files
// spelled under the link (the working folder reached through a link).
func TestWalkTreeRootIsALink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.MkdirAll(filepath.Join(real, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a.yaml", "sub/b.env"} {
		if err := os.WriteFile(filepath.Join(real, f), []byte("x: 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Skip(err)
	}
	paths, tree, err := WalkTree([]string{link}, DiscoverOptions{Root: link})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(link, "a.yaml"), filepath.Join(link, "sub", "b.env")}
	if !slices.Equal(paths, want) || len(tree.SkippedLinks) != 0 {
		t.Fatalf("WalkTree(link) = %v (skipped %v), want %v", paths, tree.SkippedLinks, want)
	}
}
