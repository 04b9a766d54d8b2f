package audit

import (
	"bytes"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// A sops file whose recipients are a KMS key, a PGP key and an age key,
// written by hand (the metadata is read, never opened).
const nonAgeFile = `password: ENC[AES256_GCM,data:YQ==,iv:aXY=,tag:dGFn,type:str]
sops:
    kms:
        - arn: arn:aws:kms:eu-central-1:111122223333:key/0b6c1e2a-0000-4000-8000-000000000001
          created_at: "2024-01-01T00:00:00Z"
          enc: AQICAHhjOlk9Z0NcTiywDzPa4ZcfTXc9VCjK1qSF
          aws_profile: ""
    pgp:
        - created_at: "2024-01-01T00:00:00Z"
          enc: |-
            -----BEGIN PGP MESSAGE-----

            wcFMA1234
            -----END PGP MESSAGE-----
          fp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4
    age:
        - recipient: {{alice}}
          enc: |
{{ageenc}}
    lastmodified: "2024-01-01T00:00:00Z"
    mac: ENC[AES256_GCM,data:YQ==,iv:aXY=,tag:dGFn,type:str]
    unencrypted_suffix: _unencrypted
    version: 3.8.1
`

// TestReportNonAgeColumns: PGP and KMS recipients are columns too, named
// by the config when it names them, else by a shortened key.
func TestReportNonAgeColumns(t *testing.T) {
	fx := newCkRepo(t)
	fx.write(".sops.yaml", `creation_rules:
  - path_regex: ^secrets/
    kms: arn:aws:kms:eu-central-1:111122223333:key/0b6c1e2a-0000-4000-8000-000000000001
    pgp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4 # release-signing
    age: {{bob}}
`)
	// The age entry is a real age file (check reads its armor and header).
	var armored bytes.Buffer
	aw := armor.NewWriter(&armored)
	w, err := age.Encrypt(aw, ckKey(t, "alice").Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 32)); err != nil || w.Close() != nil || aw.Close() != nil {
		t.Fatal("age encrypt failed")
	}
	enc := "            " + strings.ReplaceAll(strings.TrimSpace(armored.String()), "\n", "\n            ")
	fx.write("secrets/app.yaml", strings.Replace(nonAgeFile, "{{ageenc}}", enc, 1))
	res, _ := fx.scan(false)
	rep := BuildReport(res)
	var buf bytes.Buffer
	if err := WriteReportText(&buf, rep, false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"kms:eu-central-1:key/0b6c1e2a…", "release-signing", "age1"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	states := map[string]string{}
	for i, rc := range rep.Recipients {
		states[string(rc.Key.Type)] += CellText(rep.Files[0].Marks[i], 1)
	}
	if states["kms"] != "✓" || states["pgp"] != "✓" || states["age"] != "✗+" {
		t.Errorf("states %v (want kms ✓, pgp ✓, age: bob missing, alice extra)\n%s", states, out)
	}
	fs := Check(res, ".sops.yaml")
	if len(fs) != 1 || fs[0].Code != CodeDrift {
		t.Errorf("findings %+v, want one drift", fs)
	}
}
