package audit

import (
	"bytes"
	"testing"
)

// newFindingsRepo has each finding of issue 13 outside the policy exactly
// once: an unknown key in a key group's KMS entry, an invalid destination
// regex, a PGP key ID, a threshold above the groups, and a file (encrypted
// by the real sops) whose selector drifted.
func newFindingsRepo(t *testing.T) *ckRepo {
	fx := newCkRepo(t)
	fx.write(".sops.yaml", `creation_rules:
  - path_regex: ^k8s/
    encrypted_regex: ^(data|stringData)$
    age: {{alice}}
  - path_regex: ^legacy/
    pgp: 1A2B3C4D
  - path_regex: ^split/
    shamir_threshold: 3
    key_groups:
      - age: [{{alice}}]
      - age: [{{bob}}]
  - path_regex: ^cloud/
    key_groups:
      - kms:
          - arn: arn:aws:kms:eu-west-1:111122223333:key/k
            rol: arn:aws:iam::111122223333:role/r
destination_rules:
  - path_regex: '^(unclosed/'
    s3_bucket: secrets
`)
	fx.encrypt("k8s/db.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n    name: db\ndata:\n    password: eA==\n",
		ckEnc{groups: [][]string{{"alice"}}})
	return fx
}

func TestCheckNewFindings(t *testing.T) {
	fx := newFindingsRepo(t)
	res, _ := fx.scan(true)
	fs := Check(res, ".sops.yaml")
	SortFindings(fs, ".sops.yaml")
	want := map[Code]int{CodeUnknownKey: 1, CodeBadRegex: 1, CodePGPKeyID: 1, CodeThresholdTooHigh: 1, CodeSelectorDrift: 1}
	got := map[Code]int{}
	for _, f := range fs {
		got[f.Code]++
		if f.Severity != InfoOf(f.Code).Severity || f.Hint == "" || f.Line < 1 {
			t.Errorf("%s: severity %s, hint %q, line %d", f.Code, f.Severity, f.Hint, f.Line)
		}
	}
	for code, n := range want {
		if got[code] != n {
			t.Errorf("%s: %d findings, want %d", code, got[code], n)
		}
	}
	if len(fs) != len(want) {
		var buf bytes.Buffer
		_ = WriteText(&buf, fs, nil)
		t.Errorf("%d findings, want %d:\n%s", len(fs), len(want), buf.String())
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, fs, nil); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "check/new.txt.golden", buf.Bytes())
	buf.Reset()
	if err := WriteJSON(&buf, fs, 1); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "check/new.json.golden", buf.Bytes())
	buf.Reset()
	if err := WriteGitHub(&buf, fs); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "check/new.github.golden", buf.Bytes())
	buf.Reset()
	if err := WriteSARIF(&buf, fs, "v0.0.0-test"); err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "check/new.sarif.golden", buf.Bytes())
	validateSARIF(t, buf.Bytes(), len(fs))
}
