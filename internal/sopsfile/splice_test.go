package sopsfile

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sopsfleet/sopsfleet/recipients"
)

func mustParse(t testing.TB, name string, data []byte) *File {
	t.Helper()
	f, err := Parse(name, data)
	if err != nil {
		t.Fatalf("Parse %s: %v\n%s", name, err, data)
	}
	return f
}

func keysOf(f *File) [][]string { return sortedGroupKeys(f.Groups) }

func ageK(k testAgeKey) recipients.Key { return recipients.Key{Type: recipients.TypeAge, ID: k.rcp} }

// removedLines returns the lines of big that are not in small, when small
// is big with lines removed (ok).
func removedLines(big, small []byte) (removed []string, ok bool) {
	b, s := strings.SplitAfter(string(big), "\n"), strings.SplitAfter(string(small), "\n")
	j := 0
	for _, l := range b {
		if j < len(s) && s[j] == l {
			j++
			continue
		}
		removed = append(removed, l)
	}
	return removed, j == len(s)
}

// mustDecrypt checks that sops decrypts data with keys and gives want.
func mustDecrypt(t *testing.T, name string, data, want []byte, keys ...testAgeKey) {
	t.Helper()
	got, err := sopsDecrypt(t, name, data, keys...)
	if err != nil {
		t.Fatalf("sops -d %s: %v\n%s", name, err, data)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("sops -d %s: got\n%s\nwant\n%s", name, got, want)
	}
}

func mustNotDecrypt(t *testing.T, name string, data []byte, keys ...testAgeKey) {
	t.Helper()
	if _, err := sopsDecrypt(t, name, data, keys...); err == nil {
		t.Fatalf("sops -d %s succeeded with a removed key", name)
	}
}

// TestSpliceRealSops removes and adds age entries in files of every format
// written by the real sops, and checks with the real sops that the results
// decrypt for exactly the remaining keys and that nothing else changed.
func TestSpliceRealSops(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			k1, k2, k3 := genAgeKey(t), genAgeKey(t), genAgeKey(t)
			enc := sopsEncrypt(t, name, plaintexts[name], "", k1.rcp, k2.rcp)
			plain, err := sopsDecrypt(t, name, enc, k1)
			if err != nil {
				t.Fatal(err)
			}
			f := mustParse(t, name, enc)
			if got, want := keysOf(f), sortedGroupKeys([][]Stanza{{{Key: ageK(k1)}, {Key: ageK(k2)}}}); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("groups %v, want %v", got, want)
			}
			if name == "multi.yaml" && f.Documents != 3 {
				t.Fatalf("documents = %d, want 3", f.Documents)
			}

			// Remove k1 (the first entry: later ones renumber in dotenv/INI).
			rm, err := RemoveStanzas(f, enc, []recipients.Key{ageK(k1)})
			if err != nil {
				t.Fatal(err)
			}
			checkRemoval(t, f, enc, rm, k1.rcp)
			mustDecrypt(t, name, rm, plain, k2)
			mustNotDecrypt(t, name, rm, k1)
			sopsAgrees(t, name, rm)

			// Add k3 back with the data key.
			rmf := mustParse(t, name, rm)
			key := dataKeyOf(t, rmf, k2)
			added, err := AddStanzas(rmf, rm, []NewStanza{AgeStanza(0, k3.rcp, ageEnc(t, key, k3.rcp))})
			if err != nil {
				t.Fatal(err)
			}
			if inserted, ok := removedLines(added, rm); !ok || len(inserted) == 0 {
				t.Fatalf("adding changed existing lines:\n%s", added)
			}
			mustDecrypt(t, name, added, plain, k3)
			sopsAgrees(t, name, added)
			af := mustParse(t, name, added)
			if enc2 := stanzaFor(af, k2.rcp).Enc; enc2 != stanzaFor(f, k2.rcp).Enc {
				t.Fatal("k2's entry changed")
			}
			if !bytes.Equal(dataSection(t, name, added), dataSection(t, name, enc)) {
				t.Fatal("data section changed")
			}
			// Adding in a new type list and dropping a whole type list: a
			// (fake) PGP entry first, then all age entries, then age again.
			pgp := NewStanza{Key: recipients.Key{Type: recipients.TypePGP, ID: "0123456789ABCDEF0123456789ABCDEF01234567"}, Fields: []Field{
				{Name: "fp", Value: "0123456789ABCDEF0123456789ABCDEF01234567"},
				{Name: "created_at", Value: "2026-01-02T03:04:05Z"},
				{Name: "enc", Value: "-----BEGIN PGP MESSAGE-----\n\nnot a real message\n-----END PGP MESSAGE-----"},
			}}
			withPGP, err := AddStanzas(af, added, []NewStanza{pgp})
			if err != nil {
				t.Fatal(err)
			}
			sopsAgrees(t, name, withPGP)
			pf := mustParse(t, name, withPGP)
			onlyPGP, err := RemoveStanzas(pf, withPGP, []recipients.Key{ageK(k2), ageK(k3)})
			if err != nil {
				t.Fatal(err)
			}
			sopsAgrees(t, name, onlyPGP)
			of := mustParse(t, name, onlyPGP)
			back, err := AddStanzas(of, onlyPGP, []NewStanza{AgeStanza(0, k1.rcp, ageEnc(t, key, k1.rcp))})
			if err != nil {
				t.Fatal(err)
			}
			sopsAgrees(t, name, back)
			mustDecrypt(t, name, back, plain, k1)
			if _, err := RemoveStanzas(mustParse(t, name, back), back, []recipients.Key{ageK(k1), pgp.Key}); err == nil {
				t.Fatal("removing every key was allowed")
			}
		})
	}
}

func stanzaFor(f *File, id string) Stanza {
	for _, g := range f.Groups {
		for _, s := range g {
			if s.Key.ID == id {
				return s
			}
		}
	}
	return Stanza{}
}

// checkRemoval checks that only the removed entry's lines went (plus, in
// dotenv/INI, the renumbered index of later entries; in JSON, the comma of
// the line before).
func checkRemoval(t *testing.T, f *File, before, after []byte, id string) {
	t.Helper()
	b, a := strings.SplitAfter(string(before), "\n"), strings.SplitAfter(string(after), "\n")
	var removed []string
	j := 0
	for _, l := range b {
		if j < len(a) && (a[j] == l || equivRenumbered(a[j], l) || strings.TrimSuffix(l, ",\n") == strings.TrimSuffix(a[j], "\n") && f.Format != FormatYAML) {
			j++
			continue
		}
		removed = append(removed, l)
	}
	if j != len(a) {
		t.Fatalf("the removal did more than delete lines:\n%s", after)
	}
	s := stanzaFor(f, id)
	per := s.EndLine - s.Line + 1
	switch f.Format {
	case FormatDotenv, FormatINI:
		per = 2
	case FormatJSON, FormatBinary:
		per++ // the line of the opening brace
	}
	if len(removed) != per*f.Documents {
		t.Fatalf("removed %d lines, want %d:\n%s", len(removed), per*f.Documents, strings.Join(removed, ""))
	}
	for _, l := range removed {
		if !strings.Contains(l, id) && !strings.Contains(string(before), l) {
			t.Fatalf("unexpected removed line %q", l)
		}
	}
}

// equivRenumbered reports whether two dotenv/INI lines differ only in a
// list index (and its alignment).
func equivRenumbered(a, b string) bool {
	norm := func(s string) string {
		s = strings.Join(strings.Fields(s), " ")
		var out strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] >= '0' && s[i] <= '9' && i > 6 && strings.HasSuffix(s[:i], "__list_") {
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					i++
				}
				out.WriteByte('#')
				i--
				continue
			}
			out.WriteByte(s[i])
		}
		return out.String()
	}
	return strings.Contains(a, "__list_") && norm(a) == norm(b)
}

// sopsAgrees checks that sops' own store reads the same key groups.
func sopsAgrees(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := crossCheck(name, data); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if _, err := sopsLoad(name, data); err != nil {
		t.Fatalf("sops cannot load the result: %v\n%s", err, data)
	}
}

// dataSection returns the file without its metadata.
func dataSection(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	switch FormatFor(name) {
	case FormatYAML:
		blocks, _ := scanYAML(data)
		var out []byte
		last := 0
		for _, b := range blocks {
			out = append(out, data[last:b.start]...)
			last = b.end
		}
		return append(out, data[last:]...)
	case FormatJSON, FormatBinary:
		i := bytes.Index(data, []byte(`"sops"`))
		return data[:i]
	case FormatDotenv:
		var out []byte
		for _, l := range bytes.SplitAfter(data, []byte("\n")) {
			if !bytes.HasPrefix(l, []byte("sops_")) {
				out = append(out, l...)
			}
		}
		return out
	case FormatINI:
		return data[:bytes.Index(data, []byte("[sops]"))]
	}
	return nil
}

// TestReplaceKeyGroups turns single-group files into Shamir files (and
// back), checked with the real sops.
func TestReplaceKeyGroups(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			k1, k2, k3 := genAgeKey(t), genAgeKey(t), genAgeKey(t)
			enc := sopsEncrypt(t, name, plaintexts[name], "", k1.rcp)
			plain, err := sopsDecrypt(t, name, enc, k1)
			if err != nil {
				t.Fatal(err)
			}
			f := mustParse(t, name, enc)
			key := dataKeyOf(t, f, k1)
			parts, err := SplitDataKey(key, 2, 2)
			if err != nil {
				t.Fatal(err)
			}
			groups := [][]NewStanza{
				{AgeStanza(0, k1.rcp, ageEnc(t, parts[0], k1.rcp))},
				{AgeStanza(1, k2.rcp, ageEnc(t, parts[1], k2.rcp)), AgeStanza(1, k3.rcp, ageEnc(t, parts[1], k3.rcp))},
			}
			out, err := ReplaceKeyGroups(f, enc, groups, 2)
			if err != nil {
				t.Fatal(err)
			}
			sopsAgrees(t, name, out)
			of := mustParse(t, name, out)
			if !of.KeyGroupsForm || of.ShamirThreshold != 2 || len(of.Groups) != 2 {
				t.Fatalf("got %d groups, threshold %d", len(of.Groups), of.ShamirThreshold)
			}
			if !bytes.Equal(dataSection(t, name, out), dataSection(t, name, enc)) {
				t.Fatalf("data section changed:\n%s", out)
			}
			mustDecrypt(t, name, out, plain, k1, k3)
			mustNotDecrypt(t, name, out, k2, k3)

			// Remove and add inside a group of the Shamir file.
			rm, err := RemoveStanzas(of, out, []recipients.Key{ageK(k2)})
			if err != nil {
				t.Fatal(err)
			}
			sopsAgrees(t, name, rm)
			mustDecrypt(t, name, rm, plain, k1, k3)
			k4 := genAgeKey(t)
			add, err := AddStanzas(mustParse(t, name, rm), rm, []NewStanza{AgeStanza(1, k4.rcp, ageEnc(t, parts[1], k4.rcp))})
			if err != nil {
				t.Fatal(err)
			}
			sopsAgrees(t, name, add)
			mustDecrypt(t, name, add, plain, k1, k4)
			if _, err := RemoveStanzas(mustParse(t, name, add), add, []recipients.Key{ageK(k1)}); err == nil {
				t.Fatal("emptying a key group was allowed")
			}

			// Back to a single group.
			single, err := ReplaceKeyGroups(of, out, [][]NewStanza{{AgeStanza(0, k2.rcp, ageEnc(t, key, k2.rcp))}}, 0)
			if err != nil {
				t.Fatal(err)
			}
			sopsAgrees(t, name, single)
			sf := mustParse(t, name, single)
			if sf.KeyGroupsForm || sf.ShamirThreshold != 0 {
				t.Fatalf("still key groups:\n%s", single)
			}
			mustDecrypt(t, name, single, plain, k2)
			if !bytes.Equal(dataSection(t, name, single), dataSection(t, name, enc)) {
				t.Fatal("data section changed")
			}
		})
	}
}

// TestSpliceSopsKeyGroups edits a Shamir file written by the real sops.
func TestSpliceSopsKeyGroups(t *testing.T) {
	t.Parallel()
	k1, k2, k3 := genAgeKey(t), genAgeKey(t), genAgeKey(t)
	config := fmt.Sprintf("creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [%s]\n      - age: [%s]\n", k1.rcp, k2.rcp)
	for _, name := range []string{"secrets.yaml", "secrets.env", "secrets.json", "secrets.ini"} {
		enc := sopsEncrypt(t, name, plaintexts[name], config)
		plain, err := sopsDecrypt(t, name, enc, k1, k2)
		if err != nil {
			t.Fatal(err)
		}
		f := mustParse(t, name, enc)
		if len(f.Groups) != 2 || f.ShamirThreshold != 2 {
			t.Fatalf("%s: %d groups", name, len(f.Groups))
		}
		// k3 joins group 1 with k2's part.
		var part []byte
		func() {
			g := &File{Groups: [][]Stanza{f.Groups[1]}}
			part = dataKeyOf(t, g, k2)
		}()
		out, err := AddStanzas(f, enc, []NewStanza{AgeStanza(1, k3.rcp, ageEnc(t, part, k3.rcp))})
		if err != nil {
			t.Fatal(err)
		}
		if inserted, ok := removedLines(out, enc); !ok || len(inserted) == 0 {
			t.Fatalf("%s: adding changed existing lines", name)
		}
		sopsAgrees(t, name, out)
		mustDecrypt(t, name, out, plain, k1, k3)
		// A new type list inside a group, indented like its siblings.
		pgp := NewStanza{Group: 0, Key: recipients.Key{Type: recipients.TypePGP, ID: "0123456789ABCDEF0123456789ABCDEF01234567"}, Fields: []Field{
			{Name: "fp", Value: "0123456789ABCDEF0123456789ABCDEF01234567"},
			{Name: "created_at", Value: "2026-01-02T03:04:05Z"},
			{Name: "enc", Value: "-----BEGIN PGP MESSAGE-----\n\nnot a real message\n-----END PGP MESSAGE-----"},
		}}
		withPGP, err := AddStanzas(mustParse(t, name, out), out, []NewStanza{pgp})
		if err != nil {
			t.Fatal(err)
		}
		sopsAgrees(t, name, withPGP)
		if name == "secrets.yaml" {
			indentOf := func(prefix string) int {
				for _, l := range strings.Split(string(withPGP), "\n") {
					if strings.HasPrefix(strings.TrimLeft(l, " "), prefix) {
						return len(l) - len(strings.TrimLeft(l, " "))
					}
				}
				return -1
			}
			if indentOf("pgp:") != indentOf("hc_vault:") || indentOf("- created_at:") != indentOf("- enc:") {
				t.Fatalf("new list not indented like its siblings:\n%s", withPGP)
			}
		}
		rm, err := RemoveStanzas(mustParse(t, name, out), out, []recipients.Key{ageK(k2)})
		if err != nil {
			t.Fatal(err)
		}
		sopsAgrees(t, name, rm)
		mustDecrypt(t, name, rm, plain, k1, k3)
		mustNotDecrypt(t, name, rm, k1, k2)
	}
}

// TestRemoveCorpus removes one entry from every real file that has two or
// more in a group: only that entry's lines change, and sops' own store
// reads the result with that key gone.
func TestRemoveCorpus(t *testing.T) {
	checked := 0
	for _, path := range corpusFiles(t) {
		data, f := readParsed(t, path)
		for gi, g := range f.Groups {
			if len(g) < 2 {
				continue
			}
			// Remove the entry in the middle (or the first of two).
			victim := g[len(g)/2]
			if count(f, victim.Key) != 1 {
				victim = g[0]
				if count(f, victim.Key) != 1 {
					continue
				}
			}
			out, err := RemoveStanzas(f, data, []recipients.Key{victim.Key})
			if err != nil {
				t.Errorf("%s: %v", filepath.Base(path), err)
				continue
			}
			name := filepath.Base(path)
			if err := crossCheck(path, out); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			md, err := sopsLoad(path, out)
			if err != nil {
				t.Errorf("%s: sops cannot load the result: %v", name, err)
				continue
			}
			want := sortedGroupKeys(f.Groups)
			want[gi] = slices.DeleteFunc(want[gi], func(s string) bool { return s == victim.Key.String() })
			if fmt.Sprint(sopsGroups(md)) != fmt.Sprint(want) {
				t.Errorf("%s: sops reads %v, want %v", name, sopsGroups(md), want)
			}
			checkCorpusDiff(t, name, f, data, out, victim)
			checked++
			break
		}
	}
	t.Logf("%d files with an entry removed", checked)
}

func count(f *File, k recipients.Key) int {
	n := 0
	for _, g := range f.Groups {
		for _, s := range g {
			if s.Key == k {
				n++
			}
		}
	}
	return n
}

// checkCorpusDiff checks the line diff of a removal: the result is the
// original with lines deleted (apart from renumbered dotenv/INI keys and a
// JSON comma), as many as the entry has (with its list's key when it was the
// only one, in every YAML document), all taken from the entry's place.
func checkCorpusDiff(t *testing.T, name string, f *File, before, after []byte, s Stanza) {
	t.Helper()
	b, a := strings.SplitAfter(string(before), "\n"), strings.SplitAfter(string(after), "\n")
	var removed []string
	j := 0
	for _, l := range b {
		if j < len(a) && (a[j] == l || equivRenumbered(a[j], l) ||
			(f.Format == FormatJSON || f.Format == FormatBinary) && strings.TrimRight(l, ", \t\r\n") == strings.TrimRight(a[j], ", \t\r\n")) {
			j++
			continue
		}
		removed = append(removed, l)
	}
	if j != len(a) {
		t.Errorf("%s: the removal did more than delete lines", name)
		return
	}
	sole := 0
	for _, x := range f.Groups[s.Group] {
		if x.Key.Type == s.Key.Type {
			sole++
		}
	}
	var want int
	switch f.Format {
	case FormatDotenv, FormatINI:
		prefix := fmt.Sprintf("%s__list_%d__map_", s.Key.Type, s.Index)
		for _, l := range b {
			if strings.Contains(l, prefix) && (!f.KeyGroupsForm || strings.Contains(l, fmt.Sprintf("key_groups__list_%d__map_", s.Group))) {
				want++
			}
		}
	case FormatYAML:
		want = s.EndLine - s.Line + 1
		if sole == 1 {
			want++ // the list's key
		}
		want *= f.Documents
	default:
		want = s.EndLine - s.Line + 2 // with the opening brace
		if sole == 1 {
			want += 2 // the list's key and closing bracket
		}
	}
	if len(removed) != want {
		t.Errorf("%s: removed %d lines, want %d:\n%s", name, len(removed), want, strings.Join(removed, ""))
		return
	}
	region := strings.Join(b[max(0, s.Line-4):min(len(b), s.EndLine+2)], "")
	for _, l := range removed {
		if !strings.Contains(region, l) && !(f.Format == FormatDotenv || f.Format == FormatINI) {
			t.Errorf("%s: removed line %q is not from the entry", name, l)
		}
	}
}
