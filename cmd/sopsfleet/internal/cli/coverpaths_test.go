package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
	"github.com/sopsfleet/sopsfleet/rekey"
)

func TestCoverPaths(t *testing.T) {
	t.Chdir(t.TempDir())
	all := []string{"common/a.yaml", "common/b.json", "hosts/h1/x.env", "hosts/h1/y.ini", "hosts/h2/x.env", "top.yaml"}
	for _, tc := range []struct {
		name         string
		paths, roots []string
		want         []string
	}{
		{"everything", all, []string{"."}, []string{"."}},
		{"all of two folders", []string{"common/a.yaml", "common/b.json", "hosts/h2/x.env"}, []string{"."}, []string{"common", "hosts/h2"}},
		{"not all of a folder", []string{"common/a.yaml", "hosts/h1/x.env"}, []string{"."}, []string{"common/a.yaml", "hosts/h1/x.env"}},
		{"all hosts", []string{"hosts/h1/x.env", "hosts/h1/y.ini", "hosts/h2/x.env"}, []string{"."}, []string{"hosts"}},
		// A folder outside the searched roots may hold other sops files.
		{"searched only hosts/h1", []string{"hosts/h1/x.env", "hosts/h1/y.ini"}, []string{"hosts/h1"}, []string{"hosts/h1"}},
		{"files given as roots", []string{"common/a.yaml", "common/b.json"}, []string{"common/a.yaml", "common/b.json"}, []string{"common/a.yaml", "common/b.json"}},
		{"a lone file at the top", []string{"top.yaml"}, []string{"."}, []string{"top.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			found := all
			if tc.name == "searched only hosts/h1" {
				found = []string{"hosts/h1/x.env", "hosts/h1/y.ini"}
			}
			if tc.name == "files given as roots" {
				found = tc.roots
			}
			if got := coverPaths(tc.paths, found, tc.roots); !slices.Equal(got, tc.want) {
				t.Errorf("coverPaths = %v, want %v", got, tc.want)
			}
		})
	}
	// Absolute paths (a config change's plan) are shown from the working
	// folder.
	wd, _ := filepath.Abs(".")
	var absAll []string
	for _, p := range all {
		absAll = append(absAll, filepath.Join(wd, p))
	}
	if got := coverPaths(absAll[2:5], absAll, []string{wd}); !slices.Equal(got, []string{"hosts"}) {
		t.Errorf("absolute: %v, want [hosts]", got)
	}
}

// The rotate warning names folders that hold only the files to rotate and
// shell-quotes what it prints.
func TestWarnRotateCommand(t *testing.T) {
	t.Chdir(t.TempDir())
	ios, _, _ := TestIO("")
	var errOut strings.Builder
	ios.ErrOut = &errOut
	found := []string{"common/my file.env", "common/app.yaml", "hosts/a b/x.env", "hosts/db/db.json"}
	warnRotate(ios, "", "web1", "still holds", found[:3], 0, found, []string{"."})
	want := "sopsfleet: warning: without rotation, web1 still holds the data keys of 3 files: rotate them with\n" +
		"  sopsfleet updatekeys --rotate common 'hosts/a b'\n"
	if errOut.String() != want {
		t.Errorf("got\n%s\nwant\n%s", errOut.String(), want)
	}
}

// A file whose removed recipients held only shares of its data key (fewer
// than its Shamir threshold) is counted apart.
func TestWarnRotateShares(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct {
		n, shares int
		want      string
	}{
		{2, 0, "the data keys of 2 files: rotate them with"},
		{1, 1, "shares of the data key of 1 file (not enough to decrypt it alone): rotate it with"},
		{3, 1, "the data keys of 2 files and shares of the data key of 1 more (not enough to decrypt that one alone): rotate them with"},
		{3, 2, "the data key of 1 file and shares of the data keys of 2 more (not enough to decrypt those alone): rotate them with"},
	} {
		ios, _, _ := TestIO("")
		var errOut strings.Builder
		ios.ErrOut = &errOut
		paths := []string{"a.yaml", "b.yaml", "c.yaml"}[:tc.n]
		warnRotate(ios, "", "web1", "still holds", paths, tc.shares, paths, []string{"a.yaml"})
		first, _, _ := strings.Cut(errOut.String(), "\n")
		if want := "sopsfleet: warning: without rotation, web1 still holds " + tc.want; first != want {
			t.Errorf("%d files, %d share-only:\n got %s\nwant %s", tc.n, tc.shares, first, want)
		}
	}
}

// Files that changed during a config change are named from the working
// folder, five at most.
func TestApplyErrorMessage(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var errs []error
	for i := range 7 {
		errs = append(errs, &atomicfile.ChangedError{Path: filepath.Join(dir, "hosts", fmt.Sprintf("s%d.yaml", i))})
	}
	ae := &rekey.ApplyError{Err: errors.Join(errs...)}
	want := "nothing was written: 7 files changed on disk since they were read: hosts/s0.yaml, hosts/s1.yaml, hosts/s2.yaml, hosts/s3.yaml, hosts/s4.yaml and 2 more"
	if got := applyErrorMessage(ae); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	ae = &rekey.ApplyError{Err: errs[0]}
	if got, want := applyErrorMessage(ae), "nothing was written: 1 file changed on disk since it was read: hosts/s0.yaml"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	ae = &rekey.ApplyError{Written: 3, Err: errors.New("rename: no space left on device")}
	if got := applyErrorMessage(ae); got != ae.Error() {
		t.Errorf("got %s", got)
	}
}

// A folder holding a link to a sops file elsewhere in the tree is not
// named: the run over the whole tree dropped the link (its target is
// listed under its own name), but 'updatekeys --rotate hosts/h1' would
// follow it and rotate common/a.yaml under the rule of hosts/h1 — taking
// the recipients of common/ away from a file that needed no rotation.
func TestCoverPathsLinkInFolder(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, p := range []string{"common/a.yaml", "hosts/h1/x.env", "hosts/h1/y.ini", "hosts/h2/x.env"} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../../common/a.yaml", "hosts/h1/link.yaml"); err != nil {
		t.Fatal(err)
	}
	found := []string{"common/a.yaml", "hosts/h1/x.env", "hosts/h1/y.ini", "hosts/h2/x.env"}
	paths := []string{"hosts/h1/x.env", "hosts/h1/y.ini"}
	if got, want := coverPaths(paths, found, []string{"."}), paths; !slices.Equal(got, want) {
		t.Errorf("coverPaths = %v, want %v", got, want)
	}
	// hosts/h2 holds no link: it is still named.
	if got, want := coverPaths([]string{"hosts/h2/x.env"}, found, []string{"."}), []string{"hosts/h2"}; !slices.Equal(got, want) {
		t.Errorf("coverPaths = %v, want %v", got, want)
	}
	// A link the run listed under its own name (its target is outside the
	// folders searched) is one of the folder's files.
	found = []string{"hosts/h1/link.yaml", "hosts/h1/x.env", "hosts/h1/y.ini"}
	paths = found
	if got, want := coverPaths(paths, found, []string{"hosts/h1"}), []string{"hosts/h1"}; !slices.Equal(got, want) {
		t.Errorf("coverPaths = %v, want %v", got, want)
	}
}
