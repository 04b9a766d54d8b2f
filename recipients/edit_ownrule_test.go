package recipients

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"filippo.io/age"
	sopsconfig "github.com/getsops/sops/v3/config"

	"github.com/sopsfleet/sopsfleet/internal/testsops"
)

// ownRuleKeys are the keys of the own-rule fixtures: ADMIN, H01, H02 and
// NEW in the fixture text are replaced by them.
type ownRuleKeys struct{ admin, h01, h02, new string }

func newOwnRuleKeys(t *testing.T) ownRuleKeys {
	return ownRuleKeys{testAge(t), testAge(t), testAge(t), testAge(t)}
}

func (k ownRuleKeys) expand(s string) string {
	return strings.NewReplacer("ADMIN", k.admin, "H01", k.h01, "H02", k.h02, "NEW", k.new).Replace(s)
}

// ownRuleShapes are .sops.yaml files in every shape the editor supports,
// each with an admin, h01 and h02 with their own rules and a shared rule.
var ownRuleShapes = map[string]string{
	"anchors-keys-list": `keys:
  - &admin ADMIN
  - &h01 H01
  - &h02 H02
creation_rules:
  # h01's own secrets
  - path_regex: hosts/h01/[^/]+$
    age:
      - *admin
      - *h01

  # h02's own secrets
  - path_regex: hosts/h02/[^/]+$
    age:
      - *admin
      - *h02

  - path_regex: shared/
    age:
      - *admin
      - *h01
      - *h02
`,
	"anchors-keys-map": `keys:
  admin: &admin ADMIN
  h01: &h01 H01
  h02: &h02 H02
creation_rules:
  - path_regex: ^hosts/h01/.*\.yaml$
    key_groups:
      - age:
          - *admin
          - *h01
  - path_regex: ^hosts/h02/.*\.yaml$
    key_groups:
      - age:
          - *admin
          - *h02
  - path_regex: ^common/
    key_groups:
      - age: [*admin, *h01, *h02]
`,
	"literal-comments": `creation_rules:
  # secrets of host h01 only
  - path_regex: 'hosts/h01/[^/]+$'
    age:
      - ADMIN # admin
      - H01 # h01
  # a comment that names nobody
  - path_regex: 'hosts/h02/[^/]+$'
    age:
      - ADMIN # admin
      - H02 # h02
  - path_regex: ''
    age:
      - ADMIN # admin
      - H01 # h01
      - H02 # h02
`,
	"comma-strings": `creation_rules:
  - path_regex: hosts/h01/
    age: ADMIN,H01 # admin, h01
  - path_regex: hosts/h02/
    age: ADMIN,H02 # admin, h02
  - age: ADMIN,H01,H02 # admin, h01, h02
`,
	"flow-lists": `keys: [&admin ADMIN, &h01 H01, &h02 H02]
creation_rules:
  - {path_regex: shared/, age: [*admin, *h01, *h02]}
  - path_regex: "hosts/h01/[^/]+$"
    age: [*admin, *h01]
  - path_regex: "hosts/h02/[^/]+$"
    age: [*admin, *h02]
`,
	"crlf": "keys:\r\n  - &admin ADMIN\r\n  - &h01 H01\r\n  - &h02 H02\r\ncreation_rules:\r\n  - path_regex: hosts/h01/\r\n    age: [*admin, *h01]\r\n  - path_regex: hosts/h02/\r\n    age: [*admin, *h02]\r\n  - age: [*admin, *h01, *h02]",
	"h01-only-in-own-rule": `keys:
  - &admin ADMIN
  - &h01 H01
creation_rules:
  - path_regex: hosts/h01/[^/]+$
    age: [*admin, *h01]
  - path_regex: .*
    age: [*admin]
`,
}

// sopsGroups resolves path with sops' own code and returns each group's
// keys, sorted.
func sopsGroups(t *testing.T, conf, path string) []string {
	t.Helper()
	rule, err := sopsconfig.LoadCreationRuleForFile(conf, filepath.Join(filepath.Dir(conf), path), nil)
	if err != nil {
		t.Fatalf("sops resolves %s: %v", path, err)
	}
	var out []string
	for _, g := range rule.KeyGroups {
		var ks []string
		for _, k := range g {
			ks = append(ks, k.ToString())
		}
		sort.Strings(ks)
		out = append(out, strings.Join(ks, ","))
	}
	return out
}

func sortedJoin(ks ...string) string {
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// TestAddOwnRuleRoundTrip: for every shape, add newhost --like h01
// --own-rule creates newhost's rule (sops resolves its files to admin and
// newhost), leaves h01's rule alone, and remove newhost --drop-own-rule
// restores the file byte for byte.
func TestAddOwnRuleRoundTrip(t *testing.T) {
	for shape, src := range ownRuleShapes {
		t.Run(shape, func(t *testing.T) {
			keys := newOwnRuleKeys(t)
			data := []byte(keys.expand(src))
			dir := t.TempDir()
			conf := filepath.Join(dir, ".sops.yaml")
			c, err := ParseConfig(conf, data)
			if err != nil {
				t.Fatal(err)
			}
			targets, err := c.Targets(TargetOptions{Like: "h01", Group: -1})
			if err != nil {
				t.Fatal(err)
			}
			newKey := Key{TypeAge, keys.new}
			ed, err := c.AddOwn(OwnRuleAddOptions{
				AddOptions: AddOptions{Name: "newhost", Key: newKey, Targets: targets, Like: "h01"},
				FromLike:   true, OwnRule: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(conf, ed.New, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("new text:\n%s", ed.New)
			nc, err := ParseConfig(conf, ed.New)
			if err != nil {
				t.Fatal(err)
			}
			probe := "hosts/newhost/x.yaml"
			if got, want := strings.Join(sopsGroups(t, conf, probe), ";"), sortedJoin(keys.admin, keys.new); got != want {
				t.Fatalf("sops gives %s the keys %s, want admin and newhost", probe, got)
			}
			if got, want := strings.Join(sopsGroups(t, conf, "hosts/h01/x.yaml"), ";"), sortedJoin(keys.admin, keys.h01); got != want {
				t.Fatalf("h01's rule changed: %s", got)
			}
			compareWithSops(t, ed.New, append(probePaths, probe, "hosts/h01/x.yaml", "hosts/h02/x.yaml", "shared/s.yaml", "common/c.yaml"))
			if nc.NameOf(newKey) != "newhost" && shape != "comma-strings" {
				t.Fatalf("the new key is named %q", nc.NameOf(newKey))
			}
			// The line endings and the final newline follow the file.
			if bytes.Contains(data, []byte("\r\n")) && bytes.Count(ed.New, []byte("\n")) != bytes.Count(ed.New, []byte("\r\n")) {
				t.Fatal("mixed line endings")
			}
			if bytes.HasSuffix(data, []byte("\n")) != bytes.HasSuffix(ed.New, []byte("\n")) {
				t.Fatal("the final newline changed")
			}
			// A comment above the template that names h01 is copied.
			if strings.Contains(src, "# h01's own secrets") && !strings.Contains(string(ed.New), "# newhost's own secrets") {
				t.Fatal("the comment naming h01 was not copied")
			}
			if strings.Contains(src, "# secrets of host h01 only") && !strings.Contains(string(ed.New), "# secrets of host newhost only") {
				t.Fatal("the comment naming h01 was not copied")
			}
			// The round trip.
			rm, err := nc.RemoveOwn(newKey, OwnRuleRemoveOptions{Drop: true})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(rm.New, data) {
				d, i := lineDiff(data, rm.New)
				t.Fatalf("round trip differs: -%q +%q", d, i)
			}
		})
	}
}

// TestLikeSkipsOwnRule: add web2 --like web1 makes web2 a reader of what
// web1 shares, never of web1's private rule.
func TestLikeSkipsOwnRule(t *testing.T) {
	keys := newOwnRuleKeys(t)
	data := []byte(keys.expand(ownRuleShapes["anchors-keys-list"]))
	c, err := ParseConfig(filepath.Join(t.TempDir(), ".sops.yaml"), data)
	if err != nil {
		t.Fatal(err)
	}
	targets, _ := c.Targets(TargetOptions{Like: "h01", Group: -1})
	newKey := Key{TypeAge, keys.new}
	ed, err := c.AddOwn(OwnRuleAddOptions{AddOptions: AddOptions{Name: "web2", Key: newKey, Targets: targets, Like: "h01"}, FromLike: true})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := ParseConfig(c.Path, ed.New)
	if err != nil {
		t.Fatal(err)
	}
	if hasKey(nc.Rules[0].Groups[0].Members, newKey) || !hasKey(nc.Rules[2].Groups[0].Members, newKey) {
		t.Fatalf("web2 in h01's rule or not in the shared rule:\n%s", ed.New)
	}
	notes := strings.Join(ed.Notes, "\n")
	for _, want := range []string{"rule 1 (hosts/h01/[^/]+$) at line 7 is h01's own rule: web2 is not added to it", "web2 is added to rule 3 (shared/) at line 18"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if len(ed.Changed) != 1 || ed.Changed[0].Rule != 2 {
		t.Fatalf("changed %v", ed.Changed)
	}
	// With --path the user's choice stands.
	pt, _ := c.Targets(TargetOptions{Paths: []string{filepath.Join(filepath.Dir(c.Path), "hosts/h01/a.yaml")}, Like: "h01", Group: -1})
	ed, err = c.AddOwn(OwnRuleAddOptions{AddOptions: AddOptions{Name: "web2", Key: newKey, Targets: pt, Like: "h01"}})
	if err != nil || len(ed.Changed) != 1 || ed.Changed[0].Rule != 0 {
		t.Fatalf("--path: %v %v", ed, err)
	}
	// Only in its own rule: nothing to add to, unless --own-rule.
	only := []byte(keys.expand(ownRuleShapes["h01-only-in-own-rule"]))
	c2, _ := ParseConfig(c.Path, only)
	t2, _ := c2.Targets(TargetOptions{Like: "h01", Group: -1})
	_, err = c2.AddOwn(OwnRuleAddOptions{AddOptions: AddOptions{Name: "web2", Key: newKey, Targets: t2, Like: "h01"}, FromLike: true})
	if err == nil || !strings.Contains(err.Error(), "h01 is only in its own rule") || !strings.Contains(err.Error(), "--own-rule") {
		t.Fatalf("only in own rule: %v", err)
	}
}

func TestAddOwnRuleRefusals(t *testing.T) {
	keys := newOwnRuleKeys(t)
	newKey := Key{TypeAge, keys.new}
	add := func(src string, o OwnRuleAddOptions) (*Edit, error) {
		t.Helper()
		c, err := ParseConfig(filepath.Join(t.TempDir(), ".sops.yaml"), []byte(keys.expand(src)))
		if err != nil {
			t.Fatal(err)
		}
		if o.Like == "" {
			o.Like = "h01"
		}
		if o.Name == "" {
			o.Name = "newhost"
		}
		o.Key = newKey
		o.Targets, _ = c.Targets(TargetOptions{Like: o.Like, Group: -1})
		o.FromLike, o.OwnRule = true, true
		return c.AddOwn(o)
	}
	// An earlier rule matching the new rule's files: shadowing.
	shadow := "keys:\n  - &admin ADMIN\n  - &h01 H01\ncreation_rules:\n  - path_regex: ^hosts/new\n    age: [*admin]\n  - path_regex: hosts/h01/\n    age: [*admin, *h01]\n"
	if _, err := add(shadow, OwnRuleAddOptions{}); err == nil || !strings.Contains(err.Error(), "rule 1 (^hosts/new) at line 5 comes first and matches its files (e.g. hosts/newhost/") {
		t.Fatalf("shadowing: %v", err)
	}
	// --rule-regex can avoid it, and is what the new rule gets.
	ed, err := add(shadow, OwnRuleAddOptions{RuleRegex: "^machines/newhost/"})
	if err != nil {
		t.Fatalf("--rule-regex: %v", err)
	}
	if !strings.Contains(string(ed.New), "  - path_regex: ^machines/newhost/\n    age: [*admin, *newhost]\n") {
		t.Fatalf("--rule-regex:\n%s", ed.New)
	}
	// The template itself matching the --rule-regex's files.
	if _, err := add(shadow, OwnRuleAddOptions{RuleRegex: "hosts/h01/newhost"}); err == nil || !strings.Contains(err.Error(), "rule 2 (hosts/h01/)") {
		t.Fatalf("template shadows: %v", err)
	}
	// No own rule to copy.
	none := "keys:\n  - &admin ADMIN\n  - &h01 H01\ncreation_rules:\n  - age: [*admin, *h01]\n"
	if _, err := add(none, OwnRuleAddOptions{}); err == nil || !strings.Contains(err.Error(), "h01 has no own rule to copy") || !strings.Contains(err.Error(), "--rule-regex") {
		t.Fatalf("no template: %v", err)
	}
	// Two candidates.
	two := "keys:\n  - &admin ADMIN\n  - &h01 H01\ncreation_rules:\n  - path_regex: hosts/h01/\n    age: [*admin, *h01]\n  - path_regex: ^h01\\.yaml$\n    age: [*admin, *h01]\n  - age: [*admin]\n"
	if _, err := add(two, OwnRuleAddOptions{}); err == nil || !strings.Contains(err.Error(), "2 rules could be h01's own") || !strings.Contains(err.Error(), `rule 2 (^h01\.yaml$)`) {
		t.Fatalf("two candidates: %v", err)
	}
	// h010's rule is not h01's.
	tok := "keys:\n  - &admin ADMIN\n  - &h01 H01\ncreation_rules:\n  - path_regex: hosts/h010/\n    age: [*admin, *h01]\n"
	if _, err := add(tok, OwnRuleAddOptions{}); err == nil || !strings.Contains(err.Error(), "no own rule") {
		t.Fatalf("whole token: %v", err)
	}
	// --own-rule without --like.
	c, _ := ParseConfig(filepath.Join(t.TempDir(), ".sops.yaml"), []byte(keys.expand(none)))
	if _, err := c.AddOwn(OwnRuleAddOptions{AddOptions: AddOptions{Name: "x", Key: newKey}, OwnRule: true}); err == nil || !strings.Contains(err.Error(), "give --like NAME") {
		t.Fatalf("no --like: %v", err)
	}
}

func TestRemoveOwnRule(t *testing.T) {
	keys := newOwnRuleKeys(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, ".sops.yaml")
	c, err := ParseConfig(conf, []byte(keys.expand(ownRuleShapes["anchors-keys-list"])))
	if err != nil {
		t.Fatal(err)
	}
	h02 := Key{TypeAge, keys.h02}
	// Files still governed by the rule: refused, listed.
	files := []string{filepath.Join(dir, "hosts/h02/a.yaml"), filepath.Join(dir, "hosts/h02/b.yaml"), filepath.Join(dir, "shared/s.yaml")}
	_, err = c.RemoveOwn(h02, OwnRuleRemoveOptions{Drop: true, Files: files})
	if err == nil || !strings.Contains(err.Error(), "refusing to delete rule 2 (hosts/h02/[^/]+$) at line 13, h02's own rule: 2 encrypted files are still governed") {
		t.Fatalf("governed files: %v", err)
	}
	if !strings.Contains(err.Error(), "hosts/h02/a.yaml") || strings.Contains(err.Error(), "shared/s.yaml") {
		t.Fatalf("governed files listed wrong: %v", err)
	}
	ed, err := c.RemoveOwn(h02, OwnRuleRemoveOptions{Drop: true, Files: files[2:]})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(ed.New), "h02") {
		t.Fatalf("h02 left:\n%s", ed.New)
	}
	want := keys.expand("keys:\n  - &admin ADMIN\n  - &h01 H01\ncreation_rules:\n  # h01's own secrets\n  - path_regex: hosts/h01/[^/]+$\n    age:\n      - *admin\n      - *h01\n\n  - path_regex: shared/\n    age:\n      - *admin\n      - *h01\n")
	if string(ed.New) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", ed.New, want)
	}
	// Without --drop-own-rule: the rule stays, and a note says with whom.
	ed, err = c.RemoveOwn(h02, OwnRuleRemoveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(ed.Notes, "\n"), "rule 2 (hosts/h02/[^/]+$) at line 13 was h02's own rule: it is left with admin only (--drop-own-rule deletes it)") {
		t.Fatalf("notes: %q", ed.Notes)
	}
	// The admin has no own rule.
	if _, err := c.RemoveOwn(Key{TypeAge, keys.admin}, OwnRuleRemoveOptions{Drop: true}); err == nil || !strings.Contains(err.Error(), "admin has no own rule") {
		t.Fatalf("admin: %v", err)
	}
	if errors.Is(err, ErrNotVerified) {
		t.Fatal("a refusal is not a verification failure")
	}
}

func TestProbePath(t *testing.T) {
	for re, want := range map[string]string{
		`hosts/web1/[^/]+$`:           "hosts/web1/x",
		`^hosts/web1/.*\.yaml$`:       "hosts/web1/x.yaml",
		`hosts/(web1|web2)/`:          "hosts/web1/x.yaml",
		`^secrets/web1\.(yaml|json)$`: "secrets/web1.yaml",
		`web1`:                        "web1",
	} {
		got, ok := probePath(re)
		if !ok || got != want {
			t.Errorf("probePath(%q) = %q, %v; want %q", re, got, ok, want)
		}
	}
}

// TestOwnRuleEditsOverCorpus: over every fixture (and the shared corpus
// when present), for every named recipient with one own rule, add
// --own-rule for a new host either is refused cleanly or resolves (as sops
// does) to the expected members, and remove --drop-own-rule then restores
// the file byte for byte.
func TestOwnRuleEditsOverCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "config", "*.yaml"))
	if corpusDir, ok := testsops.CorpusDir("sops-yaml"); ok {
		more, _ := filepath.Glob(filepath.Join(corpusDir, "*.y*ml"))
		files = append(files, more...)
	}
	tried, done := 0, 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		c, err := ParseConfig(f, data)
		if err != nil {
			continue
		}
		seen := map[string]bool{}
		for _, nm := range c.named() {
			if seen[nm.name] || len(c.OwnRules(nm.name, nm.key)) != 1 || nm.key.Type != TypeAge {
				continue
			}
			seen[nm.name] = true
			tried++
			targets, err := c.Targets(TargetOptions{Like: nm.name, Group: -1})
			if err != nil {
				continue
			}
			newKey := Key{TypeAge, keyG}
			ed, err := c.AddOwn(OwnRuleAddOptions{
				AddOptions: AddOptions{Name: "zz-newhost", Key: newKey, Targets: targets, Like: nm.name},
				FromLike:   true, OwnRule: true,
			})
			if errors.Is(err, ErrNotVerified) {
				t.Errorf("%s add --like %s --own-rule: %v", f, nm.name, err)
				continue
			}
			if err != nil {
				continue // refused cleanly
			}
			nc, err := ParseConfig(f, ed.New)
			if err != nil {
				t.Errorf("%s: re-parse: %v", f, err)
				continue
			}
			rm, err := nc.RemoveOwn(newKey, OwnRuleRemoveOptions{Drop: true})
			if err != nil {
				if nc.NameOf(newKey) == "" {
					continue // the file could not carry the name: nothing is its own
				}
				t.Errorf("%s remove --drop-own-rule after add --like %s: %v\n%s", f, nm.name, err, ed.New)
				continue
			}
			if !bytes.Equal(rm.New, data) {
				d, i := lineDiff(data, rm.New)
				t.Errorf("%s: round trip via %s differs: -%q +%q", f, nm.name, d, i)
				continue
			}
			done++
		}
	}
	t.Logf("%d recipients with an own rule, %d round trips", tried, done)
}

// TestAddOwnRuleOnlyChecksRecipient: when NAME goes into its own rule only,
// the recipient is checked as Add checks it.
func TestAddOwnRuleOnlyChecksRecipient(t *testing.T) {
	keys := newOwnRuleKeys(t)
	c, err := ParseConfig(filepath.Join(t.TempDir(), ".sops.yaml"), []byte(keys.expand(ownRuleShapes["h01-only-in-own-rule"])))
	if err != nil {
		t.Fatal(err)
	}
	targets, _ := c.Targets(TargetOptions{Like: "h01", Group: -1})
	for _, tc := range []struct {
		name string
		key  Key
		want string
	}{
		{"new host", Key{TypeAge, keys.new}, "invalid recipient name"},
		{"newhost", Key{TypePGP, "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"}, "only age and ssh recipients"},
		{"newhost", Key{TypeAge, "age1notakey"}, "invalid age recipient"},
		{"newhost", Key{TypeAge, keys.admin}, `the key is already in the file as "admin"`},
		{"admin", Key{TypeAge, keys.new}, `the anchor "admin" already exists for something else`},
	} {
		_, err := c.AddOwn(OwnRuleAddOptions{AddOptions: AddOptions{Name: tc.name, Key: tc.key, Targets: targets, Like: "h01"}, FromLike: true, OwnRule: true})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: err %v, want %q", tc.name, shortKey(tc.key.ID), err, tc.want)
		}
	}
}

// TestOwnRuleAnchorsInRules: anchors defined inside the rules themselves.
func TestOwnRuleAnchorsInRules(t *testing.T) {
	keys := newOwnRuleKeys(t)
	newKey := Key{TypeAge, keys.new}
	parse := func(src string) *Config {
		t.Helper()
		c, err := ParseConfig(filepath.Join(t.TempDir(), ".sops.yaml"), []byte(keys.expand(src)))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	addOwn := func(c *Config) (*Edit, error) {
		targets, _ := c.Targets(TargetOptions{Like: "h01", Group: -1})
		return c.AddOwn(OwnRuleAddOptions{AddOptions: AddOptions{Name: "newhost", Key: newKey, Targets: targets, Like: "h01"}, FromLike: true, OwnRule: true})
	}
	// The template defines &admin: the copy refers to it.
	src := "creation_rules:\n  - path_regex: ^secrets/\n    age: [&admin ADMIN]\n  - path_regex: hosts/h01/\n    age: [*admin, &h01 H01]\n"
	c := parse(src)
	ed, err := addOwn(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ed.New), "  - path_regex: hosts/newhost/\n    age: [*admin, &newhost "+keys.new+"]\n") {
		t.Fatalf("copy:\n%s", ed.New)
	}
	nc, _ := ParseConfig(c.Path, ed.New)
	rm, err := nc.RemoveOwn(newKey, OwnRuleRemoveOptions{Drop: true})
	if err != nil || string(rm.New) != string(c.data) {
		t.Fatalf("round trip: %v\n%s", err, rm.New)
	}
	// The template defines &admin itself: the copy refers to it.
	src2 := "creation_rules:\n  - path_regex: hosts/h01/\n    age: [&admin ADMIN, &h01 H01]\n  - age: [*admin]\n"
	c = parse(src2)
	ed, err = addOwn(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ed.New), "  - path_regex: hosts/newhost/\n    age: [*admin, &newhost "+keys.new+"]\n") {
		t.Fatalf("copy:\n%s", ed.New)
	}
	nc, _ = ParseConfig(c.Path, ed.New)
	if rm, err = nc.RemoveOwn(newKey, OwnRuleRemoveOptions{Drop: true}); err != nil || string(rm.New) != string(c.data) {
		t.Fatalf("round trip: %v", err)
	}
	// h01's anchor is defined in its own rule, so &newhost goes into
	// shared/, below the new rule: refused cleanly, not a verification
	// failure.
	c = parse("creation_rules:\n  - path_regex: hosts/h01/\n    age: [&admin ADMIN, &h01 H01]\n  - path_regex: shared/\n    age: [*admin, *h01]\n")
	if _, err = addOwn(c); err == nil || errors.Is(err, ErrNotVerified) || !strings.Contains(err.Error(), "the anchor &newhost goes below it") {
		t.Fatalf("anchor below: %v", err)
	}
	// Deleting a rule that defines an anchor used elsewhere is refused.
	c = parse("creation_rules:\n  - path_regex: hosts/h01/\n    age: [&admin ADMIN, &h01 H01]\n  - path_regex: shared/\n    age: [*admin, *h01]\n")
	_, err = c.RemoveOwn(Key{TypeAge, keys.h01}, OwnRuleRemoveOptions{Drop: true})
	if err == nil || errors.Is(err, ErrNotVerified) || !strings.Contains(err.Error(), "it defines the anchor &admin, which line 5 uses") {
		t.Fatalf("anchor used elsewhere: %v", err)
	}
}

// TestOwnRuleInteropSops: after add --own-rule, the real sops encrypts a
// new host's file to the admin and the new host only (the new host opens
// it, h01 does not), and h01's own files stay closed to the new host.
func TestOwnRuleInteropSops(t *testing.T) {
	if _, err := testsops.Bin(); err != nil {
		t.Skipf("no sops: %v", err)
	}
	ids := map[string]*age.X25519Identity{}
	for _, n := range []string{"admin", "h01", "h02", "new"} {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		ids[n] = id
	}
	keys := ownRuleKeys{ids["admin"].Recipient().String(), ids["h01"].Recipient().String(), ids["h02"].Recipient().String(), ids["new"].Recipient().String()}
	dir := t.TempDir()
	conf := filepath.Join(dir, ".sops.yaml")
	c, err := ParseConfig(conf, []byte(keys.expand(ownRuleShapes["anchors-keys-list"])))
	if err != nil {
		t.Fatal(err)
	}
	targets, _ := c.Targets(TargetOptions{Like: "h01", Group: -1})
	ed, err := c.AddOwn(OwnRuleAddOptions{AddOptions: AddOptions{Name: "newhost", Key: Key{TypeAge, keys.new}, Targets: targets, Like: "h01"}, FromLike: true, OwnRule: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, ed.New, 0o644); err != nil {
		t.Fatal(err)
	}
	encrypt := func(rel string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("token: s3cret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := testsops.Run(dir, nil, "encrypt", rel)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, out, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	opens := func(who, rel string) bool {
		_, err := testsops.Run(dir, []string{"SOPS_AGE_KEY=" + ids[who].String()}, "decrypt", rel)
		return err == nil
	}
	encrypt("hosts/newhost/app.yaml")
	encrypt("hosts/h01/app.yaml")
	for _, tc := range []struct {
		who, file string
		want      bool
	}{
		{"new", "hosts/newhost/app.yaml", true},
		{"admin", "hosts/newhost/app.yaml", true},
		{"h01", "hosts/newhost/app.yaml", false},
		{"new", "hosts/h01/app.yaml", false},
		{"h01", "hosts/h01/app.yaml", true},
	} {
		if got := opens(tc.who, tc.file); got != tc.want {
			t.Errorf("%s opens %s: %v, want %v", tc.who, tc.file, got, tc.want)
		}
	}
}
