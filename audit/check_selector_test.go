package audit

import (
	"strings"
	"testing"
)

// TestCheckSelectorDrift: files encrypted by the real sops under one
// selector, governed by a rule with another, give one selector-drift each
// naming both selectors and the paths that change; agreeing selectors
// (an explicit default included) and binary files give none.
func TestCheckSelectorDrift(t *testing.T) {
	fx := newCkRepo(t)
	fx.write(".sops.yaml", `creation_rules:
  - path_regex: ^k8s\.yaml$
    encrypted_regex: ^(data|stringData)$
    age: {{alice}}
  - path_regex: ^app\.yaml$
    age: {{alice}}
  - path_regex: ^blob\.bin$
    encrypted_regex: ^data$
    age: {{alice}}
  - path_regex: ^same\.yaml$
    age: {{alice}}
  - path_regex: ^app\.env$
    unencrypted_regex: ^USER$
    age: {{alice}}
  - path_regex: ^app\.ini$
    encrypted_regex: ^password$
    age: {{alice}}
  - path_regex: ^app\.json$
    encrypted_regex: ^pw$
    mac_only_encrypted: true
    age: {{alice}}
`)
	alice := ckEnc{groups: [][]string{{"alice"}}}
	fx.encrypt("k8s.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n    name: db\ndata:\n    password: eA==\n", alice)
	fx.encrypt("app.yaml", "user: admin\npassword: x\n", ckEnc{groups: alice.groups, settings: "encrypted_regex: ^password$"})
	fx.encrypt("blob.bin", "binary\n", alice)
	fx.encrypt("same.yaml", "a_unencrypted: 1\nb: 2\n", ckEnc{groups: alice.groups, settings: "unencrypted_suffix: _unencrypted"})
	fx.encrypt("app.env", "USER=admin\nPASSWORD=x\n", alice)
	fx.encrypt("app.ini", "[db]\nuser = admin\npassword = x\n", alice)
	fx.encrypt("app.json", `{"pw": "x", "user": "admin"}`, ckEnc{groups: alice.groups, settings: "encrypted_regex: ^pw$"})

	res, _ := fx.scan(true)
	fs := Check(res, ".sops.yaml")
	want := map[string][]string{
		"k8s.yaml": {`encrypted with unencrypted_suffix "_unencrypted", creation rule 1 asks for encrypted_regex "^(data|stringData)$"`,
			`re-encrypting would leave in plaintext: "apiVersion", "kind", "metadata.name"`},
		"app.yaml": {`encrypted with encrypted_regex "^password$", creation rule 2 asks for unencrypted_suffix "_unencrypted" (sops' default)`,
			`not encrypted until the file is re-encrypted: "user"`},
		"app.env":  {`asks for unencrypted_regex "^USER$"`, `leave in plaintext: "USER"`},
		"app.ini":  {`asks for encrypted_regex "^password$"`, `leave in plaintext: "db.user"`},
		"app.json": {`asks for encrypted_regex "^pw$", mac_only_encrypted`},
	}
	got := map[string]int{}
	for _, f := range fs {
		if f.Code != CodeSelectorDrift {
			t.Errorf("unexpected %s: %s: %s", f.Code, f.File, f.Message)
			continue
		}
		got[f.File]++
		subs, ok := want[f.File]
		if !ok {
			t.Errorf("unexpected selector-drift for %s: %s", f.File, f.Message)
			continue
		}
		for _, s := range subs {
			if !strings.Contains(f.Message, s) {
				t.Errorf("%s: message %q lacks %q", f.File, f.Message, s)
			}
		}
		if f.Hint != "sopsfleet updatekeys --rotate --apply-selector "+f.File || f.Line < 1 {
			t.Errorf("%s: hint %q, line %d", f.File, f.Hint, f.Line)
		}
	}
	for file := range want {
		if got[file] != 1 {
			t.Errorf("%s: %d selector-drift findings, want 1", file, got[file])
		}
	}
}
