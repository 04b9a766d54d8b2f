package sopsfile

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sopsfleet/sopsfleet/recipients"
)

const fakeAgeEnc = "-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBub3QgYSByZWFsIHN0YW56YQ\n-----END AGE ENCRYPTED FILE-----\n"

// TestAddCorpus adds an age entry to every real file (to each group) and
// a PGP entry: the result only has lines inserted, and sops' own store reads
// it with the new keys.
func TestAddCorpus(t *testing.T) {
	n := 0
	for _, path := range corpusFiles(t) {
		name := filepath.Base(path)
		data, f := readParsed(t, path)
		var add []NewStanza
		for gi := range f.Groups {
			add = append(add, AgeStanza(gi, fmt.Sprintf("age1new%dqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", gi), fakeAgeEnc))
		}
		add = append(add, NewStanza{Key: recipients.Key{Type: recipients.TypePGP, ID: "FFFF0123456789ABCDEF0123456789ABCDEF0123"}, Fields: []Field{
			{Name: "fp", Value: "FFFF0123456789ABCDEF0123456789ABCDEF0123"},
			{Name: "created_at", Value: "2026-01-02T03:04:05Z"},
			{Name: "enc", Value: "-----BEGIN PGP MESSAGE-----\n\nabc\n-----END PGP MESSAGE-----"},
		}})
		out, err := AddStanzas(f, data, add)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := crossCheck(path, out); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, err := sopsLoad(path, out); err != nil {
			t.Errorf("%s: sops cannot load the result: %v", name, err)
			continue
		}
		if missing := missingLines(out, data); len(missing) > 0 {
			t.Errorf("%s: adding changed existing lines: %q", name, missing)
		}
		n++
	}
	t.Logf("%d files", n)
}

// TestReplaceCorpus gives every real file two fresh key groups: the data
// section and the other metadata stay byte-identical, and sops' store reads
// the new groups and threshold.
func TestReplaceCorpus(t *testing.T) {
	for _, path := range corpusFiles(t) {
		name := filepath.Base(path)
		data, f := readParsed(t, path)
		groups := [][]NewStanza{
			{AgeStanza(0, "age1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", fakeAgeEnc)},
			{AgeStanza(1, "age1bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", fakeAgeEnc),
				AgeStanza(1, "age1cccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", fakeAgeEnc)},
		}
		out, err := ReplaceKeyGroups(f, data, groups, 2)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		md, err := sopsLoad(path, out)
		if err != nil {
			t.Errorf("%s: sops cannot load the result: %v\n%s", name, err, out)
			continue
		}
		if len(md.KeyGroups) != 2 || md.ShamirThreshold != 2 || md.MessageAuthenticationCode != f.MAC || md.Version != f.Version {
			t.Errorf("%s: sops reads %d groups, threshold %d", name, len(md.KeyGroups), md.ShamirThreshold)
		}
		if !bytes.Equal(dataSection(t, path, out), dataSection(t, path, data)) {
			t.Errorf("%s: data section changed", name)
		}
		// And back to one group.
		single, err := ReplaceKeyGroups(mustParse(t, path, out), out, groups[1:], 0)
		if err != nil {
			t.Errorf("%s: back to one group: %v", name, err)
			continue
		}
		if err := crossCheck(path, single); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// emptyList matches the line of an empty list ("kms: []", "\"pgp\": null,")
// that an addition may fill.
var emptyList = regexp.MustCompile(`^\s*"?[a-z_]+"?\s*:\s*(\[\]|null|~)?\s*,?\s*$`)

// missingLines returns the lines of before that after lacks (in order),
// other than emptied list lines and, in JSON, lines that only gained a comma.
func missingLines(after, before []byte) []string {
	a, b := strings.SplitAfter(string(after), "\n"), strings.SplitAfter(string(before), "\n")
	var missing []string
	i := 0
	for _, l := range b {
		for i < len(a) && a[i] != l && strings.TrimRight(a[i], ", \r\n") != strings.TrimRight(l, ", \r\n") {
			i++
		}
		if i < len(a) {
			i++
			continue
		}
		if !emptyList.MatchString(l) {
			missing = append(missing, l)
		}
		i = 0
	}
	return missing
}
