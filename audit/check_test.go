package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/internal/testsops"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// findingsConfig triggers every config finding that does not stop sops
// from choosing rules (bad-regex and no-creation-rules have their own).
const findingsConfig = `# every finding, once
keys:
  - &alice {{alice}}
  - &bob {{bob}}
  - &carol {{carol}}
  - &dave {{dave}}
  - &everyone [*alice, *bob]
extra_setting: true
creation_rules:
  - path_regex: ^secrets/drift\.yaml$
    key_groups:
      - age:
          - *alice
          - *bob
  - path_regex: ^secrets/shamir\.yaml$
    shamir_threshold: 3
    key_groups:
      - age: [*alice]
      - age: [*bob]
      - age: [*carol]
  - path_regex: ^secrets/
    key_groups:
      - age:
          - *alice
          - *alice
  - path_regex: ^secrets/
    age: *bob
  - path_regex: ^hosts/
    age: {{ssh:web1}}
  - path_regex: ^legacy/
    key_groups:
      - age: [*alice]
      - age: [*bob]
  - path_regex: ^nix/
    age: *alice
    key_groups:
      - age: [*bob]
  - path_regex: ^empty/
    key_groups:
      - age: []
  - path_regex: ^bad/
    age: age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq
  - path_regex: ^docs/
    encrypted-regex: ^password$
    age: *carol
  - path_regex: ^mixed/
    encrypted_regex: ^a$
    unencrypted_suffix: _plain
    age: *carol
`

const appYAML = `# application settings
db:
    host: db.internal
    port: 5432
    password: s3cret
    replicas:
        - name: r1
          weight: 0.5
        - name: r2
    tls: true
    empty: ""
    none: null
api_token: tok # inline comment
list:
    - a
    - 2
`

// findingsRepo builds the repository where each file finding appears once.
func findingsRepo(t *testing.T) *ckRepo {
	fx := newCkRepo(t)
	fx.write(".sops.yaml", findingsConfig)
	alice := ckEnc{groups: [][]string{{"alice"}}}
	fx.encrypt("secrets/ok.yaml", appYAML, alice)
	fx.encrypt("secrets/drift.yaml", appYAML, ckEnc{groups: [][]string{{"alice", "carol"}}})
	fx.encrypt("secrets/shamir.yaml", appYAML, ckEnc{groups: [][]string{{"alice"}, {"bob"}, {"carol"}}, threshold: 2})
	fx.encrypt("secrets/plain.yaml", appYAML, alice)
	fx.edit("secrets/plain.yaml", func(s string) string {
		return strings.Replace(s, "\nsops:\n", "\n# added after encryption\napi_key: added-later\nsops:\n", 1)
	})
	fx.encrypt("secrets/nomac.yaml", "a: 1\n", alice)
	fx.edit("secrets/nomac.yaml", func(s string) string {
		return regexp.MustCompile(`(?m)^    mac: .*\n`).ReplaceAllString(s, "")
	})
	fx.encrypt("secrets/badenc.json", `{"a": "b"}`, alice)
	fx.edit("secrets/badenc.json", func(s string) string {
		return regexp.MustCompile(`"enc": "[^"]*"`).ReplaceAllString(s, `"enc": ""`)
	})
	fx.write("secrets/garbled.yaml", "a: ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]\nsops: [unclosed\n")
	fx.write("secrets/todo.yaml", "password: not-yet-encrypted\n")
	fx.encrypt("stray/app.env", "A=1\n", alice)
	fx.write(".sops.yml", "creation_rules: []\n")
	fx.write("README.md", "# ckRepo\n")
	return fx
}

func TestCheckFindings(t *testing.T) {
	fx := findingsRepo(t)
	res, _ := fx.scan(true)
	fs := Check(res, ".sops.yaml")
	SortFindings(fs, ".sops.yaml")
	var buf bytes.Buffer
	if err := WriteText(&buf, fs, nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("findings:\n%s", buf.String())

	want := map[Code]int{
		CodeUnknownTopLevel: 1, CodeUnusedAnchor: 1, CodeDuplicate: 1, CodeUnreachableRule: 1,
		CodeSSHRecipient: 1, CodeNoThreshold: 1, CodeIgnoredFlatFields: 1, CodeEmptyGroup: 1,
		CodeBadRecipient: 1, CodeUnknownKey: 1, CodeBadSettings: 1, CodeSopsYml: 1,
		CodeDrift: 1, CodeThreshold: 1, CodePlaintext: 1, CodePlaintextComment: 1,
		CodeMetadata: 2, CodeUnreadable: 1, CodeUnencrypted: 1, CodeNoRule: 1,
	}
	got := map[Code]int{}
	where := map[Code]string{}
	for _, f := range fs {
		got[f.Code]++
		where[f.Code] = f.File
		if f.Message == "" || f.Hint == "" || strings.Contains(f.Message, "\n") || strings.Contains(f.Hint, "\n") {
			t.Errorf("finding %+v: want a one-line message and hint", f)
		}
		if f.Severity != InfoOf(f.Code).Severity {
			t.Errorf("finding %s has severity %s, its code says %s", f.Code, f.Severity, InfoOf(f.Code).Severity)
		}
	}
	for code, n := range want {
		if got[code] != n {
			t.Errorf("code %s: %d findings, want %d", code, got[code], n)
		}
	}
	for code, n := range got {
		if want[code] == 0 {
			t.Errorf("unexpected %d findings of code %s", n, code)
		}
	}
	wantFile := map[Code]string{
		CodeDrift: "secrets/drift.yaml", CodeThreshold: "secrets/shamir.yaml",
		CodePlaintext: "secrets/plain.yaml", CodePlaintextComment: "secrets/plain.yaml",
		CodeUnreadable: "secrets/garbled.yaml", CodeUnencrypted: "secrets/todo.yaml",
		CodeNoRule: "stray/app.env", CodeSopsYml: ".sops.yml", CodeBadRecipient: ".sops.yaml",
	}
	for code, file := range wantFile {
		if where[code] != file {
			t.Errorf("code %s reported on %q, want %q", code, where[code], file)
		}
	}
	if Errors(fs) == 0 {
		t.Fatal("no errors counted")
	}
	for _, f := range fs {
		// Secret values must never appear in findings.
		for _, secret := range []string{"s3cret", "added-later", "not-yet-encrypted", "tok"} {
			if strings.Contains(f.Message+f.Hint, secret) && !(secret == "tok" && strings.Contains(f.Message, "token")) {
				t.Errorf("finding quotes a secret value %q: %s", secret, f.Message)
			}
		}
	}

	// Golden outputs.
	ckGolden(t, "check/findings.txt.golden", buf.Bytes())
	buf.Reset()
	if err := WriteJSON(&buf, fs, 9); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "check/findings.json.golden", buf.Bytes())
	buf.Reset()
	if err := WriteGitHub(&buf, fs); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "check/findings.github.golden", buf.Bytes())
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if !regexp.MustCompile(`^::(error|warning) file=[^,:]+(,line=\d+)?,title=sopsfleet [a-z-]+::[^\n]+$`).MatchString(line) {
			t.Errorf("not a workflow command: %q", line)
		}
	}
	buf.Reset()
	if err := WriteSARIF(&buf, fs, "v0.0.0-test"); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "check/findings.sarif.golden", buf.Bytes())
	validateSARIF(t, buf.Bytes(), len(fs))

	// The report of the same repository shows every mark.
	rep := BuildReport(res)
	buf.Reset()
	if err := WriteReportText(&buf, rep, false); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "report/findings.txt.golden", buf.Bytes())
	for _, mark := range []string{"✓", "✗", "+", "•", "GROUPS", "2/3 (wants 3)"} {
		if !strings.Contains(buf.String(), mark) {
			t.Errorf("report lacks %q:\n%s", mark, buf.String())
		}
	}
	buf.Reset()
	if err := WriteReportText(&buf, rep, true); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "report/findings-numbered.txt.golden", buf.Bytes())
	buf.Reset()
	if err := WriteReportLayout(&buf, rep, LayoutTransposed); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "report/findings-transposed.txt.golden", buf.Bytes())
	for _, want := range []string{"RECIPIENT", "\nGROUPS ", "2/3 (wants 3)", "  secrets/shamir.yaml\n", "(unreadable)"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("transposed report lacks %q:\n%s", want, buf.String())
		}
	}
	buf.Reset()
	if err := WriteReportMarkdown(&buf, rep); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "report/findings.md.golden", buf.Bytes())
	buf.Reset()
	if err := WriteReportJSON(&buf, rep); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "report/findings.json.golden", buf.Bytes())
	var parsed struct {
		Files []struct {
			Path   string
			Access []struct{ Recipient, State string }
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &parsed); err != nil {
		t.Fatal(err)
	}
	states := map[string]map[string]string{}
	for _, f := range parsed.Files {
		states[f.Path] = map[string]string{}
		for _, a := range f.Access {
			states[f.Path][a.Recipient] = a.State
		}
	}
	alice, bob, carol := "age:"+ckRecipient(t, "alice"), "age:"+ckRecipient(t, "bob"), "age:"+ckRecipient(t, "carol")
	for _, c := range []struct{ file, key, state string }{
		{"secrets/drift.yaml", alice, "ok"}, {"secrets/drift.yaml", bob, "missing"},
		{"secrets/drift.yaml", carol, "extra"}, {"stray/app.env", alice, "no-rule"},
		{"secrets/ok.yaml", alice, "ok"}, {"secrets/ok.yaml", bob, ""},
	} {
		if got := states[c.file][c.key]; got != c.state {
			t.Errorf("%s / %s: state %q, want %q", c.file, c.key, got, c.state)
		}
	}
	list := rep.ByRecipient()
	buf.Reset()
	if err := WriteByRecipientText(&buf, list); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "report/by-recipient.txt.golden", buf.Bytes())
	buf.Reset()
	if err := WriteByRecipientMarkdown(&buf, list); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "report/by-recipient.md.golden", buf.Bytes())
	buf.Reset()
	if err := WriteByRecipientJSON(&buf, list); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "report/by-recipient.json.golden", buf.Bytes())
	i, _ := rep.Find("carol")
	if i < 0 {
		t.Fatal("carol not found")
	}
	var carolFiles []string
	for _, f := range list[i].Files {
		carolFiles = append(carolFiles, f.Path+":"+f.Access.String())
	}
	if strings.Join(carolFiles, " ") != "secrets/drift.yaml:extra secrets/shamir.yaml:ok" {
		t.Errorf("carol can decrypt %v", carolFiles)
	}
}

// validateSARIF checks the properties SARIF 2.1.0 requires (sarif-schema-
// 2.1.0.json) and code scanning relies on.
func validateSARIF(t *testing.T, data []byte, results int) {
	t.Helper()
	var log map[string]any
	if err := json.Unmarshal(data, &log); err != nil {
		t.Fatalf("sarif: %v", err)
	}
	if log["version"] != "2.1.0" {
		t.Errorf("sarif version %v", log["version"])
	}
	if s, _ := log["$schema"].(string); !strings.Contains(s, "sarif-2.1.0") {
		t.Errorf("sarif $schema %q", s)
	}
	runs, _ := log["runs"].([]any)
	if len(runs) != 1 {
		t.Fatalf("sarif: %d runs", len(runs))
	}
	run := runs[0].(map[string]any)
	driver, _ := run["tool"].(map[string]any)["driver"].(map[string]any)
	if driver == nil || driver["name"] != "sopsfleet" {
		t.Fatalf("sarif: tool.driver.name missing: %v", run["tool"])
	}
	rules, _ := driver["rules"].([]any)
	ids := map[string]int{}
	for i, r := range rules {
		rm := r.(map[string]any)
		id, _ := rm["id"].(string)
		if id == "" {
			t.Errorf("sarif rule %d has no id", i)
		}
		ids[id] = i
	}
	res, _ := run["results"].([]any)
	if len(res) != results {
		t.Errorf("sarif: %d results, want %d", len(res), results)
	}
	levels := map[string]bool{"none": true, "note": true, "warning": true, "error": true}
	for i, r := range res {
		rm := r.(map[string]any)
		msg, _ := rm["message"].(map[string]any)
		if text, _ := msg["text"].(string); text == "" {
			t.Errorf("sarif result %d: message.text is required", i)
		}
		if !levels[rm["level"].(string)] {
			t.Errorf("sarif result %d: level %v", i, rm["level"])
		}
		id := rm["ruleId"].(string)
		if idx, ok := ids[id]; !ok || int(rm["ruleIndex"].(float64)) != idx {
			t.Errorf("sarif result %d: ruleId %q / ruleIndex %v do not match the rules", i, id, rm["ruleIndex"])
		}
		locs, _ := rm["locations"].([]any)
		for _, l := range locs {
			pl := l.(map[string]any)["physicalLocation"].(map[string]any)
			uri, _ := pl["artifactLocation"].(map[string]any)["uri"].(string)
			if u, err := url.Parse(uri); uri == "" || err != nil || strings.ContainsAny(uri, "\\ #?") ||
				(u.Scheme != "" && u.Scheme != "file") {
				t.Errorf("sarif result %d: bad uri %q", i, uri)
			}
			// Code scanning needs a region with startLine ≥ 1 (GH1003).
			reg, _ := pl["region"].(map[string]any)
			if n, _ := reg["startLine"].(float64); n < 1 {
				t.Errorf("sarif result %d: region.startLine %v", i, reg["startLine"])
			}
		}
	}
}

func TestCheckLintOnlyFindings(t *testing.T) {
	for _, c := range []struct {
		name, config string
		want         Code
		line         int
	}{
		{"bad-regex", "creation_rules:\n  - path_regex: ^a/\n    age: {{alice}}\n  - path_regex: '[unclosed'\n    age: {{alice}}\n", CodeBadRegex, 4},
		{"no-creation-rules", "keys:\n  - &a {{alice}}\n", CodeNoCreationRules, 1},
		{"filename_regex", "creation_rules:\n  - filename_regex: ^a/\n    age: {{alice}}\n", CodeUnknownKey, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			fx := newCkRepo(t)
			fx.write(".sops.yaml", c.config)
			res, _ := fx.scan(true)
			fs := Check(res, ".sops.yaml")
			var codes []string
			found := false
			for _, f := range fs {
				codes = append(codes, fmt.Sprintf("%s@%d", f.Code, f.Line))
				if f.Code == c.want && f.Line == c.line {
					found = true
				}
			}
			if !found {
				t.Errorf("want %s at line %d, got %v", c.want, c.line, codes)
			}
		})
	}
}

// cleanRepo has every format and encryption setting, with zero findings.
func cleanRepo(t *testing.T) *ckRepo {
	fx := newCkRepo(t)
	fx.write(".sops.yaml", `keys:
  - &admin {{admin}}
  - &web1 {{web1}} # host web1
  - &web2 {{web2}}
creation_rules:
  - path_regex: ^shamir/
    shamir_threshold: 2
    key_groups:
      - age: [*admin]
      - age: [*web1, *web2]
  - path_regex: \.(yaml|json|env|ini|bin)$
    key_groups:
      - age:
          - *admin
          - *web1
`)
	// Files encrypted with a selector have a rule that asks for it (else
	// they are selector-drift), before the catch-all.
	selectorRules := ""
	for _, fr := range [][2]string{
		{`^regex\.yaml$`, "encrypted_regex: ^(password|api_token)$"},
		{`^unregex\.yaml$`, "unencrypted_regex: ^(host|port)$"},
		{`^encsuffix\.yaml$`, "encrypted_suffix: _secret"},
		{`^comments\.yaml$`, "encrypted_comment_regex: sops:enc"},
		{`^uncomments\.yaml$`, "unencrypted_comment_regex: sops:plain"},
		{`^regex\.json$`, "encrypted_regex: ^password$"},
	} {
		selectorRules += "  - path_regex: " + fr[0] + "\n    " + fr[1] + "\n    key_groups:\n      - age: [*admin, *web1]\n"
	}
	fx.edit(".sops.yaml", func(s string) string {
		return strings.Replace(s, "creation_rules:\n", "creation_rules:\n"+selectorRules, 1)
	})
	both := [][]string{{"admin", "web1"}}
	fx.encrypt("app.yaml", appYAML, ckEnc{groups: both})
	fx.encrypt("regex.yaml", appYAML, ckEnc{groups: both, settings: "encrypted_regex: ^(password|api_token)$"})
	fx.encrypt("unregex.yaml", appYAML, ckEnc{groups: both, settings: "unencrypted_regex: ^(host|port)$"})
	fx.encrypt("suffix.yaml", "user_unencrypted: admin\npass: x\nnested_unencrypted:\n    a: b\n", ckEnc{groups: both})
	fx.encrypt("encsuffix.yaml", "user: admin\npass_secret: x\n", ckEnc{groups: both, settings: "encrypted_suffix: _secret"})
	fx.encrypt("comments.yaml", "# sops:enc\npassword: x\n# plain comment\nuser: admin\nlist:\n    # sops:enc\n    - a\n    - b\n",
		ckEnc{groups: both, settings: "encrypted_comment_regex: sops:enc"})
	fx.encrypt("uncomments.yaml", "# sops:plain\nuser: admin\npassword: x\n# other\nkey: v\n",
		ckEnc{groups: both, settings: "unencrypted_comment_regex: sops:plain"})
	fx.encrypt("multi.yaml", "a: 1\n---\nb: two\n# c\n", ckEnc{groups: both})
	fx.encrypt("app.json", `{"db": {"password": "x", "port": 5432, "tls": true, "none": null, "list": [1, "two", {"k": "v"}]}, "empty": ""}`, ckEnc{groups: both})
	fx.encrypt("regex.json", `{"password": "x", "user": "admin"}`, ckEnc{groups: both, settings: "encrypted_regex: ^password$"})
	fx.encrypt("app.env", "# comment\nDB_PASSWORD=x\nUSER_unencrypted=admin\n", ckEnc{groups: both})
	fx.encrypt("app.ini", "[db]\npassword = x\n", ckEnc{groups: both})
	fx.encrypt("blob.bin", "binary data\n", ckEnc{groups: both})
	fx.encrypt("shamir/key.yaml", "k: v\n", ckEnc{groups: [][]string{{"admin"}, {"web1", "web2"}}, threshold: 2})
	fx.write("README.md", "not a secret\n")
	fx.write("config.toml", "plain = true\n")
	return fx
}

func TestCheckCleanRepo(t *testing.T) {
	fx := cleanRepo(t)
	res, _ := fx.scan(true)
	fs := Check(res, ".sops.yaml")
	if len(fs) > 0 {
		var buf bytes.Buffer
		_ = WriteText(&buf, fs, nil)
		t.Errorf("clean repository has findings:\n%s", buf.String())
	}
	n := 0
	for _, r := range res.Files {
		if r.Encrypted() {
			n++
		}
	}
	if n != 14 {
		t.Errorf("%d encrypted files read, want 14", n)
	}
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, fs, "v0.0.0-test"); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, buf.Bytes(), 0)
	buf.Reset()
	if err := WriteGitHub(&buf, fs); err != nil || buf.Len() != 0 {
		t.Errorf("github output for no findings: %q %v", buf.String(), err)
	}

	rep := BuildReport(res)
	buf.Reset()
	if err := WriteReportText(&buf, rep, false); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "report/clean.txt.golden", buf.Bytes())
	buf.Reset()
	if err := WriteReportMarkdown(&buf, rep); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "report/clean.md.golden", buf.Bytes())
	if !strings.Contains(buf.String(), "web1") || strings.Contains(buf.String(), "✗") {
		t.Errorf("clean report:\n%s", buf.String())
	}
	if i, _ := rep.Find("web2"); i < 0 || len(rep.ByRecipient()[i].Files) != 1 {
		t.Errorf("web2 should read exactly shamir/key.yaml")
	}
}

// TestCheckNamedFiles: check FILE… looks at those files only.
func TestCheckNamedFiles(t *testing.T) {
	fx := findingsRepo(t)
	res, _ := fx.scan(true, "secrets/ok.yaml", "secrets/drift.yaml", "README.md", "secrets/todo.yaml")
	var files []string
	for _, r := range res.Files {
		files = append(files, r.Path)
		if !r.Explicit {
			t.Errorf("%s not marked explicit", r.Path)
		}
	}
	sort.Strings(files)
	if strings.Join(files, " ") != "secrets/drift.yaml secrets/ok.yaml secrets/todo.yaml" {
		t.Errorf("scanned %v", files)
	}
	fs := Check(res, ".sops.yaml")
	var fileCodes []string
	for _, f := range fs {
		if f.File != ".sops.yaml" && f.File != ".sops.yml" {
			fileCodes = append(fileCodes, string(f.Code))
		}
	}
	sort.Strings(fileCodes)
	if strings.Join(fileCodes, " ") != "drift unencrypted" {
		t.Errorf("file findings %v", fileCodes)
	}
}

// TestCheckCorpus runs the scan over real-world files: no crash, every
// file's recipients read.
func TestCheckCorpus(t *testing.T) {
	paths := testsops.CorpusFiles(t, "encrypted")
	fx := newCkRepo(t)
	fx.write(".sops.yaml", "creation_rules:\n  - age: {{alice}}\n")
	conf, err := recipients.LoadConfig(fx.path(".sops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The corpus files are named explicitly, as pre-commit passes them.
	res2, err := Scan(ScanOptions{Config: conf, Paths: paths, Plaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Files) != len(paths) {
		t.Errorf("%d results for %d files", len(res2.Files), len(paths))
	}
	for _, r := range res2.Files {
		if !r.Encrypted() {
			t.Errorf("%s: not read: %v", filepath.Base(r.Path), r.Err)
			continue
		}
		keys := 0
		for _, g := range r.File.Groups {
			for _, s := range g {
				if s.Key.ID != "" {
					keys++
				}
			}
		}
		if keys == 0 {
			t.Errorf("%s: no recipients read", filepath.Base(r.Path))
		}
		if len(r.Diffs) == 0 {
			t.Errorf("%s: no drift against an unrelated key", filepath.Base(r.Path))
		}
	}
	fs := Check(res2, ".sops.yaml")
	rep := BuildReport(res2)
	if len(rep.Files) != len(paths) {
		t.Errorf("report has %d rows for %d files", len(rep.Files), len(paths))
	}
	var buf bytes.Buffer
	for _, w := range []func() error{
		func() error { return WriteText(&buf, fs, nil) },
		func() error { return WriteSARIF(&buf, fs, "test") },
		func() error { return WriteGitHub(&buf, fs) },
		func() error { return WriteReportText(&buf, rep, true) },
		func() error { return WriteReportMarkdown(&buf, rep) },
		func() error { return WriteReportJSON(&buf, rep) },
		func() error { return WriteByRecipientText(&buf, rep.ByRecipient()) },
	} {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLintCorpusConfigs lints the real-world .sops.yaml files: no crash,
// every finding names a line and has a hint.
func TestLintCorpusConfigs(t *testing.T) {
	dir := testsops.Corpus(t, "sops-yaml")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := recipients.ParseConfig(filepath.Join(t.TempDir(), ".sops.yaml"), data)
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		n++
		for _, f := range Lint(cfg, ".sops.yaml") {
			if f.Line <= 0 || f.Hint == "" || strings.Contains(f.Message, "%!") {
				t.Errorf("%s: finding %+v", e.Name(), f)
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d configs linted", n)
	}
}

// TestCheckLintRecipientsAndRules: the config findings the fixture
// repository has one form of, in their other forms.
func TestCheckLintRecipientsAndRules(t *testing.T) {
	valid := ckRecipient(t, "alice")
	last := valid[len(valid)-1]
	flip := byte('q')
	if last == 'q' {
		flip = 'p'
	}
	badChecksum := valid[:len(valid)-1] + string(flip) // bech32 characters, wrong checksum
	badChar := valid[:10] + "b" + valid[11:]           // 'b' is not a bech32 character
	for _, c := range []struct {
		name, config string
		want         Code
		line         int
		msg          string
	}{
		{"bad checksum", "creation_rules:\n  - path_regex: ^a/\n    age: " + badChecksum + "\n", CodeBadRecipient, 3, "invalid checksum"},
		{"bad bech32 character", "creation_rules:\n  - path_regex: ^a/\n    key_groups:\n      - age:\n          - " + badChar + "\n", CodeBadRecipient, 5, `"b" is not a bech32 character`},
		{"path-regex typo", "creation_rules:\n  - path-regex: ^a/\n    age: {{alice}}\n", CodeUnknownKey, 2, "so the rule matches every file"},
		{"shadowed by catch-all", "creation_rules:\n  - age: {{alice}}\n  - path_regex: ^a/\n    age: {{bob}}\n", CodeUnreachableRule, 3, "creation rule 1 before it matches every path"},
		{"shadowed by .*", "creation_rules:\n  - path_regex: .*\n    age: {{alice}}\n  - path_regex: ^a/\n    age: {{bob}}\n", CodeUnreachableRule, 4, "matches every path"},
		{"identical regex", "creation_rules:\n  - path_regex: ^a/\n    age: {{alice}}\n  - path_regex: ^a/\n    age: {{bob}}\n", CodeUnreachableRule, 4, "same path_regex"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fx := newCkRepo(t)
			fx.write(".sops.yaml", c.config)
			res, _ := fx.scan(true)
			fs := Check(res, ".sops.yaml")
			var got []string
			n := 0
			for _, f := range fs {
				got = append(got, fmt.Sprintf("%s@%d: %s (hint: %s)", f.Code, f.Line, f.Message, f.Hint))
				if f.Code == c.want {
					n++
					if f.Line != c.line || !strings.Contains(f.Message, c.msg) || f.Hint == "" {
						t.Errorf("got %s@%d %q, want line %d and %q", f.Code, f.Line, f.Message, c.line, c.msg)
					}
				}
			}
			if n != 1 {
				t.Errorf("want one %s finding, got %q", c.want, got)
			}
		})
	}
}

// TestCheckMetadataFindings: each missing metadata field is reported once,
// in every format that has a data section, with the line of the metadata.
func TestCheckMetadataFindings(t *testing.T) {
	fx := newCkRepo(t)
	fx.write(".sops.yaml", "creation_rules:\n  - path_regex: ^meta/\n    age: {{alice}}\n")
	alice := ckEnc{groups: [][]string{{"alice"}}}
	cases := map[string]string{} // file → the message wanted
	for _, field := range []string{"mac", "lastmodified", "version"} {
		for _, src := range []struct{ ext, text string }{
			{"yaml", "a: 1\n"}, {"json", `{"a": 1}`}, {"env", "A=1\n"}, {"ini", "[s]\na = 1\n"},
		} {
			rel := "meta/no-" + field + "." + src.ext
			fx.encrypt(rel, src.text, alice)
			re := regexp.MustCompile(`(?m)^.*\b(sops_)?` + field + `\b.*\n`)
			fx.edit(rel, func(s string) string {
				out := re.ReplaceAllString(s, "")
				if src.ext == "json" {
					out = regexp.MustCompile(`,(\s*})`).ReplaceAllString(out, "$1") // no trailing comma
				}
				if out == s {
					t.Fatalf("%s: no %s line to remove", rel, field)
				}
				return out
			})
			cases[filepath.ToSlash(rel)] = "sops metadata has no " + field
		}
	}
	res, _ := fx.scan(true)
	fs := Check(res, ".sops.yaml")
	got := map[string][]string{}
	for _, f := range fs {
		got[f.File] = append(got[f.File], fmt.Sprintf("%s@%d: %s", f.Code, f.Line, f.Message))
		if f.Code == CodeMetadata && f.Line < 1 {
			t.Errorf("%s: metadata finding without a line: %s", f.File, f.Message)
		}
	}
	for file, msg := range cases {
		if len(got[file]) != 1 || !strings.HasPrefix(got[file][0], "metadata@") || !strings.Contains(got[file][0], msg) {
			t.Errorf("%s: findings %q, want one metadata finding %q", file, got[file], msg)
		}
	}
}

// TestCheckSymlinkCountedOnce: a symbolic link to a file that is checked
// anyway does not double its findings (the file list is sopsfile.Walk's).
func TestCheckSymlinkCountedOnce(t *testing.T) {
	fx := newCkRepo(t)
	fx.write(".sops.yaml", "creation_rules:\n  - path_regex: ^secrets/\n    age: {{alice}},{{bob}}\n")
	fx.encrypt("secrets/a.yaml", "a: 1\n", ckEnc{groups: [][]string{{"alice"}}})
	if err := os.Symlink("a.yaml", fx.path("secrets/link.yaml")); err != nil {
		t.Skip(err)
	}
	res, _ := fx.scan(true)
	fs := Check(res, ".sops.yaml")
	if len(fs) != 1 || fs[0].Code != CodeDrift {
		var buf bytes.Buffer
		_ = WriteText(&buf, fs, nil)
		t.Errorf("want one drift finding, got:\n%s", buf.String())
	}
}

// TestSARIFURIs: artifact locations are URI references, percent-encoded,
// that decode to the file's path.
func TestSARIFURIs(t *testing.T) {
	files := []string{"secrets/db.yaml", "we ird/a,b:c%d#e?.yaml", "a:b/c.yaml", "ünï/cödé.env", "/abs/pa th.json"}
	var fs []Finding
	for _, f := range files {
		fs = append(fs, Finding{Severity: SeverityError, Code: CodeDrift, File: f, Line: 3, Message: "m", Hint: "h"})
	}
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, fs, "v0"); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, buf.Bytes(), len(fs))
	var log struct {
		Runs []struct {
			Results []struct {
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI, URIBaseID string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	for i, r := range log.Runs[0].Results {
		art := r.Locations[0].PhysicalLocation.ArtifactLocation
		u, err := url.Parse(art.URI)
		if err != nil {
			t.Fatalf("%q: %v", art.URI, err)
		}
		want := files[i]
		if filepath.IsAbs(want) {
			if u.Scheme != "file" || art.URIBaseID != "" {
				t.Errorf("%s: uri %q, want a file: URI", want, art.URI)
			}
		} else if u.Scheme != "" || art.URIBaseID != "%SRCROOT%" {
			t.Errorf("%s: uri %q (base %q), want a relative reference from %%SRCROOT%%", want, art.URI, art.URIBaseID)
		}
		if u.Path != want {
			t.Errorf("uri %q decodes to %q, want %q", art.URI, u.Path, want)
		}
	}
}

// TestGitHubEscaping: workflow command data escapes %, CR and LF;
// properties also escape "," and ":" (actions/toolkit command.ts).
func TestGitHubEscaping(t *testing.T) {
	fs := []Finding{
		{Severity: SeverityWarning, Code: CodeUnencrypted, File: `dir\x/a,b:c%d.yaml`, Message: "50% done\r", Hint: "run: x, y"},
		{Severity: SeverityError, Code: CodeUnusedAnchor, File: ".sops.yaml", Line: 7, Message: "m"},
	}
	var buf bytes.Buffer
	if err := WriteGitHub(&buf, fs); err != nil {
		t.Fatal(err)
	}
	want := "::warning file=dir\\x/a%2Cb%3Ac%25d.yaml,title=sopsfleet unencrypted::50%25 done%0D%0Ahint: run: x, y\n" +
		"::error file=.sops.yaml,line=7,title=sopsfleet unused-anchor::m\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

// TestCheckMalformedEnc: an entry whose enc is not what sops can decrypt
// (not an armored age file, or one whose content is broken) is a metadata
// finding on the entry's line, in every format; real entries are not.
func TestCheckMalformedEnc(t *testing.T) {
	fx := newCkRepo(t)
	fx.write(".sops.yaml", "creation_rules:\n  - path_regex: ^enc/\n    age: {{alice}}\n")
	alice := ckEnc{groups: [][]string{{"alice"}}}
	want := map[string]string{}
	for _, src := range []struct{ ext, text string }{
		{"yaml", "a: 1\n"}, {"json", `{"a": 1}`}, {"env", "A=1\n"}, {"ini", "[s]\na = 1\n"},
	} {
		for _, c := range []struct{ name, from, to, msg string }{
			{"header", "-----BEGIN AGE ENCRYPTED FILE-----", "-----BEGIN AGE ENCRYPTED FILX-----", "enc is not an armored age file"},
			{"body", "YWdlLWVuY3J5cHRpb24ub3JnL3Yx", "YWdl!!", "enc is not a valid armored age file"},
		} {
			rel := "enc/" + c.name + "." + src.ext
			fx.encrypt(rel, src.text, alice)
			fx.edit(rel, func(s string) string {
				out := strings.Replace(s, c.from, c.to, 1)
				if out == s {
					t.Fatalf("%s: %q not found", rel, c.from)
				}
				return out
			})
			want[rel] = "malformed age key entry: " + c.msg
		}
		fx.encrypt("enc/ok."+src.ext, src.text, alice)
	}
	res, _ := fx.scan(true)
	got := map[string][]Finding{}
	for _, f := range Check(res, ".sops.yaml") {
		got[f.File] = append(got[f.File], f)
	}
	for _, r := range res.Files {
		fs := got[r.Path]
		msg, bad := want[r.Path]
		switch {
		case !bad && len(fs) > 0:
			t.Errorf("%s: unexpected %s: %s", r.Path, fs[0].Code, fs[0].Message)
		case bad && (len(fs) != 1 || fs[0].Code != CodeMetadata || fs[0].Message != msg || fs[0].Line < 1):
			t.Errorf("%s: findings %+v, want one metadata finding %q with a line", r.Path, fs, msg)
		}
	}
	if len(res.Files) != 12 {
		t.Errorf("%d files scanned, want 12", len(res.Files))
	}
}

// TestEncProblem: the shapes of enc that sops decrypts, per key type.
func TestEncProblem(t *testing.T) {
	for _, c := range []struct {
		typ  recipients.KeyType
		enc  string
		want bool // a problem
	}{
		{recipients.TypePGP, "-----BEGIN PGP MESSAGE-----\n\nwcBMA\n=abcd\n-----END PGP MESSAGE-----\n", false},
		{recipients.TypePGP, "wcBMA", true},
		{recipients.TypeKMS, "AQICAHh", true},
		{recipients.TypeKMS, "AQICAHhA", false},
		{recipients.TypeGCPKMS, "CiQA!", true},
		{recipients.TypeAzureKV, "anything", false},
		{recipients.TypeAge, "age-encryption.org/v1\n-> X25519 abc\n", true},
	} {
		s := sopsfile.Stanza{Key: recipients.Key{Type: c.typ, ID: "x"}, Enc: c.enc}
		if got := encProblem(&s); (got != "") != c.want {
			t.Errorf("%s %q: problem %q, want a problem: %v", c.typ, c.enc, got, c.want)
		}
	}
}

// TestCheckUnreadableNeverQuotesData: a file that cannot be parsed because
// of a plaintext value is reported with its line, without the value (the
// parser's messages quote what they could not read).
func TestCheckUnreadableNeverQuotesData(t *testing.T) {
	fx := newCkRepo(t)
	fx.write(".sops.yaml", "creation_rules:\n  - path_regex: ^u/\n    age: {{alice}}\n")
	alice := ckEnc{groups: [][]string{{"alice"}}}
	fx.encrypt("u/a.json", `{"a": "b"}`, alice)
	fx.edit("u/a.json", func(s string) string { return strings.Replace(s, "{", "{\n\"pw\": hunter2secret,", 1) })
	fx.encrypt("u/b.yaml", "a: b\n", alice)
	fx.edit("u/b.yaml", func(s string) string { return `pw: "hunter2\q"` + "\n" + s })
	fx.write("u/c.ini", "[s]\nk = ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]\n[hunter2secret\n[sops]\nversion = 3.13.3\n")
	res, _ := fx.scan(true)
	fs := Check(res, ".sops.yaml")
	lines := map[string]int{}
	for _, f := range fs {
		if f.Code != CodeUnreadable {
			continue
		}
		lines[f.File] = f.Line
		if strings.Contains(f.Message, "hunter2") || strings.Contains(f.Message, "yaml: yaml:") {
			t.Errorf("%s: %q", f.File, f.Message)
		}
	}
	for file, line := range map[string]int{"u/a.json": 2, "u/b.yaml": 0, "u/c.ini": 3} {
		if l, ok := lines[file]; !ok || l != line {
			t.Errorf("%s: unreadable finding at line %d (found: %v), want line %d", file, l, ok, line)
		}
	}
	var buf bytes.Buffer
	if err := WriteReportText(&buf, BuildReport(res), false); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "hunter2") {
		t.Errorf("report quotes a value:\n%s", buf.String())
	}
}

// TestCheckEmptyFileNotUnencrypted: an empty file a rule selects (a
// .gitkeep keeping the folder in git) holds nothing to encrypt.
func TestCheckEmptyFileNotUnencrypted(t *testing.T) {
	fx := newCkRepo(t)
	fx.write(".sops.yaml", "creation_rules:\n  - path_regex: ^secrets/\n    age: {{alice}}\n")
	fx.write("secrets/.gitkeep", "")
	fx.write("secrets/todo.yaml", "password: x\n")
	res, _ := fx.scan(true)
	var got []string
	for _, f := range Check(res, ".sops.yaml") {
		got = append(got, f.File+":"+string(f.Code))
	}
	if strings.Join(got, " ") != "secrets/todo.yaml:unencrypted" {
		t.Errorf("findings %v, want only secrets/todo.yaml:unencrypted", got)
	}
}

// TestCheckDriftPerGroup: in a Shamir file, drift names the key group, and
// a missing group shows as drift of that group.
func TestCheckDriftPerGroup(t *testing.T) {
	fx := newCkRepo(t)
	fx.write(".sops.yaml", `keys:
  - &alice {{alice}}
  - &bob {{bob}}
  - &carol {{carol}}
creation_rules:
  - path_regex: ^s/
    shamir_threshold: 2
    key_groups:
      - age: [*alice]
      - age: [*bob]
      - age: [*carol]
`)
	fx.encrypt("s/extra.yaml", "a: 1\n", ckEnc{groups: [][]string{{"alice"}, {"bob", "carol"}, {"carol"}}, threshold: 2})
	fx.encrypt("s/lessgroups.yaml", "a: 1\n", ckEnc{groups: [][]string{{"alice"}, {"bob"}}, threshold: 2})
	res, _ := fx.scan(true)
	var got []string
	for _, f := range Check(res, ".sops.yaml") {
		got = append(got, f.File+": "+string(f.Code)+": "+f.Message+" | "+f.Hint)
	}
	want := []string{
		"s/extra.yaml: drift: key group 2: recipients differ from creation rule 1: extra carol | sopsfleet updatekeys --rotate s/extra.yaml",
		"s/lessgroups.yaml: drift: key group 3: recipients differ from creation rule 1: missing carol | sopsfleet updatekeys s/lessgroups.yaml",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAgeArmored agrees with age's own armor reader (the one sops decrypts
// with) on real and broken armored files.
func TestAgeArmored(t *testing.T) {
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, ckKey(t, "alice").Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 32)); err != nil || w.Close() != nil || aw.Close() != nil {
		t.Fatal("age encrypt failed")
	}
	good := buf.String()
	lines := strings.Split(strings.TrimSpace(good), "\n")
	cases := map[string]string{
		"as written":         good,
		"no final newline":   strings.TrimSpace(good),
		"crlf":               strings.ReplaceAll(good, "\n", "\r\n"),
		"blank lines around": "\n\n" + good + "\n  \n",
		"no footer":          strings.Join(lines[:len(lines)-1], "\n"),
		"no header":          strings.Join(lines[1:], "\n"),
		"bad character":      strings.Replace(good, lines[1][:4], lines[1][:3]+"!", 1),
		"short middle line":  strings.Replace(good, lines[1], lines[1][:60], 1),
		"long line":          strings.Replace(good, lines[1], lines[1]+"AAAA", 1),
		"empty line inside":  strings.Replace(good, lines[1]+"\n", lines[1]+"\n\n", 1),
		"trailing data":      good + "x\n",
		"not age inside":     "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n",
		"header only":        "-----BEGIN AGE ENCRYPTED FILE-----\n-----END AGE ENCRYPTED FILE-----\n",
		"padding mid-line":   strings.Replace(good, lines[1], lines[1][:62]+"==", 1),
	}
	if len(lines) > 3 {
		// Lines after the first are checked without decoding when full.
		l := lines[2]
		for name, bad := range map[string]string{
			"bad character line 2": l[:10] + "!" + l[11:],
			"url base64 line 2":    l[:10] + "-" + l[11:],
			"padding line 2":       l[:62] + "==",
			"cr inside line 2":     l[:10] + "\r" + l[10:63],
			"space inside line 2":  l[:10] + " " + l[10:63],
			"short line 2":         l[:63],
			"long line 2":          l + "A",
		} {
			cases[name] = strings.Replace(good, l, bad, 1)
		}
	}
	for name, enc := range cases {
		data, err := io.ReadAll(armor.NewReader(strings.NewReader(enc)))
		want := err == nil && bytes.HasPrefix(data, []byte(ageHeader))
		if got := ageArmored(enc); got != want {
			t.Errorf("%s: ageArmored %v, age's reader %v (%v)", name, got, want, err)
		}
	}
	if !ageArmored(good) {
		t.Error("a real age file is refused")
	}
}

// FuzzAgeArmored compares ageArmored with age's armor reader.
func FuzzAgeArmored(f *testing.F) {
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	r, err := age.GenerateX25519Identity()
	if err != nil {
		f.Fatal(err)
	}
	w, err := age.Encrypt(aw, r.Recipient())
	if err != nil {
		f.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 100)); err != nil || w.Close() != nil || aw.Close() != nil {
		f.Fatal("age encrypt failed")
	}
	f.Add(buf.String())
	f.Add(strings.ReplaceAll(buf.String(), "\n", "\r\n"))
	f.Fuzz(func(t *testing.T, enc string) {
		data, err := io.ReadAll(armor.NewReader(strings.NewReader(enc)))
		want := err == nil && bytes.HasPrefix(data, []byte(ageHeader))
		if got := ageArmored(enc); got != want {
			t.Fatalf("ageArmored(%q) = %v, age's reader %v (%v)", enc, got, want, err)
		}
	})
}
