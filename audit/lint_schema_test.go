package audit

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// TestLintKnowsAllOfSops: each case's config has exactly one finding, of the
// given code, line and hint.
func TestLintKnowsAllOfSops(t *testing.T) {
	const alice = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
	for _, c := range []struct {
		name, config string
		code         Code
		line         int
		hint         string // substring
	}{
		{"top-level typo", "creation_rules:\n  - age: A\ndestination_rule:\n  - path_regex: x\n", CodeUnknownKey, 3, `did you mean "destination_rules"?`},
		{"top-level stranger", "creation_rules:\n  - age: A\nowner_team: infra\n", CodeUnknownTopLevel, 3, "remove it"},
		{"store typo", "creation_rules:\n  - age: A\nstores:\n  yaml:\n    indnet: 4\n", CodeUnknownKey, 5, `did you mean "indent"?`},
		{"store name", "creation_rules:\n  - age: A\nstores:\n  jsonbinary:\n    indent: 4\n", CodeUnknownKey, 4, `did you mean "json_binary"?`},
		{"dotenv has no settings", "creation_rules:\n  - age: A\nstores:\n  dotenv:\n    indent: 2\n", CodeUnknownKey, 5, "remove it"},
		{"key group typo", "creation_rules:\n  - key_groups:\n      - agee: [A]\n        age: [A]\n", CodeUnknownKey, 3, `did you mean "age"?`},
		{"hc_vault_transit_uri in a group", "creation_rules:\n  - key_groups:\n      - age: [A]\n        hc_vault_transit_uri: [x]\n", CodeUnknownKey, 4, "remove it"},
		{"kms entry", "creation_rules:\n  - key_groups:\n      - age: [A]\n        kms:\n          - arn: arn:aws:kms:eu-west-1:1:key/k\n            rol: r\n", CodeUnknownKey, 6, `did you mean "role"?`},
		{"azure entry", "creation_rules:\n  - key_groups:\n      - age: [A]\n        azure_keyvault:\n          - vaulturl: https://v\n            key: k\n            version: v\n", CodeUnknownKey, 5, `did you mean "vaultUrl"?`},
		{"merge", "creation_rules:\n  - key_groups:\n      - merge:\n          - age: [A]\n            pgpp: [x]\n", CodeUnknownKey, 5, `did you mean "pgp"?`},
		{"destination rule key", "creation_rules:\n  - age: A\ndestination_rules:\n  - path_regex: ^x/\n    s3_bucekt: b\n", CodeUnknownKey, 5, `did you mean "s3_bucket"?`},
		{"destination regex", "creation_rules:\n  - age: A\ndestination_rules:\n  - path_regex: '[x'\n    s3_bucket: b\n", CodeBadRegex, 4, "RE2"},
		{"recreation rule", "creation_rules:\n  - age: A\ndestination_rules:\n  - path_regex: ^x/\n    recreation_rule:\n      age: A\n      encrypted_regx: ^a$\n", CodeUnknownKey, 7, `did you mean "encrypted_regex"?`},
		{"pgp short id", "creation_rules:\n  - pgp: 1A2B3C4D\n", CodePGPKeyID, 2, "fingerprint"},
		{"pgp long id", "creation_rules:\n  - key_groups:\n      - pgp:\n          - 0123456789ABCDEF\n", CodePGPKeyID, 4, "fingerprint"},
		{"threshold above groups", "creation_rules:\n  - shamir_threshold: 3\n    key_groups:\n      - age: [A]\n      - age: [A2]\n", CodeThresholdTooHigh, 2, "at most 2"},
		{"two selectors", "creation_rules:\n  - age: A\n    encrypted_regex: ^a$\n    unencrypted_suffix: _x\n", CodeBadSettings, 2, "only one"},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := strings.ReplaceAll(c.config, "A2", "age1"+strings.Repeat("q", 4)+alice[9:])
			text = strings.ReplaceAll(text, " A", " "+alice)
			text = strings.ReplaceAll(text, "[A", "["+alice)
			if strings.Contains(c.config, "A2") {
				// a second valid recipient: derive one
				text = strings.ReplaceAll(c.config, "A2", testAge(t, "second"))
				text = strings.ReplaceAll(text, " A", " "+alice)
				text = strings.ReplaceAll(text, "[A", "["+alice)
			}
			cfg, err := recipients.ParseConfig(".sops.yaml", []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			fs := Lint(cfg, ".sops.yaml")
			var got []string
			for _, f := range fs {
				got = append(got, fmt.Sprintf("%s@%d %s (%s)", f.Code, f.Line, f.Message, f.Hint))
			}
			if len(fs) != 1 || fs[0].Code != c.code || fs[0].Line != c.line || !strings.Contains(fs[0].Hint, c.hint) {
				t.Fatalf("want one %s at line %d with hint %q, got:\n%s", c.code, c.line, c.hint, strings.Join(got, "\n"))
			}
			if fs[0].Severity != InfoOf(c.code).Severity {
				t.Errorf("severity %s, code says %s", fs[0].Severity, InfoOf(c.code).Severity)
			}
		})
	}
}

// TestLintAnchorBlocks: top-level keys that only hold anchors (several, as
// real configs have) and every field sops reads give no finding.
func TestLintAnchorBlocks(t *testing.T) {
	a, b := testAge(t, "a"), testAge(t, "b")
	text := `.keys: &admins
  - &alice ` + a + `
anchors:
  bob: &bob ` + b + `
x-common: &common
  age: *alice
stores:
  yaml: {indent: 2}
  json: {indent: 4}
  json_binary: {indent: 4}
  dotenv: {}
  ini: {}
creation_rules:
  - path_regex: ^k/
    aws_profile: p
    mac_only_encrypted: true
    encrypted_regex: ^(data|stringData)$
    shamir_threshold: 2
    key_groups:
      - merge:
          - age: [*alice]
        kms:
          - arn: arn:aws:kms:eu-west-1:111122223333:key/k
            role: arn:aws:iam::111122223333:role/r
            context: {a: b}
            aws_profile: p
        gcp_kms:
          - resource_id: projects/p/locations/l/keyRings/r/cryptoKeys/k
        hckms:
          - key_id: tr-west-1:0123
        azure_keyvault:
          - vaultUrl: https://v.vault.azure.net
            key: k
            version: v
        hc_vault:
          - https://vault:8200/v1/transit/keys/k
        pgp:
          - 0123456789ABCDEF0123456789ABCDEF01234567
      - age: [*bob]
  - <<: *common
    path_regex: ^c/
destination_rules:
  - path_regex: ^x/
    s3_bucket: b
    s3_prefix: p
    gcs_bucket: g
    gcs_prefix: p
    vault_path: v
    vault_address: https://vault
    vault_kv_mount_name: kv
    vault_kv_version: 2
    omit_extensions: true
    recreation_rule:
      age: ` + a + `
`
	cfg, err := recipients.ParseConfig(".sops.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Lint(cfg, ".sops.yaml") {
		if f.Code == CodeUnusedAnchor {
			continue // &admins and &common are lists and maps: not reported
		}
		t.Errorf("unexpected finding %s@%d: %s", f.Code, f.Line, f.Message)
	}
}

func testAge(t testing.TB, name string) string { return ckRecipient(t, name) }

// TestLintSharedGroupOnce: a key group shared by two rules through an
// alias has its unknown key reported once.
func TestLintSharedGroupOnce(t *testing.T) {
	a := testAge(t, "a")
	text := "groups:\n  - &g\n    age: [" + a + "]\n    agee: [x]\ncreation_rules:\n  - path_regex: ^a/\n    key_groups: [*g]\n  - key_groups: [*g]\n"
	cfg, err := recipients.ParseConfig(".sops.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range Lint(cfg, ".sops.yaml") {
		if f.Code == CodeUnknownKey {
			n++
			if f.Line != 4 {
				t.Errorf("line %d, want 4", f.Line)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d unknown-key findings, want 1", n)
	}
}
