package sopsfile

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// TestSpliceVariants edits files whose layout sops would not write itself
// (CRLF line ends, no final newline, compact or 2-space JSON), then checks
// with the real sops that they decrypt for the new key and keep their
// layout.
func TestSpliceVariants(t *testing.T) {
	crlf := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) }
	noFinal := func(b []byte) []byte { return bytes.TrimRight(b, "\n") }
	compact := func(b []byte) []byte {
		var out bytes.Buffer
		if err := json.Compact(&out, b); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	twoSpace := func(b []byte) []byte {
		var out bytes.Buffer
		if err := json.Indent(&out, compact(b), "", "  "); err != nil {
			t.Fatal(err)
		}
		return append(out.Bytes(), '\n')
	}
	cases := []struct {
		name, file string
		fn         func([]byte) []byte
		crlf       bool
	}{
		{"yaml-crlf", "secrets.yaml", crlf, true},
		{"multi-yaml-crlf", "multi.yaml", crlf, true},
		{"json-crlf", "secrets.json", crlf, true},
		{"ini-crlf", "secrets.ini", crlf, true},
		{"yaml-no-final-newline", "secrets.yaml", noFinal, false},
		{"json-no-final-newline", "secrets.json", noFinal, false},
		{"env-no-final-newline", "secrets.env", noFinal, false},
		{"ini-no-final-newline", "secrets.ini", noFinal, false},
		{"json-compact", "secrets.json", compact, false},
		{"binary-compact", "secret.pem", compact, false},
		{"json-2-spaces", "secrets.json", twoSpace, false},
	}
	bareLF := regexp.MustCompile(`[^\r]\n`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			k1, k2, k3 := genAgeKey(t), genAgeKey(t), genAgeKey(t)
			orig := sopsEncrypt(t, c.file, plaintexts[c.file], "", k1.rcp, k2.rcp)
			plain, err := sopsDecrypt(t, c.file, orig, k1)
			if err != nil {
				t.Fatal(err)
			}
			data := c.fn(orig)
			f := mustParse(t, c.file, data)
			key := dataKeyOf(t, f, k1)
			rm, err := RemoveStanzas(f, data, []recipients.Key{ageK(k1)})
			if err != nil {
				t.Fatal(err)
			}
			out, err := AddStanzas(mustParse(t, c.file, rm), rm, []NewStanza{AgeStanza(0, k3.rcp, ageEnc(t, key, k3.rcp))})
			if err != nil {
				t.Fatal(err)
			}
			sopsAgrees(t, c.file, out)
			mustDecrypt(t, c.file, out, plain, k3)
			mustDecrypt(t, c.file, out, plain, k2)
			if c.crlf && bareLF.Match(out) {
				t.Fatalf("bare LF in a CRLF file:\n%q", out)
			}
			if bytes.HasSuffix(data, []byte("\n")) != bytes.HasSuffix(out, []byte("\n")) {
				t.Fatalf("final newline changed:\n%s", out)
			}
			if !bytes.Contains(data, []byte("\t")) && bytes.Contains(out, []byte("\t")) {
				t.Fatalf("tabs in a file indented with spaces:\n%s", out)
			}
		})
	}
}

// TestAddWritesLikeSops removes an entry from files written by the real
// sops and adds it back: the result is byte-identical to what sops wrote,
// so added entries look exactly like sops' own.
func TestAddWritesLikeSops(t *testing.T) {
	k1, k2, k3 := genAgeKey(t), genAgeKey(t), genAgeKey(t)
	config := "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [" + k1.rcp + ", " + k2.rcp + "]\n      - age: [" + k3.rcp + "]\n"
	for _, name := range fixtureNames {
		for _, groups := range []bool{false, true} {
			var orig []byte
			if groups {
				orig = sopsEncrypt(t, name, plaintexts[name], config)
			} else {
				orig = sopsEncrypt(t, name, plaintexts[name], "", k1.rcp, k2.rcp)
			}
			f := mustParse(t, name, orig)
			s := stanzaFor(f, k2.rcp)
			rm, err := RemoveStanzas(f, orig, []recipients.Key{s.Key})
			if err != nil {
				t.Fatal(err)
			}
			back, err := AddStanzas(mustParse(t, name, rm), rm, []NewStanza{AgeStanza(s.Group, k2.rcp, s.Enc)})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, orig) {
				t.Errorf("%s (key groups %v): not as sops wrote it:\n%s\n--- sops:\n%s", name, groups, back, orig)
			}
		}
	}
}

// TestDropAndAddInOneEdit drops and adds entries of the same list in a
// single change (what a rewrap that swaps recipients does), including
// replacing every entry of the list.
func TestDropAndAddInOneEdit(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			k1, k2, k3 := genAgeKey(t), genAgeKey(t), genAgeKey(t)
			orig := sopsEncrypt(t, name, plaintexts[name], "", k1.rcp, k2.rcp)
			plain, err := sopsDecrypt(t, name, orig, k1)
			if err != nil {
				t.Fatal(err)
			}
			f := mustParse(t, name, orig)
			key := dataKeyOf(t, f, k1)
			for _, drop := range [][]testAgeKey{{k1}, {k1, k2}} {
				c := change{
					drop: map[int]map[recipients.KeyType][]int{0: {}},
					add:  map[int]map[recipients.KeyType][][]Field{0: {recipients.TypeAge: {AgeStanza(0, k3.rcp, ageEnc(t, key, k3.rcp)).Fields}}},
				}
				want := [][]string{{ageK(k3).String()}}
				for _, k := range drop {
					c.drop[0][recipients.TypeAge] = append(c.drop[0][recipients.TypeAge], stanzaFor(f, k.rcp).Index)
				}
				if len(drop) == 1 {
					want[0] = append(want[0], ageK(k2).String())
				}
				out, err := runEdit(f, orig, func(e editor) ([]edit, error) { return e.apply(c) })
				if err != nil {
					t.Fatal(err)
				}
				if err := verify(f, out, want); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				sopsAgrees(t, name, out)
				mustDecrypt(t, name, out, plain, k3)
				mustNotDecrypt(t, name, out, k1)
				if !bytes.Equal(dataSection(t, name, out), dataSection(t, name, orig)) {
					t.Fatal("data section changed")
				}
			}
		})
	}
}
