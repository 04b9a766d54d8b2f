package recipients_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, p, s string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func newSSHKey(t *testing.T, passphrase string) (pemText string, pub ssh.PublicKey) {
	t.Helper()
	pk, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(sk, "test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(sk, "test", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	pub, err = ssh.NewPublicKey(pk)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block)), pub
}

func TestLoadIdentitiesSourcesInSopsOrder(t *testing.T) {
	home := t.TempDir()
	ids := genKeys(t, "env", "file", "cfg", "flag")
	sshPEM, _ := newSSHKey(t, "")
	writeFile(t, filepath.Join(home, ".ssh", "id_ed25519"), sshPEM)
	keyFile := writeFile(t, filepath.Join(home, "k.txt"), "# comment\n"+ids["file"].id.String()+"\n")
	writeFile(t, filepath.Join(home, "xdg", "sops", "age", "keys.txt"), ids["cfg"].id.String()+"\n")
	flagFile := writeFile(t, filepath.Join(home, "flag.txt"), ids["flag"].id.String()+"\n")
	env := envMap(map[string]string{
		"HOME":                   home,
		"XDG_CONFIG_HOME":        filepath.Join(home, "xdg"),
		recipients.EnvAgeKey:     ids["env"].id.String() + " " + ids["env"].id.String(),
		recipients.EnvAgeKeyFile: keyFile,
	})
	got, err := recipients.LoadIdentities(recipients.IdentityOptions{Getenv: env, Files: []string{flagFile}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Problems) > 0 {
		t.Fatalf("problems: %v", got.Problems)
	}
	want := []string{"id_ed25519: 1", recipients.EnvAgeKey + ": 2", recipients.EnvAgeKeyFile, "keys.txt: 1", "flag.txt: 1"}
	if len(got.Sources) != len(want) {
		t.Fatalf("sources %q", got.Sources)
	}
	for i, w := range want {
		if !strings.Contains(got.Sources[i], w) {
			t.Errorf("source %d = %q, want it to contain %q", i, got.Sources[i], w)
		}
	}
	if got.Count() != 6 {
		t.Errorf("count %d", got.Count())
	}
	for _, s := range got.Sources {
		if strings.Contains(s, "AGE-SECRET-KEY") {
			t.Fatal("key material in a source description")
		}
	}
}

func TestLoadIdentitiesProblemsAndErrors(t *testing.T) {
	home := t.TempDir()
	bad := writeFile(t, filepath.Join(home, "bad.txt"), "AGE-SECRET-KEY-1NOTVALID\n")
	got, err := recipients.LoadIdentities(recipients.IdentityOptions{Getenv: envMap(map[string]string{"HOME": home, recipients.EnvAgeKeyFile: bad})})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Problems) != 1 || !strings.Contains(got.Problems[0].Error(), "bad.txt:1") {
		t.Fatalf("problems %v", got.Problems)
	}
	if strings.Contains(got.Problems[0].Error(), "NOTVALID") {
		t.Fatal("the key is quoted in the error")
	}
	// The same file given with -i is an error.
	if _, err := recipients.LoadIdentities(recipients.IdentityOptions{Getenv: envMap(map[string]string{"HOME": home}), Files: []string{bad}}); err == nil {
		t.Fatal("bad -i file accepted")
	}
	pubFile := writeFile(t, filepath.Join(home, "pub.txt"), genKeys(t, "x")["x"].id.Recipient().String()+"\n")
	_, err = recipients.LoadIdentities(recipients.IdentityOptions{Getenv: envMap(map[string]string{"HOME": home}), Files: []string{pubFile}})
	if err == nil || !strings.Contains(err.Error(), "public key") {
		t.Fatalf("public key as identity: %v", err)
	}
	if _, err := recipients.LoadIdentities(recipients.IdentityOptions{Getenv: envMap(map[string]string{"HOME": home}), Files: []string{filepath.Join(home, "missing")}}); err == nil {
		t.Fatal("missing -i file accepted")
	}
}

// An SSH host key given with -i opens files encrypted to its ssh-to-age
// recipient (which sops cannot, sops issue 1999) and to its ssh-ed25519
// recipient.
func TestSSHIdentityOpensConvertedRecipient(t *testing.T) {
	dir := t.TempDir()
	sshPEM, pub := newSSHKey(t, "s3cret")
	keyPath := writeFile(t, filepath.Join(dir, "ssh_host_ed25519_key"), sshPEM)
	ageRecipient, err := recipients.SSHPublicKeyToAge(pub)
	if err != nil {
		t.Fatal(err)
	}
	sshRecipient := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	asked := 0
	ids, err := recipients.LoadIdentities(recipients.IdentityOptions{
		Getenv: envMap(map[string]string{"HOME": dir}),
		Files:  []string{keyPath},
		Passphrase: func(prompt string) ([]byte, error) {
			asked++
			if !strings.Contains(prompt, "ssh_host_ed25519_key") {
				t.Errorf("prompt %q does not name the key", prompt)
			}
			return []byte("s3cret"), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if asked != 1 || ids.Count() != 2 {
		t.Fatalf("asked %d times, %d identities", asked, ids.Count())
	}
	for _, r := range []string{ageRecipient, sshRecipient} {
		k := recipients.Key{Type: recipients.TypeAge, ID: r}
		enc, err := sopsfile.NewOpener(nil).EncryptNew(sopsfile.FormatYAML, []byte("a: 1\n"), [][]recipients.Key{{k}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		f, err := sopsfile.Parse("s.yaml", enc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sopsfile.NewOpener(ids.Age).OpenDataKey(f, enc); err != nil {
			t.Errorf("%s: %v", r[:12], err)
		}
	}
	// Without a way to ask, an encrypted key is an error naming the need.
	_, err = recipients.LoadIdentities(recipients.IdentityOptions{Getenv: envMap(map[string]string{"HOME": dir}), Files: []string{keyPath}})
	if !errors.Is(err, recipients.ErrPassphraseNeeded) && (err == nil || !strings.Contains(err.Error(), "passphrase")) {
		t.Fatalf("no passphrase: %v", err)
	}
}

func TestEncryptedAgeIdentityFile(t *testing.T) {
	dir := t.TempDir()
	inner := genKeys(t, "k")["k"]
	r, err := age.NewScryptRecipient("pw")
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(10)
	p := filepath.Join(dir, "keys.age")
	f, _ := os.Create(p)
	w, err := age.Encrypt(f, r)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(inner.id.String() + "\n"))
	w.Close()
	f.Close()
	ids, err := recipients.LoadIdentities(recipients.IdentityOptions{Getenv: envMap(map[string]string{"HOME": dir}), Files: []string{p},
		Passphrase: func(string) ([]byte, error) { return []byte("pw"), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if ids.Count() != 1 {
		t.Fatalf("%d identities", ids.Count())
	}
	if x, ok := ids.Age[0].(*age.X25519Identity); !ok || x.Recipient().String() != inner.id.Recipient().String() {
		t.Fatal("wrong identity")
	}
}

// An encrypted ~/.ssh/id_ed25519 is asked for only when a file has an entry
// for it, as sops does, and only once.
func TestEncryptedDefaultSSHKeyAsksOnlyWhenNeeded(t *testing.T) {
	home := t.TempDir()
	sshPEM, pub := newSSHKey(t, "pw")
	writeFile(t, filepath.Join(home, ".ssh", "id_ed25519"), sshPEM)
	other := genKeys(t, "x")["x"]
	asked := 0
	ids, err := recipients.LoadIdentities(recipients.IdentityOptions{
		Getenv:     envMap(map[string]string{"HOME": home, recipients.EnvAgeKey: other.id.String()}),
		Passphrase: func(string) ([]byte, error) { asked++; return []byte("pw"), nil },
	})
	if err != nil || ids.Count() != 2 || asked != 0 {
		t.Fatalf("load: %v, %d identities, asked %d", err, ids.Count(), asked)
	}
	sshRecipient := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	open := func(rec string) error {
		enc, err := sopsfile.NewOpener(nil).EncryptNew(sopsfile.FormatYAML, []byte("a: 1\n"),
			[][]recipients.Key{{{Type: recipients.TypeAge, ID: rec}}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		f, err := sopsfile.Parse("s.yaml", enc)
		if err != nil {
			t.Fatal(err)
		}
		_, err = sopsfile.NewOpener(ids.Age).OpenDataKey(f, enc)
		return err
	}
	if err := open(other.id.Recipient().String()); err != nil || asked != 0 {
		t.Fatalf("age file: %v, asked %d", err, asked)
	}
	for i := 0; i < 2; i++ {
		if err := open(sshRecipient); err != nil {
			t.Fatal(err)
		}
	}
	if asked != 1 {
		t.Fatalf("asked %d times", asked)
	}
}

func TestAgeKeyCommandRunsOnce(t *testing.T) {
	dir := t.TempDir()
	k := genKeys(t, "k")["k"]
	keyFile := writeFile(t, filepath.Join(dir, "key.txt"), k.id.String()+"\n")
	ids, err := recipients.LoadIdentities(recipients.IdentityOptions{Getenv: envMap(map[string]string{"HOME": dir, recipients.EnvAgeKeyCmd: "cat " + keyFile})})
	if err != nil {
		t.Fatal(err)
	}
	if ids.Count() != 1 || len(ids.Problems) != 0 || !strings.Contains(ids.Sources[0], recipients.EnvAgeKeyCmd) {
		t.Fatalf("%+v", ids)
	}
	ids, err = recipients.LoadIdentities(recipients.IdentityOptions{Getenv: envMap(map[string]string{"HOME": dir, recipients.EnvAgeKeyCmd: "false"})})
	if err != nil || ids.Count() != 0 || len(ids.Problems) != 1 {
		t.Fatalf("failing command: %v %+v", err, ids)
	}
}

type tkey struct {
	name string
	id   *age.X25519Identity
}

func genKeys(t testing.TB, names ...string) map[string]tkey {
	t.Helper()
	out := map[string]tkey{}
	for _, n := range names {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		out[n] = tkey{n, id}
	}
	return out
}
