package sopsfile

import (
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/testsops"
)

// flatCases are dotenv and INI texts for the shapes the flat readers must
// agree on: errors of every kind, lists with gaps, huge and negative
// indices, keys used as a value and as a map, quoted and multi-line
// values, CRLF, and nodes with many children met in any order.
func flatCases() map[string]string {
	c := map[string]string{}
	for _, s := range fuzzSeeds {
		if f := FormatFor(s.name); f == FormatDotenv || f == FormatINI {
			c[s.name] = s.data
		}
	}
	stanzas := func(prefix string, n int, shuffle bool) []string {
		var ls []string
		for i := range n {
			ls = append(ls, fmt.Sprintf("%sage__list_%d__map_enc=e%d\\nx", prefix, i, i), fmt.Sprintf("%sage__list_%d__map_recipient=r%d", prefix, i, i))
		}
		if shuffle {
			r := rand.New(rand.NewSource(int64(n)))
			r.Shuffle(len(ls), func(i, j int) { ls[i], ls[j] = ls[j], ls[i] })
		}
		return ls
	}
	env := func(ls ...string) string {
		return "A=1\n" + strings.Join(ls, "\n") + "\nsops_version=3.9.0\nsops_mac=ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops_lastmodified=2024-01-01T00:00:00Z\n"
	}
	ini := func(ls ...string) string {
		return "[app]\nk = v\n\n[sops]\n" + strings.Join(ls, "\n") + "\nversion = 3.9.0\nmac = ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nlastmodified = 2024-01-01T00:00:00Z\n"
	}
	for _, n := range []int{1, 16, 17, 40} {
		for _, sh := range []bool{false, true} {
			c[fmt.Sprintf("many%d-%v.env", n, sh)] = env(stanzas("sops_", n, sh)...)
			c[fmt.Sprintf("many%d-%v.ini", n, sh)] = ini(stanzas("", n, sh)...)
		}
	}
	for name, ls := range map[string][]string{
		"gap":        {"age__list_0__map_recipient=r", "age__list_0__map_enc=e", "age__list_2__map_recipient=s", "age__list_2__map_enc=e"},
		"huge":       {"age__list_99999999999999999999__map_recipient=r", "age__list_0__map_enc=e"},
		"negative":   {"age__list_-1__map_recipient=r", "age__list_-1__map_enc=e"},
		"notnum":     {"age__list_x__map_recipient=r", "age__list_x__map_enc=e"},
		"both":       {"age=1", "age__list_0__map_enc=e"},
		"mapandlist": {"age__map_x=1", "age__list_0__map_enc=e"},
		"deepboth":   {"key_groups__list_0__map_age__list_0__map_enc=e", "key_groups__list_0__map_age__list_0__map_enc__map_x=1"},
		"dup":        {"age__list_0__map_recipient=r", "age__list_0__map_recipient=s"},
		"triple":     {"age___map_x=1", "a__b=2", "x____list_0=4", "y__map___list_0=5"},
		"emptyfirst": {"__map_=3"},
		"emptylist":  {"__list_0__map_recipient=r"},
		"groups":     {"key_groups__list_0__map_age__list_0__map_recipient=r", "key_groups__list_0__map_age__list_0__map_enc=e", "key_groups__list_1__map_pgp__list_0__map_fp=F", "key_groups__list_1__map_pgp__list_0__map_enc=e", "key_groups__list_1__map_pgp__list_0__map_created_at=2024-01-01T00:00:00Z", "shamir_threshold=2"},
		"empty":      {"=x", "age__list_0__map_=y"},
	} {
		var e []string
		for _, l := range ls {
			e = append(e, "sops_"+l)
		}
		c[name+".env"] = env(e...)
		c[name+".ini"] = ini(ls...)
	}
	c["crlf.env"] = strings.ReplaceAll(env(stanzas("sops_", 2, false)...), "\n", "\r\n")
	c["crlf.ini"] = strings.ReplaceAll(ini(stanzas("", 2, false)...), "\n", "\r\n")
	c["bad.env"] = "A\n" + env(stanzas("sops_", 1, false)...) + "B\n"
	c["comment.env"] = "# sops_x=1\n" + env(stanzas("sops_", 1, false)...)
	c["emptysops.ini"] = "[app]\nk = v\n[sops]\n"
	c["twosops.ini"] = ini(stanzas("", 1, false)...) + "[ sops ]\nx = 1\n"
	c["noeq.ini"] = "[app]\nsecret\n" + ini(stanzas("", 1, false)...)
	c["noeqsops.ini"] = ini(append(stanzas("", 1, false), "oops")...)
	c["unclosed.ini"] = "[app\nk = v\n" + ini()
	c["quoted.ini"] = ini(append(stanzas("", 1, false), "`age__list_0__map_x` = `a;b#c`", `"""q""" : """v"""`, `"k"="v # c"`, "c = 'x' ; c", "u = `", `d = "x`)...)
	c["multi.ini"] = ini(append(stanzas("", 1, false), "m = `line1", "line2 ; not a comment", "end` tail", `n = """a`, `b"""`)...)
	c["multiunclosed.ini"] = ini(append(stanzas("", 1, false), "m = `never closed")...)
	c["multiother.ini"] = "[app]\nm = `a\nb`\n" + ini(stanzas("", 1, false)...)
	c["space.ini"] = "[app]\n\u00a0k\u00a0=\u00a0v\u00a0\n[\u2003sops\u2003]\n\u00a0age__list_0__map_recipient\u00a0=\u00a0r\u00a0\nage__list_0__map_enc = e\n"
	c["cut.ini"] = strings.TrimSuffix(ini(stanzas("", 2, false)...), "\n")
	c["semi.ini"] = "; sops\n" + ini(stanzas("", 1, false)...)
	return c
}

// checkFlatSame compares Parse with the reference readers on one file.
func checkFlatSame(t *testing.T, name string, data []byte) {
	t.Helper()
	got, err := Parse(name, data)
	want, werr := refParse(name, data)
	if fmt.Sprint(err) != fmt.Sprint(werr) {
		t.Errorf("%s: error %v, reference %v", name, err, werr)
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: parsed metadata differs from the reference:\n%+v\nwant\n%+v", name, got, want)
	}
	// The section and entry spans the editor works with.
	if FormatFor(name) == FormatINI {
		a, aerr := iniSops(data)
		b, berr := refIniSops(data)
		if fmt.Sprint(aerr) != fmt.Sprint(berr) {
			t.Errorf("%s: iniSops error %v, reference %v", name, aerr, berr)
		}
		if len(a) != len(b) {
			t.Errorf("%s: %d sections, reference %d", name, len(a), len(b))
			return
		}
		for i := range a {
			x, y := a[i], b[i]
			if x.line != y.line || x.start != y.start || x.end != y.end || x.lastKey != y.lastKey || !reflect.DeepEqual(x.entries, y.entries) {
				t.Errorf("%s: section %d differs:\n%+v\nwant\n%+v", name, i, x, y)
			}
		}
	} else {
		a, abad := dotenvEntries(data)
		b, bbad := refDotenvEntries(data)
		if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(abad, bbad) {
			t.Errorf("%s: dotenv entries differ:\n%+v %v\nwant\n%+v %v", name, a, abad, b, bbad)
		}
	}
}

// TestFlatMatchesReference: the dotenv and INI readers give what the
// readers they replaced gave (parse_flat_ref_test.go), metadata and
// errors alike, on hand-made shapes and on every corpus file read both as
// dotenv and as INI.
func TestFlatMatchesReference(t *testing.T) {
	for name, data := range flatCases() {
		checkFlatSame(t, name, []byte(data))
	}
	for _, p := range corpusFilesOptional(t) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		checkFlatSame(t, p+".env", data)
		checkFlatSame(t, p+".ini", data)
	}
}

// FuzzFlatReference compares the flat readers with the reference.
func FuzzFlatReference(f *testing.F) {
	for name, data := range flatCases() {
		f.Add(strings.HasSuffix(name, ".ini"), []byte(data))
	}
	f.Fuzz(func(t *testing.T, ini bool, data []byte) {
		name := "f.env"
		if ini {
			name = "f.ini"
		}
		checkFlatSame(t, name, data)
	})
}

// corpusFilesOptional lists the real-world corpus of encrypted files, or
// nothing when it is absent (the hand-made cases still run).
func corpusFilesOptional(t *testing.T) []string {
	t.Helper()
	dir, ok := testsops.CorpusDir("encrypted")
	if !ok {
		t.Log("no corpus: hand-made cases only")
		return nil
	}
	paths, err := Walk([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// FuzzUnescapeJSON compares the JSON string decoder with the reference.
func FuzzUnescapeJSON(f *testing.F) {
	for _, s := range []string{``, `a`, `\n`, `a\nb\\c\"d\/e\tf\rg\bh\fi`, `\u00e9\ud83d\ude00x`, `\ud83d`, `\ud83dx\u0041`, `\x`, `\`, `\u12`, "\x01", "caf\xc3\xa9", "\xff\\n", `-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := unescapeJSON(b)
		want, wok := refUnescapeJSON(b)
		if got != want || ok != wok {
			t.Fatalf("unescapeJSON(%q) = %q, %v; reference %q, %v", b, got, ok, want, wok)
		}
	})
}

// FuzzJSONString compares the JSON string scanner with the byte loop it
// replaced: value, error and position after it.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{`"a"`, `""`, `"a\"b"`, `"a\\"`, `"a\\\"b"`, "\"a\nb\"", "\"a\\\nb\"", `"abc`, `"abc\`, `"\u00e9"`, `"x\n"` + "\n", `"-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n", "r": 1`, `x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &jsonParser{data: data, line: 1, a: &marena{}}
		got, err := p.str()
		want, werr, wpos := refStr(data, 0)
		if got != want || fmt.Sprint(err) != fmt.Sprint(werr) || p.pos != wpos {
			t.Fatalf("str(%q) = %q, %v, pos %d; reference %q, %v, pos %d", data, got, err, p.pos, want, werr, wpos)
		}
		if err != nil && werr != nil && err.(*jsonSyntaxError).off != werr.(*jsonSyntaxError).off {
			t.Fatalf("str(%q): error at %d, reference at %d", data, err.(*jsonSyntaxError).off, werr.(*jsonSyntaxError).off)
		}
	})
}

// TestPrintableLines compares the word-at-a-time test with the byte loop
// for every byte value at every place of a word, and on random text.
func TestPrintableLines(t *testing.T) {
	base := []byte("sops:\n    age:\n        - recipient: age1qqq\n")
	for c := range 256 {
		for at := range 17 {
			b := append([]byte(nil), base...)
			b[at] = byte(c)
			for _, n := range []int{len(b), 8, 9, 16, 17} {
				if got, want := printableLines(b[:n]), refPrintableLines(b[:n]); got != want {
					t.Fatalf("byte %#x at %d, %d bytes: %v, want %v", c, at, n, got, want)
				}
			}
		}
	}
	r := rand.New(rand.NewSource(2))
	for range 20000 {
		b := make([]byte, r.Intn(40))
		for i := range b {
			b[i] = byte(0x1e + r.Intn(0x63))
		}
		if got, want := printableLines(b), refPrintableLines(b); got != want {
			t.Fatalf("%q: %v, want %v", b, got, want)
		}
	}
}

// FuzzPrintableLines compares printableLines with the byte loop.
func FuzzPrintableLines(f *testing.F) {
	f.Add([]byte("sops:\n    mac: x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := printableLines(b), refPrintableLines(b); got != want {
			t.Fatalf("%q: %v, want %v", b, got, want)
		}
	})
}
