package rekey_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
	"github.com/sopsfleet/sopsfleet/rekey"
)

// TestChangeReplacementReachesFilesNoRuleMatches: replacing web1's key
// (Removed old, Replacements old → new) gives a file the rule governs the
// new key from the rule, and a file no rule matches the new key in the
// place of the old one, keeping its other recipients; the new key opens
// both, the old one neither.
func TestChangeReplacementReachesFilesNoRuleMatches(t *testing.T) {
	ids := map[string]*age.X25519Identity{"admin": newIdentity(), "web1": newIdentity()}
	dir := exampleRepo(ids, []string{"admin", "web1"}, "a.yaml", "legacy/x.yaml")
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfgPath := filepath.Join(dir, ".sops.yaml")
	old, _ := os.ReadFile(cfgPath)
	// Only a.yaml has a rule now.
	scoped := strings.Replace(string(old), "creation_rules:\n  - key_groups:", "creation_rules:\n  - path_regex: ^a\\.yaml$\n    key_groups:", 1)
	if err := os.WriteFile(cfgPath, []byte(scoped), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := recipients.ParseConfig(cfgPath, []byte(scoped))
	if err != nil {
		t.Fatal(err)
	}
	newID := newIdentity()
	oldKey := recipients.Key{Type: recipients.TypeAge, ID: ids["web1"].Recipient().String()}
	newKey := recipients.Key{Type: recipients.TypeAge, ID: newID.Recipient().String()}
	ed, err := cfg.Replace(oldKey, newKey)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := rekey.PlanChange(context.Background(), rekey.ChangeOptions{
		ConfigPath: cfgPath, Old: ed.Old, New: ed.New, Root: dir, Jobs: 2,
		Removed:      []recipients.Key{oldKey},
		Replacements: map[recipients.Key]recipients.Key{oldKey: newKey},
		Rotate:       true,
		Opener: func() (*sopsfile.Opener, error) {
			return sopsfile.NewOpener([]age.Identity{ids["admin"]}), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Files) != 2 || len(plan.NoRule()) != 1 {
		t.Fatalf("plan has %d files, %d without a rule; want 2 and 1", len(plan.Files), len(plan.NoRule()))
	}
	if err := plan.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := plan.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.yaml", "legacy/x.yaml"} {
		p := filepath.Join(dir, name)
		data, _ := os.ReadFile(p)
		if bytes.Contains(data, []byte(oldKey.ID)) || !bytes.Contains(data, []byte(newKey.ID)) || !bytes.Contains(data, []byte(ids["admin"].Recipient().String())) {
			t.Errorf("%s: recipients not swapped:\n%s", name, data)
		}
		f, err := sopsfile.Parse(p, data)
		if err != nil {
			t.Fatal(err)
		}
		if key, err := sopsfile.NewOpener([]age.Identity{newID}).OpenDataKey(f, data); err != nil {
			t.Errorf("%s: the new key does not open it: %v", name, err)
		} else {
			clear(key)
		}
		if _, err := sopsfile.NewOpener([]age.Identity{ids["web1"]}).OpenDataKey(f, data); err == nil {
			t.Errorf("%s: the old key still opens it", name)
		}
	}
}

// TestChangeReplacementOfOnlyMember: in a file no rule matches, replacing
// the only member of its key group is no removal that leaves the group
// empty: the new key takes the old one's place.
func TestChangeReplacementOfOnlyMember(t *testing.T) {
	ids := map[string]*age.X25519Identity{"web1": newIdentity()}
	dir := exampleRepo(ids, []string{"web1"}, "a.yaml", "legacy/x.yaml")
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfgPath := filepath.Join(dir, ".sops.yaml")
	old, _ := os.ReadFile(cfgPath)
	scoped := strings.Replace(string(old), "creation_rules:\n  - key_groups:", "creation_rules:\n  - path_regex: ^a\\.yaml$\n    key_groups:", 1)
	if err := os.WriteFile(cfgPath, []byte(scoped), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := recipients.ParseConfig(cfgPath, []byte(scoped))
	if err != nil {
		t.Fatal(err)
	}
	newID := newIdentity()
	oldKey := recipients.Key{Type: recipients.TypeAge, ID: ids["web1"].Recipient().String()}
	newKey := recipients.Key{Type: recipients.TypeAge, ID: newID.Recipient().String()}
	ed, err := cfg.Replace(oldKey, newKey)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := rekey.PlanChange(context.Background(), rekey.ChangeOptions{
		ConfigPath: cfgPath, Old: ed.Old, New: ed.New, Root: dir, Jobs: 2,
		Removed:      []recipients.Key{oldKey},
		Replacements: map[recipients.Key]recipients.Key{oldKey: newKey},
		Rotate:       true, Force: true,
		Opener: func() (*sopsfile.Opener, error) {
			return sopsfile.NewOpener([]age.Identity{ids["web1"]}), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if failed := plan.Failed(); len(failed) > 0 {
		t.Fatalf("%s: %s", failed[0].Path, failed[0].Error)
	}
	if err := plan.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := plan.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "legacy/x.yaml")
	data, _ := os.ReadFile(p)
	f, err := sopsfile.Parse(p, data)
	if err != nil {
		t.Fatal(err)
	}
	if key, err := sopsfile.NewOpener([]age.Identity{newID}).OpenDataKey(f, data); err != nil {
		t.Errorf("the new key does not open it: %v", err)
	} else {
		clear(key)
	}
	if bytes.Contains(data, []byte(oldKey.ID)) {
		t.Errorf("the old key is still in it")
	}
}
