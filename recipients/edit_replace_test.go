package recipients

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sopsconfig "github.com/getsops/sops/v3/config"
)

// replaceProbes are paths that reach every rule of the own-rule shapes.
var replaceProbes = []string{"hosts/h01/a.yaml", "hosts/h02/a.yaml", "shared/a.yaml", "common/a.yaml", "other.yaml"}

// sopsResolve is sopsGroups for every probe, "none" where no rule matches.
func sopsResolve(t *testing.T, conf string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range replaceProbes {
		if _, err := sopsconfig.LoadCreationRuleForFile(conf, filepath.Join(filepath.Dir(conf), p), nil); err != nil {
			out[p] = "none"
			continue
		}
		out[p] = strings.Join(sopsGroups(t, conf, p), ";")
	}
	return out
}

// swapResolved swaps a key in a sopsResolve value, keeping each group
// sorted.
func swapResolved(s, old, new string) string {
	if s == "none" {
		return s
	}
	groups := strings.Split(s, ";")
	for i, g := range groups {
		groups[i] = sortedJoin(strings.Split(strings.ReplaceAll(g, old, new), ",")...)
	}
	return strings.Join(groups, ";")
}

// TestReplaceShapes: in every shape, replacing h01's key changes only the
// key text (the expected file is the old one with the key's text swapped,
// byte for byte), and sops resolves every probe path of the new file to
// the old groups with the key swapped.
func TestReplaceShapes(t *testing.T) {
	for shape, src := range ownRuleShapes {
		t.Run(shape, func(t *testing.T) {
			keys := newOwnRuleKeys(t)
			data := []byte(keys.expand(src))
			dir := t.TempDir()
			conf := filepath.Join(dir, ".sops.yaml")
			if err := os.WriteFile(conf, data, 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := ParseConfig(conf, data)
			if err != nil {
				t.Fatal(err)
			}
			old, err := c.Lookup("h01")
			if err != nil {
				t.Fatal(err)
			}
			nk := Key{Type: TypeAge, ID: keys.new}
			before := sopsResolve(t, conf)
			ed, err := c.Replace(old, nk)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.ReplaceAll(string(data), keys.h01, keys.new); string(ed.New) != want {
				t.Fatalf("edited text:\n%s\nwant:\n%s", ed.New, want)
			}
			if ed.Name != "h01" {
				t.Errorf("Name = %q, want h01", ed.Name)
			}
			if err := os.WriteFile(conf, ed.New, 0o644); err != nil {
				t.Fatal(err)
			}
			after := sopsResolve(t, conf)
			for _, p := range replaceProbes {
				if want := swapResolved(before[p], keys.h01, keys.new); after[p] != want {
					t.Errorf("%s: sops resolves %q, want %q", p, after[p], want)
				}
				if strings.Contains(after[p], keys.h01) {
					t.Errorf("%s: still resolves to the old key", p)
				}
			}
			nc, err := ParseConfig(conf, ed.New)
			if err != nil {
				t.Fatal(err)
			}
			if k, err := nc.Lookup("h01"); err != nil || k != nk {
				t.Errorf("h01 is now %v (%v), want the new key", k, err)
			}
		})
	}
}

// TestReplaceUnnamedAndDuplicates: an unnamed literal occurrence, a key
// listed twice in a flat rule and a quoted value are all changed, their
// comments kept.
func TestReplaceUnnamedAndDuplicates(t *testing.T) {
	keys := newOwnRuleKeys(t)
	src := keys.expand(`creation_rules:
  - path_regex: a/
    age:
      - "H01"
      - ADMIN # admin
      - H01   # h01 again
  - path_regex: b/
    key_groups:
      - age: ['H01']
      - age: [ADMIN]
`)
	c, err := ParseConfig("/x/.sops.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	ed, err := c.Replace(Key{Type: TypeAge, ID: keys.h01}, Key{Type: TypeAge, ID: keys.new})
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(src, keys.h01, keys.new); string(ed.New) != want {
		t.Fatalf("edited text:\n%s\nwant:\n%s", ed.New, want)
	}
}

// TestReplaceRefusals: same key, another field, a new key already present,
// and an unknown key are refused with nothing built.
func TestReplaceRefusals(t *testing.T) {
	keys := newOwnRuleKeys(t)
	src := keys.expand(`creation_rules:
  - age: ADMIN,H01 # admin, h01
    pgp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4
`)
	c, err := ParseConfig("/x/.sops.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	h01 := Key{Type: TypeAge, ID: keys.h01}
	if _, err := c.Replace(h01, h01); !errors.Is(err, ErrSameKey) {
		t.Errorf("same key: %v", err)
	}
	if _, err := c.Replace(h01, Key{Type: TypePGP, ID: "0000000000000000000000000000000000000000"}); err == nil || !strings.Contains(err.Error(), "use 'recipients remove' and 'recipients add'") {
		t.Errorf("other field: %v", err)
	}
	if _, err := c.Replace(h01, Key{Type: TypeAge, ID: keys.admin}); err == nil || !strings.Contains(err.Error(), "already a recipient") {
		t.Errorf("present key: %v", err)
	}
	if _, err := c.Replace(Key{Type: TypeAge, ID: keys.h02}, Key{Type: TypeAge, ID: keys.new}); !errors.Is(err, ErrUnknownName) {
		t.Errorf("unknown key: %v", err)
	}
	pgp := Key{Type: TypePGP, ID: "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"}
	ed, err := c.Replace(pgp, Key{Type: TypePGP, ID: "85D77543B3D624B63CEA9E6DBC17301B491B3F21"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ed.New), "pgp: 85D77543B3D624B63CEA9E6DBC17301B491B3F21\n") {
		t.Errorf("pgp replaced:\n%s", ed.New)
	}
}

// TestReplaceSpacedFingerprint: a fingerprint written with spaces is
// found as written.
func TestReplaceSpacedFingerprint(t *testing.T) {
	if got := findSpacedFingerprint("x FBC7 B9E2 y", "FBC7B9E2"); got != "FBC7 B9E2" {
		t.Fatalf("got %q", got)
	}
	if got := findSpacedFingerprint("FBC7 B9E3", "FBC7B9E2"); got != "" {
		t.Fatalf("got %q", got)
	}
}

// TestRandomConfigsReplace: in random configs of every shape, replacing
// each age key by a fresh one changes exactly the key's text (the old
// text with the key swapped, byte for byte), sops resolves the result to
// the old groups with the key swapped (cross-checked on every tenth
// config), and replacing it back restores the file.
func TestRandomConfigsReplace(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	n := 150
	if testing.Short() {
		n = 30
	}
	probes := []string{"dir0/a", "dir1/b", "dir2/c", "dir3/d", "other"}
	replaced := 0
	for i := 0; i < n; i++ {
		text := genConfig(rng)
		c, err := ParseConfig(".sops.yaml", []byte(text))
		if err != nil {
			t.Fatalf("config %d does not parse: %v\n%s", i, err, text)
		}
		ok := t.Run(fmt.Sprint(i), func(t *testing.T) {
			seen := map[Key]bool{}
			for _, m := range c.Members() {
				if m.Key.Type != TypeAge || seen[m.Key] {
					continue
				}
				seen[m.Key] = true
				nk := Key{Type: TypeAge, ID: keyG}
				ed, err := c.Replace(m.Key, nk)
				if err != nil {
					var u *errUnclean
					if !errors.As(err, &u) {
						t.Errorf("replace %s: %v", m.Key, err)
					}
					continue
				}
				if want := strings.ReplaceAll(text, m.Key.ID, keyG); string(ed.New) != want {
					t.Errorf("replace %s:\n%s\nwant:\n%s", m.Key, ed.New, want)
					continue
				}
				if i%10 == 0 {
					compareWithSops(t, ed.New, probes)
				}
				nc, err := ParseConfig(c.Path, ed.New)
				if err != nil {
					t.Fatal(err)
				}
				back, err := nc.Replace(nk, m.Key)
				if err != nil || string(back.New) != text {
					t.Errorf("replace %s and back: %v", m.Key, err)
				}
				replaced++
			}
		})
		if !ok {
			t.Logf("config %d:\n%s", i, text)
			break
		}
	}
	t.Logf("%d keys replaced and restored", replaced)
}
