package audit

// Fixture repositories for the check and report tests, encrypted for real
// by the sops version pinned in go.mod (internal/testsops), with age keys derived from fixed
// seeds so that recipients (and so golden files) are stable.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"

	"github.com/sopsfleet/sopsfleet/internal/testsops"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// The -update flag rewrites golden files. It is registered only if no other
// test file of the package registered it first.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func ckUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// testKey is a deterministic age identity named name.
func ckKey(t testing.TB, name string) *age.X25519Identity {
	t.Helper()
	seed := sha256.Sum256([]byte("sopsfleet check ckRepo " + name))
	id, err := recipients.Ed25519PrivateKeyToAge(ed25519.NewKeyFromSeed(seed[:]))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// testRecipient is the age recipient of ckKey(name).
func ckRecipient(t testing.TB, name string) string {
	return ckKey(t, name).Recipient().String()
}

// testSSHKey is a deterministic "ssh-ed25519 AAAA…" public key.
func ckSSHKey(t testing.TB, name string) string {
	seed := sha256.Sum256([]byte("sopsfleet ssh ckRepo " + name))
	pub, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(seed[:]).Public())
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
}

// ckRepo is a repository folder under construction.
type ckRepo struct {
	t   testing.TB
	dir string
}

func newCkRepo(t testing.TB) *ckRepo {
	return &ckRepo{t: t, dir: t.TempDir()}
}

func (fx *ckRepo) path(rel string) string { return filepath.Join(fx.dir, filepath.FromSlash(rel)) }

// write writes a file; {{name}} in content becomes ckRecipient(name) and
// {{ssh:name}} ckSSHKey(name).
func (fx *ckRepo) write(rel, content string) {
	fx.t.Helper()
	content = fx.expand(content)
	p := fx.path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		fx.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		fx.t.Fatal(err)
	}
}

func (fx *ckRepo) expand(s string) string {
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			return s
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return s
		}
		name := s[i+2 : i+j]
		var val string
		if rest, ok := strings.CutPrefix(name, "ssh:"); ok {
			val = ckSSHKey(fx.t, rest)
		} else {
			val = ckRecipient(fx.t, name)
		}
		s = s[:i] + val + s[i+j+2:]
	}
}

func (fx *ckRepo) read(rel string) string {
	fx.t.Helper()
	b, err := os.ReadFile(fx.path(rel))
	if err != nil {
		fx.t.Fatal(err)
	}
	return string(b)
}

// enc describes how a ckRepo file is encrypted.
type ckEnc struct {
	groups    [][]string // key names per group; one group: flat
	threshold int
	settings  string // extra creation-rule lines, e.g. "encrypted_regex: ^pw$"
}

// encrypt encrypts plaintext with sops into rel. sops runs in a staging
// folder with its own .sops.yaml, so the ckRepo's config does not apply.
func (fx *ckRepo) encrypt(rel, plaintext string, e ckEnc) {
	fx.t.Helper()
	stage := fx.t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("creation_rules:\n  - key_groups:\n")
	for _, g := range e.groups {
		cfg.WriteString("      - age:\n")
		for _, n := range g {
			cfg.WriteString("          - " + ckRecipient(fx.t, n) + "\n")
		}
	}
	if e.threshold > 0 {
		fmt.Fprintf(&cfg, "    shamir_threshold: %d\n", e.threshold)
	}
	if e.settings != "" {
		cfg.WriteString("    " + e.settings + "\n")
	}
	if err := os.WriteFile(filepath.Join(stage, ".sops.yaml"), []byte(cfg.String()), 0o644); err != nil {
		fx.t.Fatal(err)
	}
	name := filepath.Base(rel)
	if err := os.WriteFile(filepath.Join(stage, name), []byte(plaintext), 0o644); err != nil {
		fx.t.Fatal(err)
	}
	out, err := testsops.Run(stage, nil, "encrypt", name)
	if err != nil {
		fx.t.Fatalf("encrypting %s: %v", rel, err)
	}
	p := fx.path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		fx.t.Fatal(err)
	}
	if err := os.WriteFile(p, out, 0o644); err != nil {
		fx.t.Fatal(err)
	}
}

// edit rewrites a file through fn.
func (fx *ckRepo) edit(rel string, fn func(string) string) {
	fx.t.Helper()
	fx.write(rel, fn(fx.read(rel)))
}

// scan loads the ckRepo's .sops.yaml and scans paths (default: all),
// showing paths relative to the ckRepo.
func (fx *ckRepo) scan(plaintext bool, paths ...string) (*ScanResult, *recipients.Config) {
	fx.t.Helper()
	cfg, err := recipients.LoadConfig(fx.path(".sops.yaml"))
	if err != nil {
		fx.t.Fatal(err)
	}
	abs := make([]string, len(paths))
	for i, p := range paths {
		abs[i] = fx.path(p)
	}
	dir, _ := filepath.EvalSymlinks(fx.dir)
	res, err := Scan(ScanOptions{
		Config: cfg, Paths: abs, Plaintext: plaintext,
		Display: func(a string) string {
			for _, d := range []string{fx.dir, dir} {
				if r, err := filepath.Rel(d, a); err == nil && !strings.HasPrefix(r, "..") {
					return filepath.ToSlash(r)
				}
			}
			return a
		},
	})
	if err != nil {
		fx.t.Fatal(err)
	}
	return res, cfg
}

// golden compares got with testdata/<name>, rewriting it with -update.
func ckGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", filepath.FromSlash(name))
	if ckUpdate() {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
