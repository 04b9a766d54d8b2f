package recipients

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// splitLines splits text into lines without their endings (those are
// checked separately).
func splitLines(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, string(b))
			break
		}
		out = append(out, strings.TrimSuffix(string(b[:i]), "\r"))
		b = b[i+1:]
	}
	return out
}

// lineDiff counts the lines deleted from a and inserted into b by a
// longest-common-subsequence diff.
func lineDiff(a, b []byte) (deleted, inserted []string) {
	la, lb := splitLines(a), splitLines(b)
	n, m := len(la), len(lb)
	dp := make([][]int, n+1)
	for i := range dp {
		dp[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if la[i] == lb[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && la[i] == lb[j]:
			i++
			j++
		case j < m && (i == n || dp[i][j+1] >= dp[i+1][j]):
			inserted = append(inserted, lb[j])
			j++
		default:
			deleted = append(deleted, la[i])
			i++
		}
	}
	return deleted, inserted
}

// gainsAtOnePoint reports whether n is old with text inserted at one place.
func gainsAtOnePoint(old, n string) bool {
	if len(n) <= len(old) {
		return false
	}
	p := 0
	for p < len(old) && old[p] == n[p] {
		p++
	}
	return strings.HasSuffix(n, old[p:])
}

// gainsAtTwoPoints reports whether n is old with text inserted at one or
// two places (a key and its name in the comment; "[" and ", *new]").
func gainsAtTwoPoints(old, n string) bool {
	if gainsAtOnePoint(old, n) {
		return true
	}
	for i := 0; i <= len(old); i++ {
		if !strings.HasPrefix(n, old[:i]) {
			break
		}
		rest := n[i:]
		for j := 1; j < len(rest); j++ {
			if gainsAtOnePoint(old[i:], rest[j:]) {
				return true
			}
		}
	}
	return false
}

// retarget widens targets to every group sharing a container with them, as
// a user would after the "shared" refusal.
func retarget(c *Config, targets []GroupRef) []GroupRef {
	e := c.newEditor()
	seen := map[GroupRef]bool{}
	var out []GroupRef
	for _, t := range targets {
		ct, err := e.ageContainer(&c.Rules[t.Rule].Groups[t.Group])
		if err != nil {
			return targets
		}
		for _, rd := range append([]GroupRef{t}, e.readersOf(ct.node)...) {
			if !seen[rd] {
				seen[rd] = true
				out = append(out, rd)
			}
		}
	}
	return out
}

// checkRoundTrip adds key (named name) to target, checks the edit, removes
// it again and checks that the original comes back byte for byte. It
// returns the add edit, or nil when the add was refused cleanly.
func checkRoundTrip(t *testing.T, c *Config, target GroupRef, key, name string, withSops bool) *Edit {
	t.Helper()
	k := Key{Type: TypeAge, ID: key}
	targets := retarget(c, []GroupRef{target})
	ed, err := c.Add(AddOptions{Name: name, Key: k, Targets: targets})
	if err != nil {
		var u *errUnclean
		if errors.As(err, &u) && !strings.Contains(err.Error(), "re-reading") {
			t.Logf("add to %s refused cleanly: %v", target, err)
			return nil
		}
		t.Fatalf("add to %s: %v", target, err)
	}
	if ed.Unchanged() {
		t.Fatalf("add to %s changed nothing", target)
	}
	// Guarantee 1: only whole lines are inserted, except where a line
	// holding a comma string or a flow list gains the key.
	deleted, inserted := lineDiff(ed.Old, ed.New)
	if len(deleted) > len(targets)+1 { // each target, and a flow list of anchors
		t.Errorf("add to %s rewrote %d lines: %q", target, len(deleted), deleted)
	}
	if len(inserted) > 2*len(targets)+1 {
		t.Errorf("add to %s inserted %d lines: %q", target, len(inserted), inserted)
	}
	// A changed line only gains text.
	rewritten := map[string]bool{}
	for _, l := range deleted {
		ok := false
		for _, n := range inserted {
			if gainsAtTwoPoints(l, n) {
				ok, rewritten[n] = true, true
				break
			}
		}
		if !ok {
			t.Errorf("add to %s changed the line %q", target, l)
		}
	}
	for _, l := range inserted {
		if !rewritten[l] && !strings.Contains(l, key) && !strings.Contains(l, "*"+name) && strings.TrimSpace(l) != "age:" {
			t.Errorf("add to %s inserted the unexpected line %q", target, l)
		}
	}
	// Line endings follow the file.
	if bytes.Contains(ed.Old, []byte("\r\n")) && bytes.Count(ed.New, []byte("\n")) != bytes.Count(ed.New, []byte("\r\n")) {
		t.Errorf("add to %s mixed line endings", target)
	}
	if bytes.HasSuffix(ed.Old, []byte("\n")) != bytes.HasSuffix(ed.New, []byte("\n")) {
		t.Errorf("add to %s changed the final newline", target)
	}
	nc, err := ParseConfig(c.Path, ed.New)
	if err != nil {
		t.Fatalf("re-parse: %v", err)
	}
	if !hasKey(nc.Rules[target.Rule].Groups[target.Group].Members, k) {
		t.Fatalf("key not in %s after add", target)
	}
	if withSops {
		compareWithSops(t, ed.New, probePaths)
	}
	// Guarantee 2: remove restores the original (a group that had no
	// recipient cannot lose its only one: that removal is refused).
	if len(c.Rules[target.Rule].Groups[target.Group].Members) == 0 {
		t.Logf("%s had no recipient: not removing", target)
		return ed
	}
	by := name
	if nc.NameOf(k) != name {
		by = key
	}
	rk, err := nc.Lookup(by)
	if err != nil {
		t.Fatalf("lookup %q after add: %v", by, err)
	}
	rm, err := nc.Remove(rk)
	if err != nil {
		t.Fatalf("remove after add to %s: %v\n%s", target, err, ed.New)
	}
	if !bytes.Equal(rm.New, ed.Old) {
		d, i := lineDiff(ed.Old, rm.New)
		t.Fatalf("round trip via %s differs: -%q +%q", target, d, i)
	}
	return ed
}

func TestAddRemoveRoundTripFixtures(t *testing.T) {
	for _, f := range fixtureFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c := loadFixture(t, filepath.Base(f))
			for _, r := range c.Rules {
				for gi := range r.Groups {
					checkRoundTrip(t, c, GroupRef{r.Index, gi}, keyG, "newbie", true)
				}
			}
		})
	}
}

func TestAddFollowsStyle(t *testing.T) {
	cases := []struct {
		fixture string
		target  GroupRef
		like    string
		want    []string // lines (without ending) that must appear in New
	}{
		{"anchors_keys_list.yaml", GroupRef{1, 0}, "alice", []string{"  - &newbie " + keyG, "      - *newbie"}},
		{"anchors_nested.yaml", GroupRef{1, 0}, "db", []string{"    - &newbie " + keyG, "          - *newbie"}},
		{"indentless.yaml", GroupRef{0, 0}, "", []string{"- &newbie " + keyG, "    - *newbie"}},
		{"indent4.yaml", GroupRef{0, 0}, "", []string{"            - " + keyG + " # newbie"}},
		{"indent4.yaml", GroupRef{1, 0}, "", []string{"                    - " + keyG + " # newbie"}},
		{"comment_names.yaml", GroupRef{0, 0}, "", []string{"      - " + keyG + " # newbie"}},
		{"comma_strings.yaml", GroupRef{1, 0}, "", []string{"    age: " + keyA + ", " + keyB + ", " + keyC + ", " + keyG}},
		{"comma_strings.yaml", GroupRef{2, 0}, "", []string{`    age: "` + keyA + "," + keyB + "," + keyG + `"`}},
		{"comma_strings.yaml", GroupRef{3, 0}, "", []string{`    age: '` + keyC + "," + keyG + `'`}},
		{"comma_strings.yaml", GroupRef{4, 0}, "", []string{"      " + keyD + ",", "      " + keyG}},
		{"flow.yaml", GroupRef{1, 0}, "", []string{"keys: {alice: &alice " + keyA + ", bob: &bob " + keyB + ", newbie: &newbie " + keyG + "}", "    age: [" + keyC + ", " + keyD + ", *newbie]"}},
		{"flow.yaml", GroupRef{3, 0}, "", []string{"    age: [*newbie]"}},
		{"flow.yaml", GroupRef{2, 1}, "", []string{"          " + keyD + ",", "          *newbie"}},
		{"key_groups_shamir.yaml", GroupRef{0, 2}, "", []string{"        age:", "          - " + keyG + " # newbie"}},
		{"list_anchors.yaml", GroupRef{2, 0}, "bob", []string{"      - &newbie " + keyG}},
		{"anchors_in_rule.yaml", GroupRef{2, 0}, "", []string{"      - &newbie " + keyG}},
		{"empty_group_field.yaml", GroupRef{1, 0}, "", []string{"    age:", "      - " + keyG + " # newbie"}},
	}
	for _, tc := range cases {
		c := loadFixture(t, tc.fixture)
		ed, err := c.Add(AddOptions{Name: "newbie", Key: Key{TypeAge, keyG}, Targets: []GroupRef{tc.target}, Like: tc.like})
		if err != nil {
			t.Errorf("%s %s: %v", tc.fixture, tc.target, err)
			continue
		}
		lines := strings.Split(strings.ReplaceAll(string(ed.New), "\r\n", "\n"), "\n")
		for _, w := range tc.want {
			found := false
			for _, l := range lines {
				if l == w {
					found = true
				}
			}
			if !found {
				t.Errorf("%s %s: no line %q in\n%s", tc.fixture, tc.target, w, ed.New)
			}
		}
	}
}

func TestAddAlreadyPresentAndErrors(t *testing.T) {
	c := loadFixture(t, "anchors_keys_list.yaml")
	ed, err := c.Add(AddOptions{Name: "alice", Key: Key{TypeAge, keyA}, Targets: []GroupRef{{0, 0}, {1, 0}}})
	if err != nil || !ed.Unchanged() || len(ed.Notes) != 1 || ed.Notes[0] != "alice is already in rule 1 group 1 (line 9), rule 2 group 1 (line 14): left as is" {
		t.Errorf("already present: %v %q", err, ed.Notes)
	}
	ed, err = c.Add(AddOptions{Name: "alice", Key: Key{TypeAge, keyA}, Targets: []GroupRef{{2, 0}}})
	if err != nil || !strings.Contains(string(ed.New), "  - age: [*bob,*alice]") {
		t.Errorf("existing anchor reused: %v\n%s", err, ed.New)
	}
	if _, err := c.Add(AddOptions{Name: "bob", Key: Key{TypeAge, keyG}, Targets: []GroupRef{{0, 0}}}); err == nil || !strings.Contains(err.Error(), "already names another key") {
		t.Errorf("name clash: %v", err)
	}
	if _, err := c.Add(AddOptions{Name: "x", Key: Key{TypeAge, "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"}, Targets: []GroupRef{{0, 0}}}); err == nil || !strings.Contains(err.Error(), "invalid age recipient") {
		t.Errorf("bad key: %v", err)
	}
	if _, err := c.Add(AddOptions{Name: "bad name", Key: Key{TypeAge, keyG}, Targets: []GroupRef{{0, 0}}}); err == nil {
		t.Errorf("bad name accepted")
	}
	if _, err := c.Add(AddOptions{Name: "newbie", Key: Key{TypeAge, keyG}}); err == nil {
		t.Errorf("no targets accepted")
	}
}

func TestRemove(t *testing.T) {
	c := loadFixture(t, "anchors_keys_list.yaml")
	k, err := c.Lookup("bob")
	if err != nil {
		t.Fatal(err)
	}
	// bob is the only recipient of rule 2.
	if _, err := c.Remove(k); err == nil || !strings.Contains(err.Error(), "would be left with no recipient") || !strings.Contains(err.Error(), "anchors_keys_list.yaml:17:") {
		t.Errorf("last recipient: %v", err)
	}
	k, _ = c.Lookup("web")
	ed, err := c.Remove(k)
	if err != nil {
		t.Fatal(err)
	}
	deleted, inserted := lineDiff(ed.Old, ed.New)
	if len(inserted) != 0 || len(deleted) != 2 {
		t.Errorf("remove web: -%q +%q", deleted, inserted)
	}
	// Own comment lines go with the item.
	c = loadFixture(t, "blank_lines.yaml")
	k, _ = c.Lookup("bob")
	ed, err = c.Remove(k)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(ed.New), "holiday") || strings.Contains(string(ed.New), "bob") {
		t.Errorf("comment kept:\n%s", ed.New)
	}
	if _, err := c.Lookup("nobody"); !errors.Is(err, ErrUnknownName) {
		t.Errorf("unknown: %v", err)
	}
	if _, err := c.Lookup("alcie"); err == nil || !strings.Contains(err.Error(), `did you mean "alice" (line 3)`) {
		t.Errorf("suggestion: %v", err)
	}
	// Comma strings: the entry and its separator.
	c = loadFixture(t, "comma_strings.yaml")
	ed, err = c.Remove(Key{TypeAge, keyB})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"    age: " + keyA + "\n", "    age: " + keyA + ", " + keyC + "\n", "      " + keyA + ",\n      " + keyD + "\n", `    age: "` + keyA + `,"` + "\n"} {
		if !strings.Contains(string(ed.New), w) {
			t.Errorf("comma removal: no %q in\n%s", w, ed.New)
		}
	}
}

func TestRename(t *testing.T) {
	c := loadFixture(t, "anchors_keys_list.yaml")
	ed, err := c.Rename("bob", "robert")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(ed.New), "*robert") != 2 || !strings.Contains(string(ed.New), "&robert ") || strings.Contains(string(ed.New), "bob") {
		t.Errorf("rename:\n%s", ed.New)
	}
	deleted, _ := lineDiff(ed.Old, ed.New)
	if len(deleted) != 3 {
		t.Errorf("rename changed %d lines", len(deleted))
	}
	c = loadFixture(t, "comment_names.yaml")
	ed, err = c.Rename("alice", "alicia")
	if err != nil || !strings.Contains(string(ed.New), keyA+" # alicia") {
		t.Errorf("comment rename: %v\n%s", err, ed.New)
	}
	if _, err := c.Rename("alice", "bob"); err == nil {
		t.Errorf("rename onto an existing name")
	}
	if _, err := c.Rename("nobody", "x"); !errors.Is(err, ErrUnknownName) {
		t.Errorf("unknown: %v", err)
	}
	// A comment name cannot take a ',' (the separator of "# alice, bob")
	// or a '#': refused up front, not by the verification.
	for _, bad := range []string{"b,c", "b # c", "#x"} {
		_, err := c.Rename("alice", bad)
		if err == nil || errors.Is(err, ErrNotVerified) || !strings.Contains(err.Error(), "cannot contain") {
			t.Errorf("rename to %q: %v", bad, err)
		}
	}
	if ed, err := c.Rename("alice", "Alice Smith"); err != nil || !strings.Contains(string(ed.New), keyA+" # Alice Smith") {
		t.Errorf("a comment name with a space: %v", err)
	}
}

func TestVerificationCatchesBadEdits(t *testing.T) {
	c := loadFixture(t, "anchors_keys_list.yaml")
	ed := &Edit{Path: c.Path, Old: c.data, Key: Key{TypeAge, keyG}, Name: "newbie", Changed: []GroupRef{{0, 0}}}
	// An edit that adds the key to the wrong group.
	ed.New = []byte(strings.Replace(string(c.data), "  - age: *bob", "  - age: [*bob, "+keyG+"]", 1))
	if err := c.verifyAdd(ed); err == nil {
		t.Errorf("wrong group not caught")
	}
	// An edit that breaks the YAML.
	ed.New = []byte(strings.Replace(string(c.data), "      - *web", "      - *web\n   - *newbie", 1))
	if err := c.verifyAdd(ed); err == nil {
		t.Errorf("broken YAML not caught")
	}
	// A removal that drops another key too.
	ed = &Edit{Path: c.Path, Old: c.data, Key: Key{TypeAge, keyE}}
	ed.New = []byte(strings.Replace(strings.Replace(string(c.data), "      - *web\n", "", 1), "      - *bob\n", "", 1))
	if err := c.verifyRemove(ed); err == nil {
		t.Errorf("extra removal not caught")
	}
}

func TestNoFinalNewlineAndCRLF(t *testing.T) {
	c := loadFixture(t, "no_final_newline.yaml")
	ed, err := c.Add(AddOptions{Name: "newbie", Key: Key{TypeAge, keyG}, Targets: []GroupRef{{0, 0}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(ed.New), "# bob\n      - "+keyG+" # newbie") {
		t.Errorf("no final newline:\n%q", ed.New)
	}
	c = loadFixture(t, "crlf.yaml")
	ed, err = c.Add(AddOptions{Name: "newbie", Key: Key{TypeAge, keyG}, Targets: []GroupRef{{0, 0}, {1, 0}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ed.New), "  - &newbie "+keyG+"\r\n") || !strings.Contains(string(ed.New), "      - *newbie\r\n") {
		t.Errorf("crlf:\n%q", ed.New)
	}
	raw, _ := os.ReadFile(filepath.Join("testdata", "config", "crlf.yaml"))
	if !bytes.Equal(raw, ed.Old) {
		t.Errorf("Old is not the file")
	}
}

// TestSingleValueAndOneItemFlowList: "age: *bob" (and "age: &bob key")
// and a one-item flow list "age: [*bob]" both survive an add and a remove
// byte for byte (guarantee 2), each add changing only the age line and
// adding the anchor definition (guarantee 1). Add writes the list it makes
// of a single value as "[A,B]"; only that exact form collapses back.
func TestSingleValueAndOneItemFlowList(t *testing.T) {
	head := "keys:\n  - &bob " + keyB + "\ncreation_rules:\n"
	cases := []struct{ line, added string }{
		{"  - age: *bob\n", "  - age: [*bob,*carol]\n"},
		{"  - age: [*bob]\n", "  - age: [*bob, *carol]\n"},
		{"  - age: [ *bob ]\n", "  - age: [ *bob, *carol ]\n"},
		{"  - age: [*bob,]\n", "  - age: [*bob, *carol,]\n"},
		{"  - age: *bob # admins\n", "  - age: [*bob,*carol] # admins\n"},
		{"  - path_regex: ^a/\n    age: &dan " + keyA + "\n  - age: *dan\n", "  - path_regex: ^a/\n    age: [&dan " + keyA + ",&carol " + keyC + "]\n  - age: [*dan,*carol]\n"},
	}
	for _, tc := range cases {
		data := head + tc.line
		c, err := ParseConfig(".sops.yaml", []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		var targets []GroupRef
		for ri := range c.Rules {
			targets = append(targets, GroupRef{ri, 0})
		}
		ed, err := c.Add(AddOptions{Name: "carol", Key: Key{TypeAge, keyC}, Targets: targets})
		if err != nil {
			t.Errorf("%q: add: %v", tc.line, err)
			continue
		}
		want := "keys:\n  - &bob " + keyB + "\n  - &carol " + keyC + "\ncreation_rules:\n" + tc.added
		if strings.Contains(tc.added, "&carol") {
			// The last anchored recipient is defined in a rule: the new
			// anchor goes next to it.
			want = head + tc.added
		}
		if string(ed.New) != want {
			t.Errorf("%q: add gave\n%s\nwant\n%s", tc.line, ed.New, want)
			continue
		}
		c2, err := ParseConfig(".sops.yaml", ed.New)
		if err != nil {
			t.Fatal(err)
		}
		back, err := c2.Remove(Key{TypeAge, keyC})
		if err != nil {
			t.Errorf("%q: remove: %v", tc.line, err)
			continue
		}
		if string(back.New) != data {
			t.Errorf("%q: round trip gave\n%s", tc.line, back.New)
		}
	}
	// A two-item flow list the file wrote with ", " stays a list when one
	// item goes; only Add's own "[A,B]" collapses (sops reads both the same).
	for in, out := range map[string]string{
		"  - age: [*bob, *carol]\n": "  - age: [*bob]\n",
		"  - age: [*carol, *bob]\n": "  - age: [*bob]\n",
		"  - age: [*bob,*carol]\n":  "  - age: *bob\n",
		"  - age: [*carol,*bob]\n":  "  - age: *bob\n",
	} {
		c, err := ParseConfig(".sops.yaml", []byte("keys:\n  - &bob "+keyB+"\n  - &carol "+keyC+"\ncreation_rules:\n"+in))
		if err != nil {
			t.Fatal(err)
		}
		ed, err := c.Remove(Key{TypeAge, keyC})
		if err != nil {
			t.Fatal(err)
		}
		if want := head + out; string(ed.New) != want {
			t.Errorf("remove from %q gave\n%s", in, ed.New)
		}
	}
}

// TestRemoveFirstKeyOfListItem: when "- age:" goes, the group's next key
// moves up behind the dash.
func TestRemoveFirstKeyOfListItem(t *testing.T) {
	data := "creation_rules:\n  - key_groups:\n      - age:\n          - " + keyC + " # carol\n        pgp:\n          - " + pgp1 + "\n      - age:\n          - " + keyA + "\n"
	c, err := ParseConfig(".sops.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	ed, err := c.Remove(Key{TypeAge, keyC})
	if err != nil {
		t.Fatal(err)
	}
	want := "creation_rules:\n  - key_groups:\n      - pgp:\n          - " + pgp1 + "\n      - age:\n          - " + keyA + "\n"
	if string(ed.New) != want {
		t.Errorf("got\n%s", ed.New)
	}
	// A comment between the keys is not guessed at.
	data = strings.Replace(data, "        pgp:", "        # offline key\n        pgp:", 1)
	c, _ = ParseConfig(".sops.yaml", []byte(data))
	if _, err := c.Remove(Key{TypeAge, keyC}); err == nil || !strings.Contains(err.Error(), ".sops.yaml:5: a comment between") {
		t.Errorf("err %v", err)
	}
}

func BenchmarkParseConfig(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "config", "cloud.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ParseConfig(".sops.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAddVerified(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "config", "anchors_nested.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	c, err := ParseConfig(".sops.yaml", data)
	if err != nil {
		b.Fatal(err)
	}
	o := AddOptions{Name: "newbie", Key: Key{TypeAge, keyG}, Targets: []GroupRef{{0, 0}, {1, 0}, {2, 0}}}
	for b.Loop() {
		if _, err := c.Add(o); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAnchorsListBelowRules: the definition goes to the first target list
// when the anchors list comes after the rules.
func TestAnchorsListBelowRules(t *testing.T) {
	data := "creation_rules:\n  - age:\n      - " + keyA + "\nkeys:\n  - &bob " + keyB + "\n"
	c, err := ParseConfig(".sops.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	ed, err := c.Add(AddOptions{Name: "newbie", Key: Key{TypeAge, keyG}, Targets: []GroupRef{{0, 0}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ed.New), "      - &newbie "+keyG+"\n") {
		t.Errorf("got\n%s", ed.New)
	}
}

// TestOddInputs: a byte order mark, and a plain value in a flow mapping
// (which cannot take a comma).
func TestOddInputs(t *testing.T) {
	for _, data := range []string{
		"\uFEFFcreation_rules: [{age: [" + keyA + "]}]\n",
		"\uFEFFkeys: [&alice " + keyA + ", &bob " + keyB + "]\ncreation_rules:\n  - age: [*alice, *bob]\n",
		"creation_rules:\n  - key_groups:\n      - {pgp: [" + pgp1 + "]}\n",
		"keys: [&alice " + keyA + "]\ncreation_rules:\n  - age: *alice\n",
	} {
		c, err := ParseConfig(".sops.yaml", []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		checkRoundTrip(t, c, GroupRef{0, 0}, keyG, "newbie", true)
	}
	c, err := ParseConfig(".sops.yaml", []byte("creation_rules:\n  - {path_regex: a, age: "+keyA+"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Add(AddOptions{Name: "newbie", Key: Key{TypeAge, keyG}, Targets: []GroupRef{{0, 0}}})
	var u *errUnclean
	if !errors.As(err, &u) || !strings.Contains(err.Error(), ".sops.yaml:2: an unquoted age value") {
		t.Errorf("err %v", err)
	}
}
