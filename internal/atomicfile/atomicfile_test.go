package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// entries lists the names in dir, so that a test can tell a temporary file
// was left behind.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func skipOnWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix file modes and symbolic links")
	}
}

func TestNewFileGetsPerm(t *testing.T) {
	skipOnWindows(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		perm, want fs.FileMode
	}{
		{0o600, 0o600},
		{0o640, 0o640},
		{0, 0o644}, // the default
	} {
		p := filepath.Join(dir, "new-"+tc.want.String())
		if err := WriteFile(p, []byte("x\n"), Options{Perm: tc.perm}); err != nil {
			t.Fatal(err)
		}
		if got := mode(t, p); got != tc.want {
			t.Errorf("Perm %04o: mode %04o, want %04o", tc.perm, got, tc.want)
		}
		if readFile(t, p) != "x\n" {
			t.Errorf("content %q", readFile(t, p))
		}
	}
	if n := len(entries(t, dir)); n != 3 {
		t.Fatalf("folder holds %v, want only the 3 files", entries(t, dir))
	}
}

func TestExistingFileKeepsMode(t *testing.T) {
	skipOnWindows(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "secrets.yaml")
	if err := os.WriteFile(p, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	// Perm is for new files only: the file's own mode wins.
	if err := WriteFile(p, []byte("new\n"), Options{Perm: 0o600}); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, p); got != 0o640 {
		t.Fatalf("mode %04o, want 0640 kept", got)
	}
	if readFile(t, p) != "new\n" {
		t.Fatalf("content %q", readFile(t, p))
	}
	if got := entries(t, dir); len(got) != 1 {
		t.Fatalf("folder holds %v", got)
	}
}

func TestSymlinkWrittenThrough(t *testing.T) {
	skipOnWindows(t)
	dir := t.TempDir()
	real := filepath.Join(dir, "real", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte("old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	// A relative link, through a second link: both stay links.
	link1 := filepath.Join(dir, "link1")
	link2 := filepath.Join(dir, "link2")
	if err := os.Symlink(filepath.Join("real", "config.yaml"), link1); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("link1", link2); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link2, []byte("new\n"), Options{}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{link1, link2} {
		fi, err := os.Lstat(l)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Fatalf("%s is no longer a symbolic link (%v)", l, err)
		}
	}
	if readFile(t, real) != "new\n" || mode(t, real) != 0o640 {
		t.Fatalf("target: %q mode %04o", readFile(t, real), mode(t, real))
	}
	if got := entries(t, filepath.Join(dir, "real")); len(got) != 1 {
		t.Fatalf("target folder holds %v", got)
	}
}

// A link whose target does not exist yet is written through too, as a shell
// redirection would: the target is created, the link stays.
func TestDanglingSymlinkWrittenThrough(t *testing.T) {
	skipOnWindows(t)
	dir := t.TempDir()
	link := filepath.Join(dir, "keys.txt")
	if err := os.Symlink("real-keys.txt", link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte("new\n"), Options{Perm: 0o600}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(link)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced (%v)", err)
	}
	real := filepath.Join(dir, "real-keys.txt")
	if readFile(t, real) != "new\n" || mode(t, real) != 0o600 {
		t.Fatalf("target: %q mode %04o", readFile(t, real), mode(t, real))
	}
}

func TestSymlinkLoop(t *testing.T) {
	skipOnWindows(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.Symlink("b", a); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", b); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(a, []byte("x"), Options{}); err == nil {
		t.Fatal("a loop of links was written")
	}
	if got := entries(t, dir); len(got) != 2 {
		t.Fatalf("folder holds %v", got)
	}
}

func TestExpect(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("read\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Someone changed the file after it was read: nothing is written and no
	// temporary file stays.
	if err := os.WriteFile(p, []byte("changed by someone else\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(p, []byte("mine\n"), Options{Expect: []byte("read\n")})
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("err = %v, want ErrChanged", err)
	}
	if readFile(t, p) != "changed by someone else\n" {
		t.Fatalf("original changed: %q", readFile(t, p))
	}
	if got := entries(t, dir); len(got) != 1 {
		t.Fatalf("temporary file left behind: %v", got)
	}
	// A file expected but gone is a change too, and is not created.
	gone := filepath.Join(dir, "gone")
	if err := WriteFile(gone, []byte("mine\n"), Options{Expect: []byte("read\n")}); !errors.Is(err, ErrChanged) {
		t.Fatalf("err = %v, want ErrChanged", err)
	}
	if _, err := os.Stat(gone); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("created a file that was expected to exist: %v", err)
	}
	// The content still as read: written.
	if err := WriteFile(p, []byte("mine\n"), Options{Expect: []byte("changed by someone else\n")}); err != nil {
		t.Fatal(err)
	}
	if readFile(t, p) != "mine\n" {
		t.Fatalf("content %q", readFile(t, p))
	}
}

// When the rename fails (here: the target is a folder), the temporary file is
// removed and the target is untouched.
func TestFailureRemovesTemp(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "inside"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(target, []byte("x"), Options{}); err == nil {
		t.Fatal("replaced a folder")
	}
	if got := entries(t, dir); len(got) != 1 || got[0] != "target" {
		t.Fatalf("folder holds %v, want only target", got)
	}
	if readFile(t, filepath.Join(target, "inside")) != "keep" {
		t.Fatal("folder content changed")
	}
}

// A folder that does not exist: an error, nothing created.
func TestMissingFolder(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "no", "such", "file")
	err := WriteFile(p, []byte("x"), Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
	// The message names the folder, not a random temporary name.
	if want := `create a temporary file in "` + filepath.Dir(p) + `": `; !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), ".sopsfleet-") {
		t.Fatalf("err = %q, want it to start %q", err, want)
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Fatalf("folder holds %v", got)
	}
}
