package policy

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// issueExample is the policy of the issue, verbatim: it must work.
const issueExample = `version: 1
groups:                      # names from .sops.yaml (anchor or comment), or keys
  prod: [h01, h02]
  staging: [h03, h04]
rules:
  - require: {all_of: [admin]}          # no paths: every file
  - paths: ^prod/
    require: {any_of: [backup-a, backup-b]}
  - paths: ^prod/
    forbid: [staging]
  - separate: [prod, staging]
  - types: [age]
  - max_recipients: 20
`

func ageKey(t testing.TB, name string) string {
	seed := sha256.Sum256([]byte("sopsfleet policy test " + name))
	id, err := recipients.Ed25519PrivateKeyToAge(ed25519.NewKeyFromSeed(seed[:]))
	if err != nil {
		t.Fatal(err)
	}
	return id.Recipient().String()
}

func key(t testing.TB, name string) recipients.Key {
	return recipients.Key{Type: recipients.TypeAge, ID: ageKey(t, name)}
}

// fleetConfig names admin, backup-a, backup-b and h01…h04 (anchors and a
// comment).
func fleetConfig(t testing.TB) *recipients.Config {
	t.Helper()
	var b strings.Builder
	b.WriteString("keys:\n")
	for _, n := range []string{"admin", "backup-a", "backup-b", "h01", "h02", "h03"} {
		b.WriteString("  - &" + n + " " + ageKey(t, n) + "\n")
	}
	b.WriteString("creation_rules:\n  - path_regex: ^prod/\n    age: [*admin, *backup-a, *h01, *h02]\n")
	b.WriteString("  - path_regex: ^staging/\n    age:\n      - *admin\n      - *h03\n      - " + ageKey(t, "h04") + " # h04\n")
	b.WriteString("  - age: [*admin, *backup-b]\n")
	cfg, err := recipients.ParseConfig(filepath.Join(t.TempDir(), ".sops.yaml"), []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestParseIssueExample(t *testing.T) {
	cfg := fleetConfig(t)
	p, err := Parse(".sopsfleet.yaml", []byte(issueExample), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 1 || len(p.Groups) != 2 || len(p.Rules) != 6 {
		t.Fatalf("version %d, %d groups, %d rules", p.Version, len(p.Groups), len(p.Rules))
	}
	if r := p.Rules[1]; r.Paths != "^prod/" || len(r.RequireAny) != 2 || r.RequireLine != 8 {
		t.Errorf("rule 2: %+v", r)
	}
	if g := p.Groups[1]; g.Name != "staging" || len(g.Members) != 2 || g.Members[1].Keys[0] != key(t, "h04") {
		t.Errorf("staging: %+v (h04 is named by a comment)", g)
	}
	// The config itself complies.
	if vs := p.CheckConfig(cfg, []string{"prod/db.yaml", "staging/db.yaml", "other.yaml"}); len(vs) != 0 {
		t.Errorf("violations: %+v", vs)
	}
}

// TestCheckKeys: each rule of the issue's example fires on the one set of
// recipients that breaks it, naming the policy line.
func TestCheckKeys(t *testing.T) {
	cfg := fleetConfig(t)
	p, err := Parse(".sopsfleet.yaml", []byte(issueExample), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ks := func(names ...string) []recipients.Key {
		var out []recipients.Key
		for _, n := range names {
			out = append(out, key(t, n))
		}
		return out
	}
	many := ks("admin")
	for i := 0; i < 20; i++ {
		many = append(many, key(t, "extra"+string(rune('a'+i))))
	}
	for _, c := range []struct {
		name, path string
		keys       []recipients.Key
		code, msg  string
	}{
		{"all_of", "x.yaml", ks("backup-a"), CodeRequire, "breaks .sopsfleet.yaml:6 (require all_of): admin not among the recipients"},
		{"any_of", "prod/db.yaml", ks("admin", "h01"), CodeRequire, "breaks .sopsfleet.yaml:8 (require any_of): none of backup-a, backup-b is among the recipients"},
		{"forbid", "prod/db.yaml", ks("admin", "backup-a", "h04"), CodeForbid, "breaks .sopsfleet.yaml:10 (forbid): encrypted to h04 (group staging)"},
		{"separate", "x.yaml", ks("admin", "h02", "h03"), CodeSeparate, "breaks .sopsfleet.yaml:11 (separate): encrypted to members of prod (h02) and staging (h03)"},
		{"types", "x.yaml", append(ks("admin"), recipients.Key{Type: recipients.TypePGP, ID: "0123456789ABCDEF0123456789ABCDEF01234567"}), CodeType, "breaks .sopsfleet.yaml:12 (types: age): pgp recipient pgp:01234567…4567 not allowed"},
		{"max", "x.yaml", many, CodeMax, "breaks .sopsfleet.yaml:13 (max_recipients: 20): 21 recipients"},
	} {
		t.Run(c.name, func(t *testing.T) {
			vs := p.CheckKeys(c.path, c.keys)
			if len(vs) != 1 || vs[0].Code != c.code || vs[0].Message != c.msg {
				t.Fatalf("got %+v\nwant one %s: %s", vs, c.code, c.msg)
			}
		})
	}
	if vs := p.CheckKeys("prod/db.yaml", ks("admin", "backup-b", "h01", "h02")); len(vs) != 0 {
		t.Errorf("compliant recipients: %+v", vs)
	}
}

// TestParseErrors: bad input names file:line and says what is wrong.
func TestParseErrors(t *testing.T) {
	cfg := fleetConfig(t)
	for _, c := range []struct{ name, text, want string }{
		{"yaml", "version: 1\nrules: [\n", ".sopsfleet.yaml:2: invalid YAML"},
		{"no version", "rules: []\n", `.sopsfleet.yaml:1: missing "version: 1"`},
		{"version 2", "version: 2\n", ".sopsfleet.yaml:1: version 2 is not supported"},
		{"unknown top", "version: 1\ngroup: {}\n", `.sopsfleet.yaml:2: the policy: unknown key "group" (did you mean "groups"?)`},
		{"unknown rule key", "version: 1\nrules:\n  - requier: {all_of: [admin]}\n", `.sopsfleet.yaml:3: rule 1: unknown key "requier" (did you mean "require"?)`},
		{"unknown require key", "version: 1\nrules:\n  - require: {allof: [admin]}\n", `.sopsfleet.yaml:3: rule 1: require: unknown key "allof" (did you mean "all_of"?)`},
		{"unknown name", "version: 1\nrules:\n  - require: {all_of: [admn]}\n", `.sopsfleet.yaml:3: rule 1: require.all_of: "admn" is neither a group of this policy, a name in .sops.yaml, nor a key (did you mean "admin"?)`},
		{"unknown member", "version: 1\ngroups:\n  prod: [h01, h09]\n", `.sopsfleet.yaml:3: group prod: "h09" is neither`},
		{"bad regex", "version: 1\nrules:\n  - paths: '^prod/('\n    forbid: [h03]\n", `.sopsfleet.yaml:3: rule 1: paths "^prod/(" does not compile: missing closing )`},
		{"separate non-group", "version: 1\ngroups:\n  a: [h01]\nrules:\n  - separate: [a, h03]\n", `.sopsfleet.yaml:5: rule 1: separate names groups, and "h03" is not a group`},
		{"type", "version: 1\nrules:\n  - types: [age, gpg]\n", `.sopsfleet.yaml:3: rule 1: unknown recipient type "gpg" (did you mean "pgp"?)`},
		{"max", "version: 1\nrules:\n  - max_recipients: many\n", `.sopsfleet.yaml:3: rule 1: max_recipients must be a whole number, got "many"`},
		{"empty rule", "version: 1\nrules:\n  - paths: ^a/\n", ".sopsfleet.yaml:3: rule 1 states nothing"},
		{"group named like a recipient", "version: 1\ngroups:\n  h01: [h02]\n", `.sopsfleet.yaml:3: group "h01" has the name of a recipient in .sops.yaml`},
		{"nested group", "version: 1\ngroups:\n  a: [h01]\n  b: [a]\n", `.sopsfleet.yaml:4: group b: "a" is a group`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(".sopsfleet.yaml", []byte(c.text), cfg)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v\nwant %s…", err, c.want)
			}
		})
	}
}

// TestCheckConfig: a creation rule is judged through the files it governs,
// or a sample path of its regex, and reported once per broken constraint.
func TestCheckConfig(t *testing.T) {
	cfg := fleetConfig(t)
	p, err := Parse(".sopsfleet.yaml", []byte("version: 1\nrules:\n  - paths: ^staging/\n    require: {all_of: [backup-a]}\n  - paths: ^prod/\n    forbid: [h01]\n"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	vs := p.CheckConfig(cfg, []string{"staging/a.yaml", "staging/b.yaml"})
	if len(vs) != 2 {
		t.Fatalf("got %d violations, want 2: %+v", len(vs), vs)
	}
	if vs[0].CreationRule.Index != 0 || vs[0].Code != CodeForbid || !vs[0].Sample || vs[0].Through != "prod/" {
		t.Errorf("first: %+v", vs[0])
	}
	if vs[1].CreationRule.Index != 1 || vs[1].Code != CodeRequire || vs[1].Sample || vs[1].Through != "staging/a.yaml" {
		t.Errorf("second: %+v", vs[1])
	}
}

func TestSamplePath(t *testing.T) {
	for re, want := range map[string]string{
		`^prod/`: "prod/", `^(prod|stage)/.*\.yaml$`: "prod/.yaml", `secrets/[a-z]+\.env`: "secrets/a.env",
		``: "", `^hosts/h\d{2}/`: "hosts/h00/",
	} {
		if got := SamplePath(re); got != want {
			t.Errorf("SamplePath(%q) = %q, want %q", re, got, want)
		}
	}
}

func TestTypeName(t *testing.T) {
	for id, want := range map[string]string{
		ageKey(t, "x"): "age",
		"age1yubikey1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t": "age-plugin",
		"age1pq1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t":      "age-pq",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB":                                  "ssh",
	} {
		if got := TypeName(recipients.Key{Type: recipients.TypeAge, ID: id}); got != want {
			t.Errorf("TypeName(%q) = %q, want %q", id, got, want)
		}
	}
}

// TestRename changes only the bytes of the references to the name.
func TestRename(t *testing.T) {
	cfg := fleetConfig(t)
	text := "version: 1\ngroups:\n  prod: [h01, \"h02\"]  # hosts\nrules:\n  - require: {all_of: [h02]}\n  - forbid:\n      - 'h02'\n      - h03\n"
	p, err := Parse(".sopsfleet.yaml", []byte(text), cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, n := p.Rename("h02", "web-02")
	want := strings.ReplaceAll(text, "h02", "web-02")
	if n != 3 || string(got) != want {
		t.Fatalf("Rename: %d\n%s\nwant\n%s", n, got, want)
	}
	if _, n := p.Rename("nobody", "x"); n != 0 {
		t.Errorf("renaming an unused name: %d changes", n)
	}
}

// TestSchema validates the example policies of the docs, and the issue's,
// with the shipped JSON Schema, and checks it refuses what Parse refuses.
func TestSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	sch, err := c.Compile("../docs/policy.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	validate := func(text string) error {
		var v any
		if err := yaml.Unmarshal([]byte(text), &v); err != nil {
			t.Fatal(err)
		}
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			t.Fatal(err)
		}
		return sch.Validate(inst)
	}
	good := []string{issueExample}
	guide, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range yamlBlocks(string(guide)) {
		if strings.HasPrefix(block, "version:") {
			good = append(good, block)
		}
	}
	if len(good) < 3 {
		t.Fatalf("docs/policy.md has %d example policies, want at least 2", len(good)-1)
	}
	for _, text := range good {
		if err := validate(text); err != nil {
			t.Errorf("valid policy refused by the schema: %v\n%s", err, text)
		}
	}
	for _, bad := range []string{
		"rules: []\n", "version: 2\n", "version: 1\ngroup: {}\n", "version: 1\nrules:\n  - requier: {all_of: [a]}\n",
		"version: 1\nrules:\n  - paths: ^a/\n", "version: 1\nrules:\n  - types: [gpg]\n", "version: 1\nrules:\n  - max_recipients: 0\n",
		"version: 1\nrules:\n  - separate: [a]\n", "version: 1\nrules:\n  - require: {}\n",
	} {
		if validate(bad) == nil {
			t.Errorf("the schema accepts %q", bad)
		}
	}
}

func yamlBlocks(md string) []string {
	var out []string
	var cur *strings.Builder
	for _, line := range strings.Split(md, "\n") {
		switch {
		case cur == nil && line == "```yaml":
			cur = &strings.Builder{}
		case cur != nil && line == "```":
			out = append(out, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	return out
}

// TestGuideNixOSExample: the NixOS example of docs/policy.md parses against
// its .sops.yaml, which complies; dropping the backup key from a rule
// breaks it.
func TestGuideNixOSExample(t *testing.T) {
	guide, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	var config, pol string
	for _, b := range yamlBlocks(string(guide)) {
		switch {
		case strings.HasPrefix(b, "keys:") && config == "":
			config = b
		case config != "" && pol == "" && strings.HasPrefix(b, "version:"):
			pol = b
		}
	}
	if config == "" || pol == "" {
		t.Fatal("docs/policy.md: no NixOS example")
	}
	dir := t.TempDir()
	cfg, err := recipients.ParseConfig(filepath.Join(dir, ".sops.yaml"), []byte(config))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cfg.Rules {
		for _, g := range r.Groups {
			for _, m := range g.Members {
				if m.Err != nil {
					t.Errorf("example recipient %s: %v", m.Name, m.Err)
				}
			}
		}
	}
	p, err := Parse(".sopsfleet.yaml", []byte(pol), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if vs := p.CheckConfig(cfg, nil); len(vs) != 0 {
		t.Errorf("the example .sops.yaml breaks the example policy: %+v", vs)
	}
	broken, err := recipients.ParseConfig(filepath.Join(dir, ".sops.yaml"), []byte(strings.Replace(config, "[*alice, *backup, *stage01]", "[*alice, *stage01, *web01]", 1)))
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]int{}
	for _, v := range p.CheckConfig(broken, nil) {
		codes[v.Code]++
	}
	if codes[CodeRequire] != 1 || codes[CodeSeparate] != 1 || codes[CodeForbid] != 1 || len(codes) != 3 {
		t.Errorf("violations of the broken example: %v", codes)
	}
}
