package sopsfile

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestFormatFor(t *testing.T) {
	for path, want := range map[string]Format{
		"a.yaml": FormatYAML, "dir/b.yml": FormatYAML, "c.json": FormatJSON, ".env": FormatDotenv,
		"prod.env": FormatDotenv, "x.ini": FormatINI, "key.pem": FormatBinary, "noext": FormatBinary,
		"a.YAML": FormatBinary, "a.yaml.bak": FormatBinary, "a.toml": FormatBinary,
	} {
		if got := FormatFor(path); got != want {
			t.Errorf("FormatFor(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestParseNotEncrypted(t *testing.T) {
	for name, data := range map[string]string{
		"a.yaml":  "a: 1\nsops_like: no\n",
		"b.yaml":  "creation_rules:\n  - age: age1xyz\n# sops:\n",
		"c.json":  `{"a": {"sops": 1}}`,
		"d.env":   "A=1\n# sops_version=3\n",
		"e.ini":   "[app]\nsops = 1\n",
		"f.pem":   "-----BEGIN PRIVATE KEY-----\nsops\n",
		"g.json":  `[1, 2]`,
		"h.yaml":  "",
		"i.bin":   "",
		"j2.yaml": "a: 1\n---\nsops:\n  version: 3\n", // only the first document counts
	} {
		if _, err := Parse(name, []byte(data)); !errors.Is(err, ErrNotEncrypted) {
			t.Errorf("%s: err = %v, want ErrNotEncrypted", name, err)
		}
	}
}

// TestParseLines checks line numbers against the text of files written by
// the real sops.
func TestParseLines(t *testing.T) {
	k1, k2 := genAgeKey(t), genAgeKey(t)
	for _, name := range fixtureNames {
		data := sopsEncrypt(t, name, plaintexts[name], "", k1.rcp, k2.rcp)
		f := mustParse(t, name, data)
		lines := strings.Split(string(data), "\n")
		text := func(n int) string {
			if n < 1 || n > len(lines) {
				return ""
			}
			return lines[n-1]
		}
		if !strings.Contains(text(f.VersionLine), "version") || !strings.Contains(text(f.VersionLine), f.Version) {
			t.Errorf("%s: version line %d: %q", name, f.VersionLine, text(f.VersionLine))
		}
		if !strings.Contains(text(f.MACLine), "mac") || !strings.Contains(text(f.LastModifiedLine), "lastmodified") {
			t.Errorf("%s: mac/lastmodified lines %d %d", name, f.MACLine, f.LastModifiedLine)
		}
		if !strings.Contains(text(f.MetadataLine), "sops") {
			t.Errorf("%s: metadata line %d: %q", name, f.MetadataLine, text(f.MetadataLine))
		}
		for i, s := range f.Groups[0] {
			first := text(s.Line)
			if !strings.Contains(first, "enc") && !strings.Contains(first, "recipient") {
				t.Errorf("%s: entry %d line %d: %q", name, i, s.Line, first)
			}
			// The recipient is within the entry's lines.
			found := false
			for l := s.Line; l <= s.EndLine; l++ {
				found = found || strings.Contains(text(l), s.Key.ID)
			}
			if !found {
				t.Errorf("%s: %s not within lines %d-%d", name, s.Key.ID, s.Line, s.EndLine)
			}
			if s.Index != i || s.Problem != "" || !strings.Contains(s.Enc, "BEGIN AGE ENCRYPTED FILE") {
				t.Errorf("%s: entry %d: %+v", name, i, s)
			}
		}
		if f.Version == "" || f.MAC == "" || f.LastModified == "" || (f.UnencryptedSuffix != "_unencrypted") != (f.Format == FormatBinary) {
			t.Errorf("%s: fields %+v", name, f)
		}
	}
}

func TestParseProblems(t *testing.T) {
	data := `a: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]
sops:
    age:
        - recipient: age1abc
          enc: ""
        - enc: something
    pgp:
        - fp: ABC
          created_at: yesterday
          enc: x
    lastmodified: "2026-01-02T03:04:05Z"
    mac: ENC[x]
    version: 3.13.3
`
	f, err := Parse("p.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{4: "age entry has no enc", 6: "age entry has no recipient", 8: "created_at"}
	n := 0
	for _, s := range f.Groups[0] {
		if w, ok := want[s.Line]; !ok || !strings.Contains(s.Problem, w) {
			t.Errorf("line %d: problem %q, want %q", s.Line, s.Problem, want[s.Line])
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d entries", n)
	}
	f, err = Parse("q.json", []byte("{\"sops\": {\"version\": \"3.13.3\", \"mac\": \"x\"}}\n"))
	if err != nil || len(f.Problems) == 0 || !strings.Contains(f.Problems[len(f.Problems)-1].Message, "no keys") {
		t.Errorf("no-keys file: %v %+v", err, f)
	}
	if _, err := Parse("r.json", []byte("{\n\"sops\": {\n\"age\": [\n}")); err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("broken JSON: %v", err)
	}
}

func TestDiscover(t *testing.T) {
	k := genAgeKey(t)
	dir := t.TempDir()
	write := func(rel string, data []byte) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for _, name := range fixtureNames {
		write("sub/"+name, sopsEncrypt(t, name, plaintexts[name], "", k.rcp))
		want = append(want, filepath.Join(dir, "sub", name))
	}
	write(".git/objects/x.yaml", sopsEncrypt(t, "x.yaml", "a: 1\n", "", k.rcp))
	write("plain.yaml", []byte("a: sops\n"))
	write(".sops.yaml", []byte("creation_rules:\n  - age: "+k.rcp+"\n"))
	write("broken.json", []byte(`{"a": "ENC[AES256_GCM,data:x]", "sops": {`))
	want = append(want, filepath.Join(dir, "broken.json"))
	// A link to a listed file is dropped; a link to a file elsewhere is kept.
	if err := os.Symlink(filepath.Join(dir, "sub", "secrets.env"), filepath.Join(dir, "link.env")); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "outside.env")
	if err := os.WriteFile(outside, sopsEncrypt(t, "o.env", "A=1\n", "", k.rcp), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "outside.env")); err != nil {
		t.Fatal(err)
	}
	want = append(want, filepath.Join(dir, "outside.env"))
	// What a process killed in the middle of an atomic write leaves behind:
	// a whole sops file under a temporary name. It is not a file of its own.
	write("sub/.secrets.yaml.sopsfleet-2871", sopsEncrypt(t, "x.yaml", "a: 1\n", "", k.rcp))

	files, ignored, err := Discover([]string{dir, filepath.Join(dir, "sub", "secrets.json")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range files {
		got[f] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("not found: %s", w)
		}
	}
	if len(files) != len(want) {
		t.Errorf("found %v, want %v", files, want)
	}
	if len(ignored) != 2 {
		t.Errorf("ignored %v, want plain.yaml and .sops.yaml", ignored)
	}
	found, _, err := DiscoverParsed([]string{dir}, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		if strings.HasSuffix(f.Path, "broken.json") != (f.Err != nil) || (f.Err == nil && (f.File == nil || len(f.Data) == 0)) {
			t.Errorf("%s: %+v", f.Path, f.Err)
		}
	}
	if _, _, err := Discover([]string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("a missing root is not an error")
	}
	// The streaming walk sees each file once, with its index in the walk.
	var mu sync.Mutex
	n, calls, sops := -1, map[int]string{}, 0
	err = WalkParsed([]string{dir}, 3, func(total int) { n = total }, func(i int, f Found, isSops bool) {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := calls[i]; dup {
			t.Errorf("index %d twice", i)
		}
		calls[i] = f.Path
		if isSops {
			sops++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(calls) || sops != len(found) || n != len(found)+len(ignored) {
		t.Errorf("WalkParsed: %d files announced, %d seen, %d sops; Discover found %d and ignored %d", n, len(calls), sops, len(found), len(ignored))
	}
}

func TestUnescapeJSON(t *testing.T) {
	for _, s := range []string{`a\nb`, `\"q\" \\ \/ \t\r\b\f`, `\u00e9\u4e2d`, `\ud83d\ude00 smile`, `\ud83d alone`, `\u0041`, "caf\xc3\xa9", `bad \x`, `\u12`, "ctl\x01"} {
		var want string
		werr := json.Unmarshal([]byte(`"`+s+`"`), &want)
		got, ok := unescapeJSON([]byte(s))
		if (werr == nil) != ok || got != want {
			t.Errorf("unescapeJSON(%q) = %q, %v; encoding/json: %q, %v", s, got, ok, want, werr)
		}
	}
}

// A syntax error in a JSON file never quotes the offending text: an
// unquoted plaintext value would end up in the message.
func TestParseJSONErrorNeverQuotesData(t *testing.T) {
	data := []byte("{\n  \"password\": hunter2secret,\n  \"sops\": {}\n}\n")
	_, err := Parse("x.json", data)
	if err == nil {
		t.Fatal("invalid JSON accepted")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error quotes the value: %v", err)
	}
	if !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("error does not name the line: %v", err)
	}
}
