package sopsfile

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/sopsfleet/sopsfleet/internal/testsops"
)

// sopsBin is the pinned real sops (see testsops).
func sopsBin(t testing.TB) string {
	t.Helper()
	bin, err := testsops.Bin()
	if err != nil {
		t.Fatalf("building sops: %v", err)
	}
	return bin
}

type testAgeKey struct {
	id  *age.X25519Identity
	rcp string
}

func genAgeKey(t testing.TB) testAgeKey {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return testAgeKey{id, id.Recipient().String()}
}

// runSops runs the real sops in dir with only the given environment.
func runSops(t testing.TB, dir string, env []string, args ...string) ([]byte, error) {
	t.Helper()
	sopsBin(t)
	return testsops.Run(dir, env, args...)
}

// sopsEncrypt encrypts plain (named name, which gives the format) for the
// age recipients with the real sops; config, when set, is a .sops.yaml.
func sopsEncrypt(t testing.TB, name, plain, config string, rcps ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(plain), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-e"}
	if config != "" {
		cp := filepath.Join(dir, ".sops.yaml")
		if err := os.WriteFile(cp, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", cp)
	} else {
		args = append(args, "--age", strings.Join(rcps, ","))
	}
	out, err := runSops(t, dir, nil, append(args, name)...)
	if err != nil {
		t.Fatalf("sops -e %s: %v", name, err)
	}
	return out
}

// sopsDecrypt decrypts data (a file named name) with the real sops and the
// given age identities.
func sopsDecrypt(t testing.TB, name string, data []byte, keys ...testAgeKey) ([]byte, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.id.String())
	}
	return runSops(t, dir, []string{"SOPS_AGE_KEY=" + strings.Join(ids, "\n")}, "-d", name)
}

// dataKeyOf decrypts the data key from an age stanza of f.
func dataKeyOf(t testing.TB, f *File, k testAgeKey) []byte {
	t.Helper()
	for _, g := range f.Groups {
		for _, s := range g {
			if s.Key.ID == k.rcp {
				r, err := age.Decrypt(armor.NewReader(strings.NewReader(s.Enc)), k.id)
				if err != nil {
					t.Fatal(err)
				}
				key, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				return key
			}
		}
	}
	t.Fatalf("no stanza for %s", k.rcp)
	return nil
}

// ageEnc encrypts a data key (or part) to a recipient as sops does.
func ageEnc(t testing.TB, key []byte, rcp string) string {
	t.Helper()
	r, err := age.ParseX25519Recipient(rcp)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(key); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// plaintexts per format, shaped like real secrets files.
var plaintexts = map[string]string{
	"secrets.yaml": `# database settings
database:
  host: db.internal
  password: hunter2
  replicas:
    - name: a
      token: tok-a
    - name: b
      token: tok-b
api_key: "0123456789abcdef"
multiline: |
  line one
  line two
`,
	"multi.yaml": "a: 1\nb:\n  - x\n  - y\n---\nc: 2\nd: three\n---\ne: [1, 2]\n",
	"secrets.json": `{
  "database": {"host": "db.internal", "password": "hunter2"},
  "list": [1, 2, 3],
  "api_key": "0123456789abcdef"
}
`,
	"secrets.env": "# comment\nDB_HOST=db.internal\nDB_PASSWORD=hunter2\nAPI_KEY=0123456789abcdef\n",
	"secrets.ini": "[database]\nhost = db.internal\npassword = hunter2\n\n[api]\nkey = 0123456789abcdef\n",
	"secret.pem":  "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHr2NWxBv0uPavUa+kp3dMFUBw0BOa5Lb0x2WTflkFXk\n-----END PRIVATE KEY-----\n",
}

var fixtureNames = []string{"secrets.yaml", "multi.yaml", "secrets.json", "secrets.env", "secrets.ini", "secret.pem"}
