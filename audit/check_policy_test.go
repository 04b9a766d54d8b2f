package audit

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sopsfleet/sopsfleet/policy"
)

const policyFixture = `version: 1
groups:
  prod: [h01, h02]
  staging: [h03]
rules:
  - require: {all_of: [admin]}
  - paths: ^prod/
    require: {any_of: [backup]}
  - paths: ^prod/
    forbid: [staging]
  - separate: [prod, staging]
  - types: [age]
  - paths: ^staging/
    max_recipients: 2
`

// policyRepo is a repository (files encrypted by the real sops) and a
// policy; broken: each policy finding fires exactly once, else none does.
func policyRepo(t *testing.T, broken bool) *ckRepo {
	fx := newCkRepo(t)
	shared := "    age: [*admin]\n"
	if broken {
		shared = "    age: [*admin, {{ssh:deploy}}]\n"
	}
	fx.write(".sops.yaml", `keys:
  - &admin {{admin}}
  - &backup {{backup}}
  - &h01 {{h01}}
  - &h02 {{h02}}
  - &h03 {{h03}}
creation_rules:
  - path_regex: ^prod/
    age: [*admin, *backup, *h01, *h02]
  - path_regex: ^staging/
    age: [*admin, *h03]
  - path_regex: ^shared/
`+shared+`  - age: [*admin]
`)
	fx.write(".sopsfleet.yaml", policyFixture)
	enc := func(names ...string) ckEnc { return ckEnc{groups: [][]string{names}} }
	fx.encrypt("prod/ok.yaml", "a: 1\n", enc("admin", "backup", "h01", "h02"))
	fx.encrypt("staging/ok.yaml", "a: 1\n", enc("admin", "h03"))
	fx.encrypt("other.yaml", "a: 1\n", enc("admin"))
	if broken {
		fx.encrypt("prod/nobackup.yaml", "a: 1\n", enc("admin", "h01", "h02"))
		fx.encrypt("prod/leak.yaml", "a: 1\n", enc("admin", "backup", "h03"))
		fx.encrypt("mixed.yaml", "a: 1\n", enc("admin", "h01", "h03"))
		fx.encrypt("staging/big.yaml", "a: 1\n", enc("admin", "h03", "backup"))
	}
	return fx
}

func policyFindings(t *testing.T, fx *ckRepo) []Finding {
	t.Helper()
	res, cfg := fx.scan(true)
	pol, err := policy.Load(fx.path(".sopsfleet.yaml"), ".sopsfleet.yaml", cfg)
	if err != nil {
		t.Fatal(err)
	}
	fs := append(Check(res, ".sops.yaml"), CheckPolicy(res, pol, ".sops.yaml")...)
	SortFindings(fs, ".sops.yaml")
	return fs
}

func TestCheckPolicyCompliant(t *testing.T) {
	for _, f := range policyFindings(t, policyRepo(t, false)) {
		t.Errorf("compliant repository: %s %s:%d: %s", f.Code, f.File, f.Line, f.Message)
	}
}

func TestCheckPolicyFindings(t *testing.T) {
	fs := policyFindings(t, policyRepo(t, true))
	var buf bytes.Buffer
	if err := WriteText(&buf, fs, nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("findings:\n%s", buf.String())
	want := map[Code]string{
		CodePolicyRequire: "prod/nobackup.yaml", CodePolicyForbid: "prod/leak.yaml",
		CodePolicySeparate: "mixed.yaml", CodePolicyType: ".sops.yaml", CodePolicyMax: "staging/big.yaml",
	}
	got := map[Code][]string{}
	for _, f := range fs {
		if strings.HasPrefix(string(f.Code), "policy-") {
			got[f.Code] = append(got[f.Code], f.File)
			if !strings.Contains(f.Message, "breaks .sopsfleet.yaml:") || f.Hint == "" || f.Line < 1 {
				t.Errorf("%s: message %q hint %q line %d", f.Code, f.Message, f.Hint, f.Line)
			}
			if f.Severity != InfoOf(f.Code).Severity {
				t.Errorf("%s: severity %s", f.Code, f.Severity)
			}
		}
	}
	for code, file := range want {
		if len(got[code]) != 1 || got[code][0] != file {
			t.Errorf("%s reported on %v, want once on %s", code, got[code], file)
		}
	}
	if len(got) != len(want) {
		t.Errorf("policy codes %v, want %d kinds", got, len(want))
	}
	ckGolden(t, "check/policy.txt.golden", buf.Bytes())
	buf.Reset()
	if err := WriteJSON(&buf, fs, 7); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "check/policy.json.golden", buf.Bytes())
	buf.Reset()
	if err := WriteGitHub(&buf, fs); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "check/policy.github.golden", buf.Bytes())
	buf.Reset()
	if err := WriteSARIF(&buf, fs, "v0.0.0-test"); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "check/policy.sarif.golden", buf.Bytes())
	validateSARIF(t, buf.Bytes(), len(fs))
}
