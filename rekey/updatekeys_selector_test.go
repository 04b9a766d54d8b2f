package rekey

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/audit"
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/internal/testsops"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// selFixture is a folder of files encrypted by the real sops to one age
// identity; {{alice}} in written text is its recipient.
type selFixture struct {
	t   *testing.T
	dir string
	id  *age.X25519Identity
}

func newSelFixture(t *testing.T) *selFixture {
	sopsBinary(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return &selFixture{t: t, dir: t.TempDir(), id: id}
}

func (fx *selFixture) path(rel string) string { return filepath.Join(fx.dir, filepath.FromSlash(rel)) }

func (fx *selFixture) write(rel, text string) {
	fx.t.Helper()
	text = strings.ReplaceAll(text, "{{alice}}", fx.id.Recipient().String())
	if err := os.WriteFile(fx.path(rel), []byte(text), 0o644); err != nil {
		fx.t.Fatal(err)
	}
}

func (fx *selFixture) read(rel string) string {
	fx.t.Helper()
	return string(mustRead(fx.t, fx.path(rel)))
}

// encrypt encrypts plain into rel with sops, under a rule with settings
// (e.g. "encrypted_regex: ^pw$"), in a staging folder of its own.
func (fx *selFixture) encrypt(rel, plain, settings string) {
	fx.t.Helper()
	stage := fx.t.TempDir()
	cfg := "creation_rules:\n  - age: " + fx.id.Recipient().String() + "\n"
	if settings != "" {
		cfg += "    " + settings + "\n"
	}
	if err := os.WriteFile(filepath.Join(stage, ".sops.yaml"), []byte(cfg), 0o644); err != nil {
		fx.t.Fatal(err)
	}
	name := filepath.Base(rel)
	if err := os.WriteFile(filepath.Join(stage, name), []byte(plain), 0o644); err != nil {
		fx.t.Fatal(err)
	}
	out, err := testsops.Run(stage, nil, "encrypt", name)
	if err != nil {
		fx.t.Fatalf("encrypting %s: %v", rel, err)
	}
	if err := os.WriteFile(fx.path(rel), out, 0o644); err != nil {
		fx.t.Fatal(err)
	}
}

// scan checks the folder as sopsfleet check does, paths shown relative.
func (fx *selFixture) scan() (*audit.ScanResult, *recipients.Config) {
	fx.t.Helper()
	cfg, err := recipients.LoadConfig(fx.path(".sops.yaml"))
	if err != nil {
		fx.t.Fatal(err)
	}
	res, err := audit.Scan(audit.ScanOptions{Config: cfg, Plaintext: true, Display: func(a string) string {
		if r, err := filepath.Rel(fx.dir, a); err == nil {
			return filepath.ToSlash(r)
		}
		return a
	}})
	if err != nil {
		fx.t.Fatal(err)
	}
	return res, cfg
}

// TestApplySelector: --rotate --apply-selector re-encrypts files whose
// selector drifted under their rule's, in every text format; the real sops
// then decrypts them to the same plaintext, check finds no drift, and the
// values the new selector leaves alone are in plaintext in the file while
// the others are encrypted.
func TestApplySelector(t *testing.T) {
	fx := newSelFixture(t)
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
	plain := map[string]string{
		"k8s.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n    name: db\ndata:\n    password: eA==\n",
		"app.json": "{\n    \"pw\": \"x\",\n    \"user\": \"admin\"\n}",
		"app.env":  "USER=admin\nPASSWORD=x\n",
		"app.ini":  "[db]\nuser = admin\npassword = x\n",
		"blob.bin": "binary\n",
	}
	for name, p := range plain {
		settings := ""
		if name == "app.json" {
			settings = "encrypted_regex: ^pw$"
		}
		fx.encrypt(name, p, settings)
	}
	res, cfg := fx.scan()
	before := 0
	for _, f := range audit.Check(res, ".sops.yaml") {
		if f.Code == audit.CodeSelectorDrift {
			before++
		}
	}
	if before != 4 {
		t.Fatalf("%d selector-drift findings before, want 4", before)
	}
	id := fx.id
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
	res, _ = fx.scan()
	for _, f := range audit.Check(res, ".sops.yaml") {
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
