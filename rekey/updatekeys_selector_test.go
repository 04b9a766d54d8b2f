package rekey

import (
	"context"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
)

// TestApplySelector: --rotate --apply-selector re-encrypts files whose
// selector drifted under their rule's, in every text format; the real sops
// then decrypts them to the same plaintext, check finds no drift, and the
// values the new selector leaves alone are in plaintext in the file while
// the others are encrypted.
func TestApplySelector(t *testing.T) {
	fx := newCkRepo(t)
	fx.write(".sops.yaml", `creation_rules:
  - path_regex: ^k8s\.yaml$
    encrypted_regex: ^(data|stringData)$
    age: {{alice}}
  - path_regex: ^app\.json$
    age: {{alice}}
  - path_regex: ^app\.env$
    unencrypted_regex: ^USER$
    age: {{alice}}
  - path_regex: ^app\.ini$
    encrypted_regex: ^password$
    mac_only_encrypted: true
    age: {{alice}}
  - path_regex: ^blob\.bin$
    encrypted_regex: ^x$
    age: {{alice}}
`)
	alice := ckEnc{groups: [][]string{{"alice"}}}
	plain := map[string]string{
		"k8s.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n    name: db\ndata:\n    password: eA==\n",
		"app.json": "{\n    \"pw\": \"x\",\n    \"user\": \"admin\"\n}",
		"app.env":  "USER=admin\nPASSWORD=x\n",
		"app.ini":  "[db]\nuser = admin\npassword = x\n",
		"blob.bin": "binary\n",
	}
	for name, p := range plain {
		e := alice
		if name == "app.json" {
			e.settings = "encrypted_regex: ^pw$"
		}
		fx.encrypt(name, p, e)
	}
	res, cfg := fx.scan(true)
	before := 0
	for _, f := range Check(res, ".sops.yaml") {
		if f.Code == CodeSelectorDrift {
			before++
		}
	}
	if before != 4 {
		t.Fatalf("%d selector-drift findings before, want 4", before)
	}
	id := ckKey(t, "alice")
	var files []string
	for name := range plain {
		files = append(files, fx.path(name))
	}
	results := Run(context.Background(), files, Options{
		Config: cfg, Rotate: true, ApplySelector: true,
		Opener: func() (*sopsfile.Opener, error) { return sopsfile.NewOpener([]age.Identity{id}), nil },
	})
	for _, r := range results {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Path, r.Err)
		}
		if r.Status != StatusRotated {
			t.Errorf("%s: status %s, want rotated", r.Path, r.Status)
		}
	}
	res, _ = fx.scan(true)
	for _, f := range Check(res, ".sops.yaml") {
		t.Errorf("after --apply-selector: %s %s: %s", f.Code, f.File, f.Message)
	}
	for name, p := range plain {
		out, err := sopsDecryptWith(t, fx.dir, name, id)
		if err != nil {
			t.Fatalf("sops decrypt %s: %v", name, err)
		}
		// sops re-emits with its own indentation and alignment
		if strings.Join(strings.Fields(string(out)), " ") != strings.Join(strings.Fields(p), " ") {
			t.Errorf("%s decrypts to %q, want %q", name, out, p)
		}
	}
	for name, want := range map[string][]string{
		"k8s.yaml": {"name: db\n", "kind: Secret\n", "encrypted_regex: ^(data|stringData)$"},
		"app.json": {`"user": "ENC[`, `"pw": "ENC[`, `"unencrypted_suffix": "_unencrypted"`},
		"app.env":  {"USER=admin\n", "sops_unencrypted_regex=^USER$"},
		"app.ini":  {"= admin\n", "mac_only_encrypted"},
	} {
		got := fx.read(name)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q:\n%s", name, w, got)
			}
		}
		if strings.Contains(got, "password: x") || strings.Contains(got, "PASSWORD=x") || strings.Contains(got, `"pw": "x"`) {
			t.Errorf("%s: a secret value is in plaintext:\n%s", name, got)
		}
	}
	if got := fx.read("app.ini"); strings.Contains(got, "password = x") {
		t.Errorf("app.ini: password in plaintext:\n%s", got)
	}
}
