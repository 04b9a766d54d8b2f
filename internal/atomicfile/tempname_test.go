package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestWriteFileConcurrently(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i := range 40 {
		sub := filepath.Join(dir, fmt.Sprintf("d%d", i%3))
		os.MkdirAll(sub, 0o755)
		p := filepath.Join(sub, fmt.Sprintf("f%d.yaml", i))
		if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(paths))
	for i, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = WriteFile(p, []byte("new "+p), Options{Expect: []byte("old")})
		}()
	}
	wg.Wait()
	for i, p := range paths {
		if errs[i] != nil {
			t.Fatalf("%s: %v", p, errs[i])
		}
		got, _ := os.ReadFile(p)
		if string(got) != "new "+p {
			t.Errorf("%s = %q", p, got)
		}
		st, _ := os.Stat(p)
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600 kept", p, st.Mode().Perm())
		}
	}
	batchAssertNoTemp(t, dir)
}

func TestWriteFileRefusesChangedFileAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.env")
	os.WriteFile(p, []byte("changed by someone"), 0o644)
	err := WriteFile(p, []byte("new"), Options{Expect: []byte("as read")})
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("err = %v, want ErrChanged", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "changed by someone" {
		t.Errorf("file changed to %q", got)
	}
	batchAssertNoTemp(t, dir)
}

func TestReplaceWritesThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real", "s.json")
	os.MkdirAll(filepath.Dir(real), 0o755)
	os.WriteFile(real, []byte("old"), 0o640)
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(real, link); err != nil {
		t.Skip(err)
	}
	dir, err := replace(OS{}, link, []byte("new"), Options{Expect: []byte("old")})
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Dir(real) {
		t.Errorf("folder to sync is %s, not the target's", dir)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("link replaced by a file")
	}
	if got, _ := os.ReadFile(real); string(got) != "new" {
		t.Errorf("target = %q", got)
	}
}

func TestIsTemp(t *testing.T) {
	dir := t.TempDir()
	f, err := os.CreateTemp(dir, TempPrefix+"secrets.yaml"+TempMarker+"*")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if !IsTemp(f.Name()) {
		t.Errorf("IsTemp(%q) = false for a name older versions made", f.Name())
	}
	g, err := os.CreateTemp(dir, tempPattern("secrets.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	if pid, ok := tempPID(filepath.Base(g.Name())); !ok || pid != os.Getpid() {
		t.Errorf("tempPID(%q) = %d, %v; want this process's id", g.Name(), pid, ok)
	}
	if !IsTemp(".a.b.sopsfleet-12-34") {
		t.Error("IsTemp rejects a name with a process id")
	}
	for _, name := range []string{
		"secrets.yaml", ".secrets.yaml", "secrets.yaml.sopsfleet-123", ".sopsfleet-123",
		".secrets.yaml.sopsfleet-", ".secrets.yaml.sopsfleet-12a", "x/.env",
		".s.sopsfleet--34", ".s.sopsfleet-12-", ".s.sopsfleet-1-2-3", ".s.sopsfleet-a-2",
	} {
		if IsTemp(name) {
			t.Errorf("IsTemp(%q) = true", name)
		}
	}
}

func batchAssertNoTemp(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && IsTemp(p) {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

func TestWriteFileMissingFolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "gone", "a.yaml")
	err := WriteFile(p, []byte("x"), Options{})
	if err == nil || !strings.HasPrefix(err.Error(), `create a temporary file in "`+filepath.Dir(p)+`": `) || strings.Contains(err.Error(), TempMarker) {
		t.Fatalf("err = %v", err)
	}
}
