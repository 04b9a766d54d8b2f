package recipients

import (
	"strings"
	"testing"
)

// keysIn writes the test keys into a config written with A…F.
var keysIn = strings.NewReplacer("{A}", keyA, "{B}", keyB, "{C}", keyC, "{D}", keyD, "{E}", keyE, "{F}", keyF)

// remove removes the key named name (or written as {A}…) from the config
// text (written with {A}…) and returns the new text.
func remove(t *testing.T, text, name string) string {
	t.Helper()
	c, err := ParseConfig(".sops.yaml", []byte(keysIn.Replace(text)))
	if err != nil {
		t.Fatal(err)
	}
	k := Key{TypeAge, keysIn.Replace(name)}
	if !strings.HasPrefix(name, "{") {
		if k, err = c.Lookup(name); err != nil {
			t.Fatal(err)
		}
	}
	ed, err := c.Remove(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(ed.New)
}

// A comment that heads a section of several items stays when one of them
// goes; a comment that belongs to the removed item alone goes with it.
func TestRemoveKeepsSectionComments(t *testing.T) {
	for _, tc := range []struct {
		name, remove, in, want string
	}{{
		name:   "heading above the first of several items stays",
		remove: "web1",
		in: `keys:
  # admins
  - &alice {A}
  # hosts
  - &web1 {B}
  - &web2 {C}
creation_rules:
  - path_regex: .*
    age:
      - *alice
      # hosts
      - *web1
      - *web2
`,
		want: `keys:
  # admins
  - &alice {A}
  # hosts
  - &web2 {C}
creation_rules:
  - path_regex: .*
    age:
      - *alice
      # hosts
      - *web2
`,
	}, {
		name:   "heading of the first item of a list stays",
		remove: "web1",
		in: `keys:
  # hosts, one a line
  - &web1 {B}
  - &web2 {C}
  - &alice {A}
creation_rules:
  - age:
      # hosts
      - *web1
      - *web2
      - *alice
`,
		want: `keys:
  # hosts, one a line
  - &web2 {C}
  - &alice {A}
creation_rules:
  - age:
      # hosts
      - *web2
      - *alice
`,
	}, {
		name:   "own comment, next item after a blank line",
		remove: "web1",
		in: `keys:
  - &alice {A}
  # web1 is the laptop stolen in May
  # (see the incident report)
  - &web1 {B}

  - &web2 {C}
creation_rules:
  - age:
      - *alice
      - *web1
      - *web2
`,
		want: `keys:
  - &alice {A}

  - &web2 {C}
creation_rules:
  - age:
      - *alice
      - *web2
`,
	}, {
		name:   "own comment, next item under its own heading",
		remove: "web1",
		in: `keys:
  # admins
  - &alice {A}
  # hosts
  - &web1 {B}
  # databases
  - &db1 {C}
creation_rules:
  - age: [*alice, *web1, *db1]
`,
		want: `keys:
  # admins
  - &alice {A}
  # databases
  - &db1 {C}
creation_rules:
  - age: [*alice, *db1]
`,
	}, {
		name:   "own comment of the last item",
		remove: "web2",
		in: `keys:
  - &alice {A}
  - &web1 {B}
  # web2: retired
  - &web2 {C}
creation_rules:
  - age: [*alice, *web1, *web2]
`,
		want: `keys:
  - &alice {A}
  - &web1 {B}
creation_rules:
  - age: [*alice, *web1]
`,
	}, {
		name:   "own comment of the first item, set apart by a blank line",
		remove: "{B}",
		in: `creation_rules:
  - age:
      # web1, until it is replaced
      - {B}

      - {A}
`,
		want: `creation_rules:
  - age:

      - {A}
`,
	}, {
		name:   "a heading whose whole section goes, goes",
		remove: "{B}",
		in: `creation_rules:
  - age:
      - {A}
      # hosts
      - {B}
      - {B}
      # more
      - {C}
`,
		want: `creation_rules:
  - age:
      - {A}
      # more
      - {C}
`,
	}, {
		name:   "a comment at another indent is not the item's",
		remove: "web1",
		in: `keys:
  - &alice {A}
# hosts
  - &web1 {B}
creation_rules:
  - age: [*alice, *web1]
`,
		want: `keys:
  - &alice {A}
# hosts
creation_rules:
  - age: [*alice]
`,
	}, {
		name:   "heading of a mapping's fields stays",
		remove: "web1",
		in: `hosts:
  # the web servers
  web1: &web1 {B}
  web2: &web2 {C}
creation_rules:
  - age: [*web1, *web2]
`,
		want: `hosts:
  # the web servers
  web2: &web2 {C}
creation_rules:
  - age: [*web2]
`,
	}, {
		name:   "own comment of a mapping's field",
		remove: "web1",
		in: `hosts:
  web0: &web0 {A}
  # web1 is gone
  web1: &web1 {B}

  web2: &web2 {C}
creation_rules:
  - age: [*web0, *web1, *web2]
`,
		want: `hosts:
  web0: &web0 {A}

  web2: &web2 {C}
creation_rules:
  - age: [*web0, *web2]
`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := remove(t, tc.in, tc.remove)
			if want := keysIn.Replace(tc.want); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// Adding a host to a commented section and removing it again gives back the
// file byte for byte.
func TestRemoveSectionCommentRoundTrip(t *testing.T) {
	for _, text := range []string{
		`keys:
  # admins
  - &alice {A}
  # hosts
  - &web1 {B}
  - &web2 {C}
creation_rules:
  - path_regex: .*
    age:
      - *alice
      # hosts
      - *web1
      - *web2
`,
		`creation_rules:
  - age:
      # hosts
      - {B}
      - {C}
      # admins
      - {A}
`,
	} {
		c, err := ParseConfig(".sops.yaml", []byte(keysIn.Replace(text)))
		if err != nil {
			t.Fatal(err)
		}
		checkRoundTrip(t, c, GroupRef{0, 0}, keyG, "newbie", false)
	}
}
