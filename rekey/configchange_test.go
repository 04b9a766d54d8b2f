package rekey_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
	"github.com/sopsfleet/sopsfleet/rekey"
)

// retireFixture is a tree encrypted to admin and web1 and the plan that
// removes web1 from it.
type retireFixture struct {
	dir        string
	ids        map[string]*age.X25519Identity
	web1       recipients.Key
	config     []byte
	files      map[string][]byte // path → content before the change
	opts       rekey.ChangeOptions
	openerUsed bool
}

func newRetireFixture(t *testing.T, rotate bool, names ...string) *retireFixture {
	t.Helper()
	fx := &retireFixture{ids: map[string]*age.X25519Identity{"admin": newIdentity(), "web1": newIdentity()}, files: map[string][]byte{}}
	fx.dir = exampleRepo(fx.ids, []string{"admin", "web1"}, names...)
	t.Cleanup(func() { os.Chmod(fx.dir, 0o755); os.RemoveAll(fx.dir) })
	cfgPath := filepath.Join(fx.dir, ".sops.yaml")
	cfg, err := recipients.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	fx.web1, _ = cfg.Lookup("web1")
	ed, err := cfg.Remove(fx.web1)
	if err != nil {
		t.Fatal(err)
	}
	fx.config = ed.Old
	for _, n := range names {
		p := filepath.Join(fx.dir, n)
		fx.files[p], _ = os.ReadFile(p)
	}
	fx.opts = rekey.ChangeOptions{
		ConfigPath: cfgPath, Old: ed.Old, New: ed.New, Root: fx.dir,
		Removed: []recipients.Key{fx.web1}, Rotate: rotate, Jobs: 2,
		Opener: func() (*sopsfile.Opener, error) {
			fx.openerUsed = true
			return sopsfile.NewOpener([]age.Identity{fx.ids["admin"]}), nil
		},
	}
	return fx
}

// unchanged fails unless every file and .sops.yaml hold their old content
// and no temporary file is left.
func (fx *retireFixture) unchanged(t *testing.T) {
	t.Helper()
	for p, want := range fx.files {
		if got, _ := os.ReadFile(p); !bytes.Equal(got, want) {
			t.Errorf("%s changed", p)
		}
	}
	if got, _ := os.ReadFile(fx.opts.ConfigPath); !bytes.Equal(got, fx.config) {
		t.Errorf(".sops.yaml changed")
	}
	fx.noTemps(t)
}

func (fx *retireFixture) noTemps(t *testing.T) {
	t.Helper()
	filepath.WalkDir(fx.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && atomicfile.IsTemp(p) {
			t.Errorf("temporary file %s left", p)
		}
		return nil
	})
}

func (fx *retireFixture) plan(t *testing.T) *rekey.ChangePlan {
	t.Helper()
	plan, err := rekey.PlanChange(context.Background(), fx.opts)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func TestChangeNoRotateNeedsNoKey(t *testing.T) {
	fx := newRetireFixture(t, false, "a.yaml", "b/c.yaml")
	plan := fx.plan(t)
	if err := plan.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := plan.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if fx.openerUsed {
		t.Error("a removal without rotation loaded identities")
	}
	if got := len(plan.Unrotated()); got != 2 {
		t.Errorf("Unrotated() has %d files, want 2", got)
	}
	for p, old := range fx.files {
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte(fx.web1.ID)) || bytes.Equal(b, old) {
			t.Errorf("%s still lists web1", p)
		}
	}
	fx.noTemps(t)
}

func TestChangeInterruptedBeforeApplyWritesNothing(t *testing.T) {
	fx := newRetireFixture(t, true, "a.yaml", "b/c.yaml")
	plan := fx.plan(t)
	if err := plan.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := plan.Apply(ctx, nil)
	var ae *rekey.ApplyError
	if !errors.As(err, &ae) || !ae.Interrupted || ae.Written != 0 {
		t.Fatalf("Apply after cancel: %v, want an interrupted ApplyError with nothing written", err)
	}
	fx.unchanged(t)
}

// Someone edits files between prepare and apply: nothing is written, and
// the error names exactly the files that changed.
func TestChangeFileChangedAfterPrepareWritesNothing(t *testing.T) {
	fx := newRetireFixture(t, true, "a.yaml", "b/c.yaml", "b/d.yaml", "e.yaml")
	plan := fx.plan(t)
	if err := plan.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, name := range []string{"b/c.yaml", "e.yaml"} {
		p := filepath.Join(fx.dir, name)
		edited := append(append([]byte{}, fx.files[p]...), "# edited\n"...)
		os.WriteFile(p, edited, 0o600)
		fx.files[p] = edited
		want = append(want, p)
	}
	err := plan.Apply(context.Background(), nil)
	var ae *rekey.ApplyError
	if !errors.As(err, &ae) || ae.Written != 0 {
		t.Fatalf("Apply: %v, want an ApplyError with nothing written", err)
	}
	if got := ae.Changed(); !slices.Equal(got, want) {
		t.Errorf("Changed() = %v, want %v", got, want)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "nothing was written: 2 files changed on disk since they were read (") || strings.Contains(msg, "d.yaml") {
		t.Errorf("error %q", msg)
	}
	fx.unchanged(t)
}

func TestChangeUnwritableFolderWritesNothing(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes into any folder")
	}
	fx := newRetireFixture(t, true, "a.yaml", "locked/c.yaml")
	locked := filepath.Join(fx.dir, "locked")
	if err := os.Chmod(locked, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(locked, 0o755)
	plan := fx.plan(t)
	err := plan.Prepare(context.Background())
	var ce *rekey.ChangeError
	if !errors.As(err, &ce) || len(ce.Failed) != 1 || ce.Failed[0].Path != filepath.Join(locked, "c.yaml") {
		t.Fatalf("Prepare: %v, want a ChangeError naming locked/c.yaml", err)
	}
	if err := plan.Apply(context.Background(), nil); !errors.Is(err, rekey.ErrNotPrepared) {
		t.Fatalf("Apply after a failed Prepare: %v", err)
	}
	fx.unchanged(t)
}

func TestChangeSkipsLinksOutOfTheTree(t *testing.T) {
	fx := newRetireFixture(t, true, "a.yaml")
	outside := t.TempDir()
	target := filepath.Join(outside, "elsewhere.yaml")
	data := fx.files[filepath.Join(fx.dir, "a.yaml")]
	os.WriteFile(target, data, 0o600)
	if err := os.Symlink(target, filepath.Join(fx.dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	plan := fx.plan(t)
	if len(plan.Skipped) != 1 || plan.Skipped[0].Path != filepath.Join(fx.dir, "link.yaml") {
		t.Fatalf("Skipped = %+v, want link.yaml", plan.Skipped)
	}
	if err := plan.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := plan.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, data) {
		t.Error("the file outside the tree was written through the link")
	}
}

func TestChangeReadOnlyFileIsReportedAndKeepsItsMode(t *testing.T) {
	fx := newRetireFixture(t, true, "a.yaml", "ro.yaml")
	ro := filepath.Join(fx.dir, "ro.yaml")
	os.Chmod(ro, 0o400)
	plan := fx.plan(t)
	if err := plan.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, f := range plan.Files {
		if f.ReadOnly != (f.Path == ro) {
			t.Errorf("%s: ReadOnly = %v", f.Path, f.ReadOnly)
		}
	}
	if err := plan.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(ro); st.Mode().Perm() != 0o400 {
		t.Errorf("mode after the change: %v", st.Mode().Perm())
	}
}

func TestChangeRemovingYourselfNeedsForce(t *testing.T) {
	fx := newRetireFixture(t, true, "a.yaml")
	fx.opts.Opener = func() (*sopsfile.Opener, error) {
		return sopsfile.NewOpener([]age.Identity{fx.ids["web1"]}), nil
	}
	plan := fx.plan(t)
	err := plan.Prepare(context.Background())
	var se *rekey.SelfRemovalError
	if !errors.As(err, &se) || len(se.Only) != 1 {
		t.Fatalf("Prepare: %v, want a SelfRemovalError naming a.yaml", err)
	}
	fx.unchanged(t)
	fx.opts.Force = true
	plan = fx.plan(t)
	if err := plan.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := plan.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

// TestChangeOneRunAtATime: while one change is prepared (and until it is
// applied or aborted) a second change of the same repository cannot be
// prepared: both would pass the same checks and the second would write over
// the first. Planning alone takes no lock.
func TestChangeOneRunAtATime(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	fx := newRetireFixture(t, false, "a.yaml")
	first, second := fx.plan(t), fx.plan(t)
	if err := first.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := second.Prepare(context.Background()); !errors.Is(err, rekey.ErrBusy) {
		t.Fatalf("second Prepare: %v, want ErrBusy", err)
	}
	first.Abort()
	third := fx.plan(t)
	if err := third.Prepare(context.Background()); err != nil {
		t.Fatalf("Prepare after Abort: %v", err)
	}
	if err := third.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	fourth := fx.plan(t)
	if err := fourth.Prepare(context.Background()); errors.Is(err, rekey.ErrBusy) {
		t.Fatalf("Apply did not release the lock: %v", err)
	}
	fourth.Abort()
	fx.noTemps(t)
}

// updatekeys (RunTree) takes the same change lock: while a config change is
// prepared it does nothing and says the repository is busy, and it runs
// once the change is over; a dry run needs no lock.
func TestRunTreeWaitsForTheChangeLock(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	fx := newRetireFixture(t, false, "a.yaml", "b/c.yaml")
	// .sops.yaml without web1, files still with it: updatekeys would write.
	if err := os.WriteFile(fx.opts.ConfigPath, fx.opts.New, 0o644); err != nil {
		t.Fatal(err)
	}
	fx.config = fx.opts.New
	cfg, err := recipients.ParseConfig(fx.opts.ConfigPath, fx.opts.New)
	if err != nil {
		t.Fatal(err)
	}
	// A run from a nested folder with its own config holds the same lock:
	// the tree root's.
	held, err := atomicfile.TryLock(fx.dir)
	if err != nil {
		t.Fatal(err)
	}
	opts := rekey.Options{Config: cfg, ConfigPath: fx.opts.ConfigPath, Jobs: 2}
	walk := sopsfile.DiscoverOptions{Root: fx.dir}
	if _, err := rekey.RunTree(context.Background(), []string{fx.dir}, walk, opts); !errors.Is(err, rekey.ErrBusy) {
		t.Fatalf("RunTree while locked: %v, want ErrBusy", err)
	}
	fx.unchanged(t)
	dry := opts
	dry.DryRun = true
	if run, err := rekey.RunTree(context.Background(), []string{fx.dir}, walk, dry); err != nil || len(run.Results) != 2 {
		t.Fatalf("dry run while locked: %v", err)
	}
	held()
	run, err := rekey.RunTree(context.Background(), []string{fx.dir}, walk, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range run.Results {
		if r.Status != rekey.StatusUpdated {
			t.Errorf("%s: %s %s", r.Path, r.Status, r.Error)
		}
	}
	// And the lock is released at the end.
	again, err := atomicfile.TryLock(fx.dir)
	if err != nil {
		t.Fatalf("lock not released: %v", err)
	}
	again()
}
