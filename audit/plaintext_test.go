package audit

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
)

var encAnywhere = regexp.MustCompile(`ENC\[AES256_GCM,data:[^\]]*\]`)

// stripEncryption replaces every value sops encrypted in the data section
// (not the metadata) with plaintext, and returns the lines it changed.
func stripEncryption(format sopsfile.Format, text string) (string, []int) {
	lines := strings.Split(text, "\n")
	var changed []int
	inSops := false
	for i, l := range lines {
		switch format {
		case sopsfile.FormatYAML:
			if l == "sops:" {
				inSops = true
				continue
			}
			if inSops && l != "" && l[0] != ' ' {
				inSops = false
			}
		case sopsfile.FormatJSON:
			if strings.Contains(l, `"sops": {`) {
				inSops = true
			}
		case sopsfile.FormatDotenv:
			inSops = strings.HasPrefix(l, "sops_")
		}
		if inSops || !encAnywhere.MatchString(l) {
			continue
		}
		for range encAnywhere.FindAllString(l, -1) {
			changed = append(changed, i+1)
		}
		lines[i] = encAnywhere.ReplaceAllString(l, "plain")
	}
	return strings.Join(lines, "\n"), changed
}

// TestPlaintextAgreesWithSops: right after sops encrypts a file nothing is
// flagged (no false positives), and when every value sops encrypted is
// replaced by plaintext, exactly those are flagged (no false negatives) —
// for every encryption setting sops has.
func TestPlaintextAgreesWithSops(t *testing.T) {
	fx := cleanRepo(t)
	for _, name := range []string{"app.yaml", "regex.yaml", "unregex.yaml", "suffix.yaml", "encsuffix.yaml",
		"comments.yaml", "uncomments.yaml", "multi.yaml", "app.json", "regex.json", "app.env"} {
		t.Run(name, func(t *testing.T) {
			data := fx.read(name)
			f, err := sopsfile.Parse(name, []byte(data))
			if err != nil {
				t.Fatal(err)
			}
			got, err := FindPlaintext(f, []byte(data))
			if err != nil || len(got) > 0 {
				t.Fatalf("freshly encrypted file: %v %v", got, err)
			}
			stripped, changed := stripEncryption(f.Format, data)
			if len(changed) == 0 {
				t.Fatal("nothing encrypted in the fixture")
			}
			got, err = FindPlaintext(f, []byte(stripped))
			if err != nil {
				t.Fatal(err)
			}
			var lines []int
			for _, p := range got {
				lines = append(lines, p.Line)
			}
			sort.Ints(lines)
			if fmt.Sprint(lines) != fmt.Sprint(changed) {
				t.Errorf("flagged lines %v, want the lines sops had encrypted %v\n%s", lines, changed, stripped)
			}
		})
	}
}

// TestPlaintextSettings covers sops' precedence rules on hand-written data.
func TestPlaintextSettings(t *testing.T) {
	for _, c := range []struct {
		name   string
		f      sopsfile.File
		data   string
		expect []string // "path@line" or "#path@line" for comments
	}{
		{"default encrypts all, keeps suffix", sopsfile.File{Format: sopsfile.FormatYAML, UnencryptedSuffix: "_unencrypted"},
			"a: x\nb_unencrypted: y\nc:\n    d_unencrypted:\n        e: z\n    f:\n        - 1\n        - ENC[AES256_GCM,data:a,iv:b,tag:c,type:int]\ng: null\nh: \"\"\nsops:\n    mac: x\n",
			[]string{"a@1", "c.f@7"}},
		{"encrypted_regex on any path element", sopsfile.File{Format: sopsfile.FormatYAML, EncryptedRegex: "^data$"},
			"kind: Secret\ndata:\n    password: x\n    nested:\n        k: true\nmeta:\n    data: y\n",
			[]string{"data.password@3", "data.nested.k@5", "meta.data@7"}},
		{"unencrypted_regex wins over default", sopsfile.File{Format: sopsfile.FormatJSON, UnencryptedRegex: "^pub"},
			"{\n  \"public\": {\"a\": 1},\n  \"secret\": [\"x\", {\"k\": false}],\n  \"sops\": {\"mac\": \"x\"}\n}\n",
			[]string{"secret@3", "secret.k@3"}},
		{"encrypted_suffix", sopsfile.File{Format: sopsfile.FormatDotenv, EncryptedSuffix: "_SECRET"},
			"A=1\nB_SECRET=2\n#note\nsops_version=3\n",
			[]string{"B_SECRET@2"}},
		{"comments encrypted by default", sopsfile.File{Format: sopsfile.FormatYAML},
			"# head\na: ENC[AES256_GCM,data:a,iv:b,tag:c,type:str] # line\n#ENC[AES256_GCM,data:a,iv:b,tag:c,type:comment]\nb:\n    # inner\n    c: ENC[AES256_GCM,data:a,iv:b,tag:c,type:str]\n",
			[]string{"#@1", "#@2", "#b@5"}},
		{"encrypted_comment_regex marks the next value", sopsfile.File{Format: sopsfile.FormatYAML, EncryptedCommentRegex: "sops:enc"},
			"# sops:enc\na: x\nb: y\n# other\nc: z\n",
			[]string{"a@2"}},
		{"unencrypted_comment_regex exempts the next value", sopsfile.File{Format: sopsfile.FormatYAML, UnencryptedCommentRegex: "keep"},
			"# keep\na: x\nb: y\n",
			[]string{"b@3"}},
		{"metadata of every document is skipped", sopsfile.File{Format: sopsfile.FormatYAML},
			"a: ENC[AES256_GCM,data:a,iv:b,tag:c,type:str]\nsops:\n    mac: m\n---\nb: plain\nsops:\n    mac: m\n",
			[]string{"b@5"}},
		{"binary and ini are not walked", sopsfile.File{Format: sopsfile.FormatINI}, "[a]\nb = c\n", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := c.f
			got, err := FindPlaintext(&f, []byte(c.data))
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, p := range got {
				mark := ""
				if p.Comment {
					mark = "#"
				}
				s = append(s, fmt.Sprintf("%s%s@%d", mark, strings.Join(p.Path, "."), p.Line))
			}
			if fmt.Sprint(s) != fmt.Sprint(c.expect) {
				t.Errorf("got %v, want %v", s, c.expect)
			}
		})
	}
}

// TestIsEncryptedMatchesSopsRegexp: the fast test agrees with the regexp
// sops uses (aes/cipher.go) on valid, truncated and odd values.
func TestIsEncryptedMatchesSopsRegexp(t *testing.T) {
	re := regexp.MustCompile(`^ENC\[AES256_GCM,data:(.*),iv:(.*),tag:(.*),type:(.*)\]`)
	for _, s := range []string{
		"ENC[AES256_GCM,data:abc=,iv:def=,tag:ghi==,type:str]",
		"ENC[AES256_GCM,data:,iv:,tag:,type:]",
		"ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str",
		"ENC[AES256_GCM,data:abc,tag:ghi,iv:def,type:str]",
		"ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str] trailing",
		"ENC[AES256_GCM,data:abc,iv:d\nef,tag:ghi,type:str]",
		"ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]\nmore",
		"enc[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]",
		" ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]",
		"ENC[AES256_GCM,data:a]b,iv:c,tag:d,type:e]",
		"plain", "", "ENC[",
	} {
		if got, want := isEncrypted(s), re.MatchString(s); got != want {
			t.Errorf("isEncrypted(%q) = %v, sops' regexp says %v", s, got, want)
		}
	}
}

// TestSimpleEncryptedLine: the fast path accepts only lines whose values
// and comments are all encrypted, empty or null.
func TestSimpleEncryptedLine(t *testing.T) {
	enc := "ENC[AES256_GCM,data:YQ==,iv:aXY=,tag:dGFn,type:str]"
	cmt := "#ENC[AES256_GCM,data:YQ==,iv:aXY=,tag:dGFn,type:comment]"
	for _, c := range []struct {
		line string
		ok   bool
	}{
		{"key: " + enc, true}, {"    nested_key-1.x/y: " + enc, true}, {"- " + enc, true},
		{"    - key: " + enc, true}, {"- - " + enc, true}, {"key:", true}, {"- key:", true},
		{"-", true}, {"", true}, {"---", true}, {"sops:", true}, {cmt, true}, {"    " + cmt, true},
		{"key: " + enc + " " + cmt, true}, {"key: null", true}, {`key: ""`, true}, {"key: []", true},
		{"key: plain", false}, {"- plain", false}, {"key: 1", false}, {"key: true", false},
		{"# plain comment", false}, {"key: " + enc + " # plain", false}, {"key: |", false},
		{"key: >-", false}, {"key: [" + enc + "]", false}, {`"quoted key": ` + enc, false},
		{"key: &a " + enc, false}, {"key: *a", false}, {"key: !!str " + enc, false},
		{"continuation", false}, {"\tkey: " + enc, false}, {"key: " + enc + "x", false},
		{"key: " + enc[:len(enc)-1], false}, {"? complex", false}, {"key: '" + enc + "'", false},
		{"key: ENC[AES256_GCM,data:a b,iv:c,tag:d,type:str]", false},
	} {
		if got := simpleEncryptedLine(c.line); got != c.ok {
			t.Errorf("simpleEncryptedLine(%q) = %v, want %v", c.line, got, c.ok)
		}
	}
}

// TestAllEncryptedJSON: the JSON fast path accepts only files whose values
// are all encrypted, empty or null (the sops object aside).
func TestAllEncryptedJSON(t *testing.T) {
	enc := `"ENC[AES256_GCM,data:YQ==,iv:aXY=,tag:dGFn,type:str]"`
	meta := `"sops": {"age": [{"recipient": "age1x", "enc": "-----BEGIN\n"}], "version": "3.13.3", "n": 1}`
	for _, c := range []struct {
		doc string
		ok  bool
	}{
		{`{"a": ` + enc + `, "b": {"c": [` + enc + `, null, ""]}, ` + meta + `}`, true},
		{`{` + meta + `, "a": ` + enc + `}`, true},
		{`{"a": "plain", ` + meta + `}`, false},
		{`{"a": 1, ` + meta + `}`, false},
		{`{"a": true, ` + meta + `}`, false},
		{`{"a": [` + enc + `, "x"], ` + meta + `}`, false},
		{`{"b": {"sops": "plain"}, ` + meta + `}`, false},
		{`{"a": "ENC[AES256_GCM,data:\"x,iv:a,tag:b,type:str]", ` + meta + `}`, false},
		{`{"a": ` + enc, false},
	} {
		if got := allEncryptedJSON([]byte(c.doc)); got != c.ok {
			t.Errorf("allEncryptedJSON(%s) = %v, want %v", c.doc, got, c.ok)
		}
	}
}
