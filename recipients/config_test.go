package recipients

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const (
	keyA = "age18qzqssxgx4zryu2063uc75kjyx5klr6ajqcpngq20psrmns32cpqpyqec8"
	keyB = "age1jntleqlttwkxpplx69zc60rclq3kdehwdrgr79pq3wu9xd4wkvyqumurxj"
	keyC = "age1khe9r0fyf5tx5hklhzgy3duhs044cvaxtmlkfmwqlhw4pqpdh3ks8gtduu"
	keyD = "age126p9hevff85dxej62822d4s0vz9dnelgmh4e206yex6mnxqucs6snjslaw"
	keyE = "age1wl6z6tszgf7jv3jvq2cxr6hjs0qlg73cp20q5t0hpwkacv3kjakqvg9u6v"
	keyF = "age1t65uxndxtzzztrwtu45m8wyjnfzxgjt2d6q2mwpcz64r06nteupqs4g5gm"
	// Keys not used by any fixture, for adding.
	keyG = "age15jr78zx5ua36g5mxn68mskx563hs5ekcxfttrj2tcev8ge4lf5eszdrgwn"
	keyH = "age1m4frpg5mxztaqtpqyu7ju2rp3mtm64n60tydr0rzf03exfaf4qss0es4t2"
	keyS = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBkq8CS7GkElKe6fRGNGZtTFthD+stSU9jTWusL1lCT5"
	pgp1 = "85D77543B3D624B63CEA9E6DBC17301B491B3F21"
	pgp2 = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"
)

func loadFixture(t *testing.T, name string) *Config {
	t.Helper()
	c, err := LoadConfig(filepath.Join("testdata", "config", name))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// memberSummary renders members as "name=key@line/defline".
func memberSummary(ms []Member) string {
	var parts []string
	for _, m := range ms {
		id := m.Key.ID
		if len(id) > 12 {
			id = id[:12]
		}
		s := m.Name + "=" + id + "@" + strconv.Itoa(m.Line) + "/" + strconv.Itoa(m.DefLine)
		if m.Err != nil {
			s += "!"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestAnchorsKeysList(t *testing.T) {
	c := loadFixture(t, "anchors_keys_list.yaml")
	if len(c.Rules) != 3 {
		t.Fatalf("rules: %d", len(c.Rules))
	}
	r := c.Rules[0]
	if r.PathRegex != `^prod/.*\.yaml$` || !r.HasPathRegex || r.PathLine != 9 || r.Line != 9 {
		t.Errorf("rule 0: %+v", r)
	}
	got := names(r.Groups[0].Members)
	if got != "alice bob web" {
		t.Errorf("names %q", got)
	}
	m := r.Groups[0].Members[0]
	if m.Key != (Key{TypeAge, keyA}) || m.Line != 11 || m.DefLine != 3 || m.Field != "age" {
		t.Errorf("member %+v", m)
	}
	if c.Rules[2].HasPathRegex || c.Rules[2].PathLine != 0 {
		t.Errorf("rule 2 has no path_regex")
	}
	if len(c.Anchors) != 3 || c.Anchors[0].Name != "alice" || c.Anchors[0].Value != keyA || c.Anchors[0].Line != 3 {
		t.Fatalf("anchors %+v", c.Anchors)
	}
	if got := c.Anchors[1].Uses; len(got) != 2 || got[0] != 12 || got[1] != 17 {
		t.Errorf("bob used at %v", got)
	}
	if c.NameOf(Key{TypeAge, keyE}) != "web" || c.NameOf(Key{TypeAge, keyG}) != "" {
		t.Errorf("NameOf")
	}
	if len(c.UnknownTopLevel) != 0 {
		t.Errorf("unknown top level %v", c.UnknownTopLevel)
	}
}

func names(ms []Member) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return strings.Join(out, " ")
}

func TestNamesFromComments(t *testing.T) {
	c := loadFixture(t, "comment_names.yaml")
	if got := names(c.Rules[0].Groups[0].Members); got != "alice bob " {
		t.Errorf("names %q", got)
	}
	if got := names(c.Rules[1].Groups[0].Members); got != "dave" {
		t.Errorf("flat scalar name %q", got)
	}
	// A comma string with several keys names none of them.
	c = loadFixture(t, "comma_strings.yaml")
	for _, m := range c.Rules[0].Groups[0].Members {
		if m.Name != "" {
			t.Errorf("comma entry named %q", m.Name)
		}
	}
	c = loadFixture(t, "unicode.yaml")
	if got := names(c.Rules[0].Groups[0].Members) + "|" + names(c.Rules[1].Groups[0].Members); got != "juergen shinji|ñandú" {
		t.Errorf("unicode names %q", got)
	}
}

func TestCommaStrings(t *testing.T) {
	c := loadFixture(t, "comma_strings.yaml")
	want := [][]string{
		{keyA, keyB}, {keyA, keyB, keyC}, {keyA, keyB}, {keyC}, {keyA, keyB, keyD},
		{pgp1, pgp2}, {keyA, keyB},
	}
	for i, w := range want {
		var got []string
		for _, m := range c.Rules[i].Groups[0].Members {
			got = append(got, m.Key.ID)
		}
		if strings.Join(got, ",") != strings.Join(w, ",") {
			t.Errorf("rule %d: %v", i, got)
		}
	}
}

func TestFoldedEntryLines(t *testing.T) {
	c := loadFixture(t, "comma_strings.yaml")
	var lines []int
	for _, m := range c.Rules[4].Groups[0].Members {
		lines = append(lines, m.Line)
	}
	if len(lines) != 3 || lines[0] != 12 || lines[1] != 13 || lines[2] != 14 {
		t.Errorf("folded entries on lines %v, want [12 13 14]", lines)
	}
}

func TestKeyGroupsAndMerge(t *testing.T) {
	c := loadFixture(t, "key_groups_shamir.yaml")
	r := c.Rules[0]
	if !r.KeyGroupsForm || len(r.Groups) != 3 || r.ShamirThreshold != 2 || r.ShamirLine != 3 {
		t.Fatalf("rule %+v", r)
	}
	if r.Groups[0].Line != 6 || len(r.Groups[0].Members) != 3 || r.Groups[0].Members[2].Key != (Key{TypePGP, pgp1}) {
		t.Errorf("group 0 %+v", r.Groups[0])
	}
	c = loadFixture(t, "key_groups_merge.yaml")
	g := c.Rules[0].Groups[0]
	// merge first (alice, bob, alice dup, pgp1), then age (bob dup, carol).
	if got := names(g.Members); got != "alice bob  carol" {
		t.Errorf("merged names %q", got)
	}
	if len(g.Duplicates) != 2 || g.Duplicates[0].Key.ID != keyA || g.Duplicates[1].Key.ID != keyB {
		t.Errorf("duplicates %v", memberSummary(g.Duplicates))
	}
	c = loadFixture(t, "duplicates_flat.yaml")
	if g := c.Rules[0].Groups[0]; len(g.Members) != 3 || len(g.Duplicates) != 1 {
		t.Errorf("flat keeps duplicates: %d members, %d dups", len(g.Members), len(g.Duplicates))
	}
	if g := c.Rules[1].Groups[0]; len(g.Members) != 1 || len(g.Duplicates) != 1 {
		t.Errorf("groups drop duplicates: %d members, %d dups", len(g.Members), len(g.Duplicates))
	}
}

func TestMergeKeysAndListAnchors(t *testing.T) {
	c := loadFixture(t, "merge_keys.yaml")
	if got := names(c.Rules[0].Groups[0].Members); got != "alice bob" {
		t.Errorf("merged rule: %q", got)
	}
	if c.Rules[0].EncryptedRegex != "^(data|stringData)$" {
		t.Errorf("merged encrypted_regex %q", c.Rules[0].EncryptedRegex)
	}
	if got := names(c.Rules[1].Groups[0].Members); got != "alice" {
		t.Errorf("explicit key wins over merge: %q", got)
	}
	if got := memberSummary(c.Rules[2].Groups[0].Members); !strings.Contains(got, pgp1[:12]) {
		t.Errorf("group merge: %s", got)
	}
	c = loadFixture(t, "list_anchors.yaml")
	if got := names(c.Rules[1].Groups[0].Members); got != "alice bob" {
		t.Errorf("list alias: %q", got)
	}
	if n := len(c.Rules[1].Groups[1].Members); n != 2 {
		t.Errorf("flow list alias: %d", n)
	}
	if got := []string{c.UnknownTopLevel[0].Name, c.UnknownTopLevel[1].Name}; got[0] != "admins" || got[1] != "hosts" {
		t.Errorf("unknown top level %v", c.UnknownTopLevel)
	}
}

func TestLint(t *testing.T) {
	c := loadFixture(t, "unknown_keys.yaml")
	if len(c.UnknownTopLevel) != 1 || c.UnknownTopLevel[0] != (Field{"settings", 3}) {
		t.Errorf("unknown top level %v", c.UnknownTopLevel)
	}
	r := c.Rules[0]
	if len(r.UnknownKeys) != 2 || r.UnknownKeys[0] != (Field{"filename_regex", 6}) || r.UnknownKeys[1].Name != "path-regex" {
		t.Errorf("unknown keys %v", r.UnknownKeys)
	}
	if r.HasPathRegex || r.SettingsErr == nil {
		t.Errorf("path regex %v, settings err %v", r.HasPathRegex, r.SettingsErr)
	}
	c = loadFixture(t, "flat_and_groups.yaml")
	if !c.Rules[0].FlatAlsoSet || names(c.Rules[0].Groups[0].Members) != "bob" {
		t.Errorf("flat also set")
	}
	c = loadFixture(t, "bad_regex.yaml")
	if c.Rules[1].RegexErr == nil || c.Rules[0].RegexErr != nil {
		t.Errorf("regex errors")
	}
	if _, err := c.RuleForRel("ok/a"); err != nil {
		t.Errorf("match before the bad regex: %v", err)
	}
	if _, err := c.RuleForRel("other/a"); err == nil || !strings.Contains(err.Error(), "bad_regex.yaml:4: creation rule 2: invalid path_regex") {
		t.Errorf("bad regex error %v", err)
	}
	c = loadFixture(t, "invalid_recipient.yaml")
	ms := c.Rules[0].Groups[0].Members
	if len(ms) != 2 || ms[0].Err != nil || ms[1].Err == nil || ms[1].Line != 5 {
		t.Errorf("lenient: %s", memberSummary(ms))
	}
	if !strings.Contains(ms[1].Err.Error(), "invalid age recipient") {
		t.Errorf("err %v", ms[1].Err)
	}
}

func TestNoRules(t *testing.T) {
	c := loadFixture(t, "no_rules.yaml")
	if c.HasCreationRules() {
		t.Error("no creation rules expected")
	}
	if _, err := c.RuleForRel("x"); !errors.Is(err, ErrNoRule) {
		t.Errorf("err %v", err)
	}
}

func TestInvalidYAML(t *testing.T) {
	cases := map[string]string{
		"creation_rules:\n  - path_regex: a\n    age: [x\n":                        ".sops.yaml:3",
		"creation_rules:\n  - path_regex: a\n  bad\n":                              ".sops.yaml:3",
		"creation_rules:\n  - path_regex: a\n    shamir_threshold: two\n":          ".sops.yaml:3",
		"creation_rules:\n  - path_regex: a\n    path_regex: b\n":                  ".sops.yaml:",
		"creation_rules: yes\n":                                                    ".sops.yaml:",
		"creation_rules:\n  - key_groups:\n      - age: age1x\n":                   ".sops.yaml:",
		"creation_rules:\n  - <<: 3\n":                                             ".sops.yaml:",
		"creation_rules:\n  - path_regex: a\n\tage: x\n":                           ".sops.yaml:",
		"creation_rules:\n  - path_regex: a\n    age: *nope\n":                     ".sops.yaml:3",
		"creation_rules:\n  - path_regex: 'a\n":                                    ".sops.yaml:",
		"creation_rules:\n  - path_regex: a\n    key_groups:\n      - age: {x: 1}": ".sops.yaml:",
	}
	for text, want := range cases {
		_, err := ParseConfig(".sops.yaml", []byte(text))
		if err == nil || !regexp.MustCompile(`^`+regexp.QuoteMeta(want)+`[0-9]*: `).MatchString(err.Error()) {
			t.Errorf("%q: err %v, want prefix %q", text, err, want)
		}
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), ".sops.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestRuleForRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, ".sops.yaml")
	data := []byte("creation_rules:\n  - path_regex: ^prod/\n    age: " + keyA + "\n  - age: " + keyB + "\n")
	c, err := ParseConfig(conf, data)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.RuleFor(filepath.Join(dir, "prod", "x.yaml"))
	if err != nil || r.Index != 0 {
		t.Errorf("prod: %v %v", r, err)
	}
	r, err = c.RuleFor(filepath.Join(dir, "dev", "prod", "x.yaml"))
	if err != nil || r.Index != 1 {
		t.Errorf("anchored regex must not match deeper: %v %v", r, err)
	}
}

func TestCloudKeyIDs(t *testing.T) {
	c := loadFixture(t, "cloud.yaml")
	want := map[int][]string{
		0: {"kms:arn:aws:kms:us-east-1:111122223333:key/aaaa-bbbb||prod", "kms:arn:aws:kms:eu-west-1:111122223333:key/cccc+arn:aws:iam::111122223333:role/sops||prod"},
		2: {"azure_kv:https://vault1.vault.azure.net/keys/sops/0123456789abcdef"},
		3: {"hc_vault:https://vault.example.com:8200/v1/transit/keys/sops", "hc_vault:http://127.0.0.1:8200/v1/sops/keys/first"},
	}
	for i, w := range want {
		var got []string
		for _, m := range c.Rules[i].Groups[0].Members {
			got = append(got, m.Key.String())
		}
		if strings.Join(got, " ") != strings.Join(w, " ") {
			t.Errorf("rule %d: %q", i, got)
		}
	}
	g := c.Rules[5].Groups[0].Members
	if g[1].Key.ID != "arn:aws:kms:us-east-1:111122223333:key/aaaa-bbbb+arn:aws:iam::111122223333:role/sops|app:web,env:prod|ops" {
		t.Errorf("kms object id %q", g[1].Key.ID)
	}
}

// TestAgeRecipientErrors: every invalid value gives one message that names
// the kind, quotes the value once and has no fmt artefact (a template
// placeholder used to give "%!w(<nil>)").
func TestAgeRecipientErrors(t *testing.T) {
	cases := map[string]string{
		"${BOOTSTRAP_AGE_PUBLIC_KEY}":                                    `invalid age recipient "${BOOTSTRAP_AGE_PUBLIC_KEY}": unknown recipient type`,
		"age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq": "invalid age recipient",
		"ssh-ed25519 AAAA":                                               "invalid ssh recipient",
		"age1yubikey1qqqq":                                               "invalid age plugin recipient",
		"":                                                               `invalid age recipient "": unknown recipient type`,
		"AGE1JNTLEQLTTWKXPPLX6":                                          "unknown recipient type",
	}
	for in, want := range cases {
		_, err := ageKeyFromConfig(in)
		if err == nil {
			t.Errorf("%q: no error", in)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, want) || strings.Contains(msg, "%!") {
			t.Errorf("%q: %q, want it to contain %q", in, msg, want)
		}
		if in != "" && strings.Count(msg, in) != 1 {
			t.Errorf("%q: value quoted %d times in %q", in, strings.Count(msg, in), msg)
		}
	}
	c, err := ParseConfig(".sops.yaml", []byte("creation_rules:\n  - key_groups:\n      - age:\n          - ${BOOTSTRAP_AGE_PUBLIC_KEY}\n"))
	if err != nil {
		t.Fatal(err)
	}
	m := c.Rules[0].Groups[0].Members[0]
	if m.Err == nil || strings.Contains(m.Err.Error(), "%!") || m.Line != 4 {
		t.Errorf("placeholder member: line %d, err %v", m.Line, m.Err)
	}
}

// TestTargetsGroupMessage: rules and groups are numbered from 1 in messages,
// as check, lint and report number them.
func TestTargetsGroupMessage(t *testing.T) {
	c := loadFixture(t, "bad_regex.yaml")
	_, err := c.Targets(TargetOptions{All: true, Group: 3})
	if err == nil || !strings.Contains(err.Error(), "bad_regex.yaml:2: creation rule 1 has 1 key group, no key group 4") {
		t.Errorf("err %v", err)
	}
	if got := (GroupRef{Rule: 0, Group: 1}).String(); got != "rule 1 group 2" {
		t.Errorf("GroupRef.String() = %q", got)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"alice", "alice", 0}, {"alcie", "alice", 2}, {"bob", "robert", 4}, {"", "abc", 3}, {"ünï", "uni", 2}, {"kitten", "sitting", 3}} {
		if got := EditDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
		if got := EditDistance(tc.b, tc.a); got != tc.d {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.d)
		}
	}
}

// TestSecretInputNeverRepeated: a secret key given where a name or key is
// expected is refused without being quoted, and is never a valid name.
func TestSecretInputNeverRepeated(t *testing.T) {
	const secret = "AGE-SECRET-KEY-14ARKU4AH6DS8KJCZQPQHV7YGFRK5AZ55DJ3MX6VCF3HFQ5VTSKSQ9EJQMY"
	c := loadFixture(t, "anchors_keys_list.yaml")
	var errs []error
	_, err := c.Lookup(secret)
	errs = append(errs, err)
	_, err = c.Lookup(strings.ToLower(secret))
	errs = append(errs, err)
	_, err = c.Rename("alice", secret)
	errs = append(errs, err)
	_, err = c.Rename(secret, "x")
	errs = append(errs, err)
	_, err = c.Add(AddOptions{Name: secret, Key: Key{TypeAge, keyG}, Targets: []GroupRef{{0, 0}}})
	errs = append(errs, err)
	_, err = c.Add(AddOptions{Name: "AGE-PLUGIN-YUBIKEY-1QQQQQQ", Key: Key{TypeAge, keyG}, Targets: []GroupRef{{0, 0}}})
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Errorf("%d: no error", i)
			continue
		}
		if strings.Contains(strings.ToUpper(err.Error()), "14ARKU4AH6DS8KJCZQPQHV7YGFRK5AZ55DJ3MX6VCF3HFQ5VTSKSQ9EJQMY") || strings.Contains(err.Error(), "YUBIKEY-1QQ") {
			t.Errorf("%d: the secret is repeated: %v", i, err)
		}
	}
	if ValidName(secret) {
		t.Error("a secret key is a valid name")
	}
}

// TestTypeErrorsInPlainWords: a value of the wrong kind is said in the
// words of .sops.yaml, never with Go type names.
func TestTypeErrorsInPlainWords(t *testing.T) {
	cases := map[string]string{
		"creation_rules: foo\n": ".sops.yaml:1: invalid .sops.yaml: found a string (foo) where a list of creation rules is expected",
		"- a\n- b\n":            ".sops.yaml:1: invalid .sops.yaml: found a list where a mapping of creation_rules and other settings is expected",
		"creation_rules:\n  - path_regex: a\n    shamir_threshold: two\n":                                ".sops.yaml:3: invalid .sops.yaml: found a string (two) where a number is expected",
		"creation_rules:\n  - key_groups:\n      - age: age1x\n":                                         ".sops.yaml:3: invalid .sops.yaml: found a string (age1x) where a list of strings is expected",
		"creation_rules:\n  - key_groups:\n      - kms: [arn:aws:kms:x]\n":                               ".sops.yaml:3: invalid .sops.yaml: found a string (arn:aws...) where a kms key (a mapping with arn) is expected",
		"creation_rules:\n  - key_groups: {age: [x]}\n":                                                  ".sops.yaml:2: invalid .sops.yaml: found a mapping where a list of key groups is expected",
		"creation_rules:\n  - key_groups:\n      - kms:\n          - arn: x\n            context: [a]\n": ".sops.yaml:5: invalid .sops.yaml: found a list where a mapping is expected",
		"creation_rules:\n  - path_regex: a\n    mac_only_encrypted: maybe\n":                            ".sops.yaml:3: invalid .sops.yaml: found a string (maybe) where true or false is expected",
		"creation_rules:\n  - path_regex: a\n    key_groups:\n      - age: {x: 1}":                       ".sops.yaml:4: invalid .sops.yaml: found a mapping where a list of strings is expected",
	}
	for text, want := range cases {
		_, err := ParseConfig(".sops.yaml", []byte(text))
		if err == nil || err.Error() != want {
			t.Errorf("%q:\n got %v\nwant %s", text, err, want)
		}
	}
}

// TestUnknownKeyMessage: a key that is not in the file is said as a key,
// not as a name.
func TestUnknownKeyMessage(t *testing.T) {
	c := loadFixture(t, "anchors_keys_list.yaml")
	_, err := c.Lookup(keyG)
	if !errors.Is(err, ErrUnknownName) || !strings.Contains(err.Error(), "no such recipient with the key \""+keyG+"\" in any creation rule") {
		t.Errorf("err %v", err)
	}
}
