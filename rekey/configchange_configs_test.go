package rekey_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
	"github.com/sopsfleet/sopsfleet/rekey"
)

// nestedRepo is a tree encrypted to admin and web1 with a root .sops.yaml
// and prod/.sops.yaml, both listing admin and web1, and the edits that
// remove web1 from each.
func nestedRepo(t *testing.T) (dir string, ids map[string]*age.X25519Identity, web1 recipients.Key, root, prod *recipients.Edit) {
	t.Helper()
	ids = map[string]*age.X25519Identity{"admin": newIdentity(), "web1": newIdentity()}
	dir = exampleRepo(ids, []string{"admin", "web1"}, "app.yaml", "prod/db.yaml")
	t.Cleanup(func() { os.RemoveAll(dir) })
	text, err := os.ReadFile(filepath.Join(dir, ".sops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prod", ".sops.yaml"), text, 0o644); err != nil {
		t.Fatal(err)
	}
	edit := func(path string) *recipients.Edit {
		cfg, err := recipients.LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		web1, _ = cfg.Lookup("web1")
		ed, err := cfg.Remove(web1)
		if err != nil {
			t.Fatal(err)
		}
		return ed
	}
	root = edit(filepath.Join(dir, ".sops.yaml"))
	prod = edit(filepath.Join(dir, "prod", ".sops.yaml"))
	return dir, ids, web1, root, prod
}

func changeFile(p *rekey.ChangePlan, path string) *rekey.ChangeFile {
	for _, f := range p.Files {
		if f.Path == path {
			return f
		}
	}
	return nil
}

// TestPlanChangeNearest: a file under a nested config that is not edited is
// governed by that config, not by the edited root config: it only loses
// the removed key (Governor names its config). Edited together (Also),
// both configs are written, last, and both files follow their own config.
func TestPlanChangeNearest(t *testing.T) {
	dir, ids, web1, root, prod := nestedRepo(t)
	opts := rekey.ChangeOptions{
		ConfigPath: root.Path, Old: root.Old, New: root.New, Root: dir, Nearest: true,
		Removed: []recipients.Key{web1}, Jobs: 2,
		Opener: func() (*sopsfile.Opener, error) { return sopsfile.NewOpener([]age.Identity{ids["admin"]}), nil },
	}
	p, err := rekey.PlanChange(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	db := changeFile(p, filepath.Join(dir, "prod", "db.yaml"))
	if db == nil || !db.Outside || db.Governor != filepath.Join(dir, "prod", ".sops.yaml") {
		t.Fatalf("prod/db.yaml = %+v, want Outside with Governor prod/.sops.yaml", db)
	}
	if app := changeFile(p, filepath.Join(dir, "app.yaml")); app == nil || app.Outside || app.Governor != "" {
		t.Fatalf("app.yaml = %+v, want governed by the edited root config", app)
	}

	opts.Also = []rekey.ConfigEdit{{Path: prod.Path, Old: prod.Old, New: prod.New}}
	p, err = rekey.PlanChange(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Edits) != 2 || p.Edits[1].Path != prod.Path {
		t.Fatalf("Edits = %v, want the root config then prod's", p.Edits)
	}
	db = changeFile(p, filepath.Join(dir, "prod", "db.yaml"))
	if db == nil || db.Outside || db.NoRule || len(db.Removed) != 1 {
		t.Fatalf("prod/db.yaml = %+v, want governed by the edited prod config, losing web1", db)
	}
	if err := p.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for _, ed := range []*recipients.Edit{root, prod} {
		if got, _ := os.ReadFile(ed.Path); !bytes.Equal(got, ed.New) {
			t.Errorf("%s was not written", ed.Path)
		}
	}
	for _, name := range []string{"app.yaml", "prod/db.yaml"} {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		if bytes.Contains(data, []byte(web1.ID)) {
			t.Errorf("%s still holds web1", name)
		}
	}
}

// TestRunNearestConfig: with Configs, a catch-all rule of the root config
// does not strip the recipients a nested config wants.
func TestRunNearestConfig(t *testing.T) {
	dir, _, web1, root, _ := nestedRepo(t)
	// The root config no longer wants web1; prod/.sops.yaml still does.
	if err := os.WriteFile(root.Path, root.New, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := recipients.LoadConfig(root.Path)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(dir, "app.yaml"), filepath.Join(dir, "prod", "db.yaml")}
	res := rekey.Run(context.Background(), files, rekey.Options{Config: cfg, ConfigPath: root.Path, DryRun: true,
		Configs: recipients.NearestConfigSet(cfg)})
	if res[0].Status != rekey.StatusUpdated || len(res[0].Removed) != 1 || res[0].Removed[0].Key != web1.ID {
		t.Errorf("app.yaml: %+v, want web1 removed", res[0])
	}
	if res[1].Status != rekey.StatusUnchanged || res[1].Config != filepath.Join(dir, "prod", ".sops.yaml") {
		t.Errorf("prod/db.yaml: %+v, want unchanged under prod/.sops.yaml", res[1])
	}
	// One config for all (--config): the root rule governs prod too.
	res = rekey.Run(context.Background(), files, rekey.Options{Config: cfg, ConfigPath: root.Path, DryRun: true})
	if res[1].Status != rekey.StatusUpdated || len(res[1].Removed) != 1 {
		t.Errorf("prod/db.yaml with one config: %+v, want web1 removed", res[1])
	}
}
