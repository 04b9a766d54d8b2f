package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/testsops"
)

// sopsDecrypts runs the real sops on a file of fx with alice's identity and
// reports whether it decrypts.
func sopsDecrypts(t *testing.T, fx *ckRepo, rel string) (bool, string) {
	t.Helper()
	dir := filepath.Dir(fx.path(rel))
	out, err := testsops.Run(dir, []string{"SOPS_AGE_KEY=" + ckKey(t, "alice").String()}, "decrypt", filepath.Base(rel))
	if err != nil {
		return false, err.Error()
	}
	return true, string(out)
}

// fileFindingsOf returns the findings of Check on one file of fx.
func fileFindingsOf(t *testing.T, fx *ckRepo, rel string) []Finding {
	t.Helper()
	res, _ := fx.scan(true, rel)
	var out []Finding
	for _, f := range Check(res, ".sops.yaml") {
		if f.File == rel {
			out = append(out, f)
		}
	}
	return out
}

// TestCheckFailsWhatSopsCannotRead breaks files encrypted by the real sops
// in the ways issue 8 §6 lists, proves that sops itself then refuses to
// decrypt each, and that check reports each as one error of the right code
// (not drift, not "no findings"), without quoting the planted value.
func TestCheckFailsWhatSopsCannotRead(t *testing.T) {
	fx := newCkRepo(t)
	fx.write(".sops.yaml", "creation_rules:\n  - age: {{alice}}\n")
	alice := ckEnc{groups: [][]string{{"alice"}}}
	fx.encrypt("ok.ini", "[db]\npassword = hunter2\nuser = admin\n", alice)
	fx.encrypt("ok.env", "PASSWORD=hunter2\nUSER=admin\n", alice)
	fx.encrypt("ok.yaml", "db:\n  password: hunter2\n", alice)

	const secret = "SECRETVAL0123"
	cases := []struct {
		name, from string
		edit       func(string) string
		code       Code
		message    string
	}{
		{"noeq.ini", "ok.ini", func(s string) string {
			return strings.Replace(s, "[db]\n", "[db]\n"+secret+"\n", 1)
		}, CodeUnreadable, "INI line has no = or :"},
		{"version.ini", "ok.ini", func(s string) string {
			return replaceLine(s, "version", "version                    = garbage!")
		}, CodeMetadata, `version "garbage!" is not a sops version`},
		{"version.yaml", "ok.yaml", func(s string) string {
			return replaceLine(s, "    version:", "    version: three")
		}, CodeMetadata, `version "three" is not a sops version`},
		{"mac.yaml", "ok.yaml", func(s string) string {
			return replaceLine(s, "    mac:", "    mac: "+secret)
		}, CodeMetadata, "mac is not an ENC[AES256_GCM,…] value"},
		{"truncated.yaml", "ok.yaml", func(s string) string {
			i := strings.Index(s, "recipient:")
			return s[:i+len("recipient:")]
		}, CodeUnreadable, "it looks truncated"},
		{"crlf.env", "ok.env", func(s string) string {
			return strings.ReplaceAll(s, "\n", "\r\n")
		}, CodeUnreadable, "Windows (CRLF) line endings"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fx.write(c.name, c.edit(fx.read(c.from)))
			if ok, out := sopsDecrypts(t, fx, c.name); ok {
				t.Fatalf("sops decrypts %s; the case proves nothing:\n%s", c.name, out)
			}
			fs := fileFindingsOf(t, fx, c.name)
			if len(fs) != 1 {
				t.Fatalf("%d findings, want exactly one %s: %+v", len(fs), c.code, fs)
			}
			f := fs[0]
			if f.Code != c.code || f.Severity != SeverityError || !strings.Contains(f.Message, c.message) {
				t.Errorf("finding %s %s %q, want error %s with %q", f.Severity, f.Code, f.Message, c.code, c.message)
			}
			if strings.Contains(f.Message+f.Hint, secret) || strings.Contains(f.Message+f.Hint, "hunter2") {
				t.Errorf("the finding quotes a value: %q", f.Message)
			}
		})
	}
	// The originals decrypt and pass, and a CRLF INI or YAML file, which
	// sops reads, is no finding.
	fx.write("crlf.ini", strings.ReplaceAll(fx.read("ok.ini"), "\n", "\r\n"))
	fx.write("crlf.yaml", strings.ReplaceAll(fx.read("ok.yaml"), "\n", "\r\n"))
	for _, rel := range []string{"ok.ini", "ok.env", "ok.yaml", "crlf.ini", "crlf.yaml"} {
		if ok, out := sopsDecrypts(t, fx, rel); !ok {
			t.Fatalf("sops cannot decrypt %s: %s", rel, out)
		}
		if fs := fileFindingsOf(t, fx, rel); len(fs) != 0 {
			t.Errorf("%s: %+v, want no findings", rel, fs)
		}
	}
}

// replaceLine replaces the first line of s that starts with prefix.
func replaceLine(s, prefix, line string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			lines[i] = line
			break
		}
	}
	return strings.Join(lines, "\n")
}

const secretYAML = `apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: hunter2
  user_unencrypted: admin
`

const configMapYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  color: blue
`

// TestCheckUnencryptedSecret: a plaintext kind: Secret whose data its rule
// would encrypt is an error naming the keys, under a Flux-style rule by
// extension and under a catch-all rule (default selector), in every
// document of a multi-document file and in JSON; a ConfigMap, a README and
// a Secret whose keys the selector leaves alone are no finding.
func TestCheckUnencryptedSecret(t *testing.T) {
	fx := newCkRepo(t)
	fx.write(".sops.yaml", `creation_rules:
  - path_regex: ^narrow/
    encrypted_regex: ^token$
    age: {{alice}}
  - path_regex: \.yaml$
    encrypted_regex: ^(data|stringData)$
    age: {{alice}}
  - age: {{alice}}
`)
	fx.write("flux/db.yaml", secretYAML)
	fx.write("flux/all.yaml", configMapYAML+"---\n"+strings.Replace(secretYAML, "name: db", "name: api", 1))
	fx.write("flux/settings.yaml", configMapYAML)
	fx.write("narrow/db.yaml", secretYAML)
	fx.write("apps/db.json", `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "j"},
 "data": {"token": "aHVudGVyMg==", "other_unencrypted": "eA=="}}
`)
	fx.write("apps/db.yml", secretYAML)
	fx.write("README.md", "kind: Secret\nstringData: see the docs\n")
	fx.write("apps/settings.yml", configMapYAML)

	res, _ := fx.scan(true)
	got := map[string]string{}
	for _, f := range Check(res, ".sops.yaml") {
		if strings.Contains(f.Message+f.Hint, "hunter2") || strings.Contains(f.Message, "aHVudGVyMg") {
			t.Errorf("%s: the finding quotes a value: %q", f.File, f.Message)
		}
		got[f.File] += string(f.Code) + ": " + f.Message + "\n"
		if f.Code == CodeUnencryptedSecret && (f.Severity != SeverityError || f.Line == 0) {
			t.Errorf("%s: %s at line %d, want an error with a line", f.File, f.Severity, f.Line)
		}
	}
	want := map[string]string{
		"flux/db.yaml":  `unencrypted-secret: Kubernetes Secret "db" is not encrypted, but creation rule 2 would encrypt stringData.password, stringData.user_unencrypted` + "\n",
		"flux/all.yaml": `unencrypted-secret: Kubernetes Secret "api" (document 2) is not encrypted, but creation rule 2 would encrypt stringData.password, stringData.user_unencrypted` + "\n",
		"apps/db.json":  `unencrypted-secret: Kubernetes Secret "j" is not encrypted, but creation rule 3 would encrypt data.token` + "\n",
		"apps/db.yml":   `unencrypted-secret: Kubernetes Secret "db" is not encrypted, but creation rule 3 would encrypt stringData.password` + "\n",
		// No Secret key the rule encrypts: today's warning for a file its
		// specific rule selects.
		"narrow/db.yaml": `unencrypted: not encrypted, but creation rule 1 (path_regex "^narrow/") selects it` + "\n",
	}
	for file, w := range want {
		if got[file] != w {
			t.Errorf("%s:\n got  %q\n want %q", file, got[file], w)
		}
	}
	for file := range got {
		if _, ok := want[file]; !ok {
			t.Errorf("unexpected finding on %s: %s", file, got[file])
		}
	}
	if res, _ := fx.scan(false); len(Check(res, ".sops.yaml")) != 1 {
		// report's scan (no plaintext walk) keeps only the narrow warning
		t.Errorf("without Plaintext: %+v", Check(res, ".sops.yaml"))
	}
}

// TestCheckStrayTempAndOutsideLink: a temporary file of sopsfleet is a
// warning, and a link to a file outside the tree is skipped with a warning
// (its target is not read: it would be drift or no-rule otherwise).
func TestCheckStrayTempAndOutsideLink(t *testing.T) {
	fx := newCkRepo(t)
	fx.write(".sops.yaml", "creation_rules:\n  - path_regex: ^secrets/\n    age: {{alice}}\n")
	fx.encrypt("secrets/db.yaml", "password: hunter2\n", ckEnc{groups: [][]string{{"alice"}}})
	fx.write("secrets/.db.yaml.sopsfleet-12345", fx.read("secrets/db.yaml"))
	outside := t.TempDir()
	other := newCkRepo(t)
	other.encrypt("x.yaml", "password: hunter2\n", ckEnc{groups: [][]string{{"bob"}}})
	if err := os.Rename(other.path("x.yaml"), filepath.Join(outside, "x.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "x.yaml"), fx.path("secrets/evil.yaml")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := os.Symlink("db.yaml", fx.path("secrets/alias.yaml")); err != nil {
		t.Fatal(err)
	}
	res, _ := fx.scan(true)
	fs := Check(res, ".sops.yaml")
	var codes []string
	for _, f := range fs {
		codes = append(codes, f.File+" "+string(f.Code)+" "+f.Severity.String())
	}
	want := []string{
		"secrets/evil.yaml outside-link warning",
		"secrets/.db.yaml.sopsfleet-12345 stray-temp warning",
	}
	if strings.Join(codes, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(codes, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range res.Files {
		if r.Path == "secrets/evil.yaml" {
			t.Errorf("the link out of the tree was read: %+v", r)
		}
	}
	// Named on the command line, it is skipped all the same.
	res, _ = fx.scan(true, "secrets/evil.yaml")
	if len(res.Files) != 0 || len(res.SkippedLinks) != 1 {
		t.Errorf("named link: files %+v, skipped %+v", res.Files, res.SkippedLinks)
	}
}
