package sopsfile

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/recipients"
)

func newAgeKey(t *testing.T) (*age.X25519Identity, recipients.Key) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id, recipients.Key{Type: recipients.TypeAge, ID: id.Recipient().String()}
}

var plainByFormat = map[Format]struct {
	name, text string
}{
	FormatYAML:   {"s.yaml", "db:\n    password: hunter2\n    user: admin\nlist:\n    - a\n    - b\n"},
	FormatJSON:   {"s.json", "{\"db\": {\"password\": \"hunter2\"}, \"n\": 3}\n"},
	FormatDotenv: {"s.env", "PASSWORD=hunter2\nTOKEN=abc\n"},
	FormatINI:    {"s.ini", "[db]\npassword = hunter2\n"},
	FormatBinary: {"s.bin", "binary\x00data"},
}

func TestOpenDataKeyEveryFormat(t *testing.T) {
	alice, aliceKey := newAgeKey(t)
	_, bobKey := newAgeKey(t)
	for format, p := range plainByFormat {
		t.Run(p.name, func(t *testing.T) {
			enc, err := NewOpener(nil).EncryptNew(format, []byte(p.text), [][]recipients.Key{{bobKey, aliceKey}}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(enc, []byte("hunter2")) {
				t.Fatal("plaintext in the encrypted file")
			}
			f, err := Parse(p.name, enc)
			if err != nil {
				t.Fatal(err)
			}
			key, err := NewOpener([]age.Identity{alice}).OpenDataKey(f, enc)
			if err != nil {
				t.Fatal(err)
			}
			if len(key) != 32 {
				t.Fatalf("data key has %d bytes", len(key))
			}
			// A stranger cannot open it, and the error says so without secrets.
			stranger, _ := newAgeKey(t)
			_, err = NewOpener([]age.Identity{stranger}).OpenDataKey(f, enc)
			if !errors.Is(err, ErrNoIdentity) {
				t.Fatalf("stranger: got %v, want ErrNoIdentity", err)
			}
			_, err = NewOpener(nil).OpenDataKey(f, enc)
			if !errors.Is(err, ErrNoIdentity) || !strings.Contains(err.Error(), "no age identity") {
				t.Fatalf("no identity: got %v", err)
			}
			names, err := SecretNames(f, enc)
			if err != nil {
				t.Fatal(err)
			}
			if len(names) == 0 {
				t.Fatal("no secret names")
			}
			for _, n := range names {
				if strings.Contains(n, "hunter2") {
					t.Fatalf("secret value in names: %q", n)
				}
			}
		})
	}
}

func TestSecretNames(t *testing.T) {
	_, k := newAgeKey(t)
	cases := map[string]struct {
		format Format
		text   string
		want   string
	}{
		"yaml":   {FormatYAML, "db:\n    password: x\n    port_unencrypted: 5\nlist:\n    - a\n", "db.password,list[0]"},
		"dotenv": {FormatDotenv, "A=1\nB=2\n", "A,B"},
		"ini":    {FormatINI, "[s]\nk = v\n", "s.k"},
		"binary": {FormatBinary, "raw", "data"},
	}
	for name, c := range cases {
		enc, err := NewOpener(nil).EncryptNew(c.format, []byte(c.text), [][]recipients.Key{{k}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		f := &File{Format: c.format}
		names, err := SecretNames(f, enc)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(names, ","); got != c.want {
			t.Errorf("%s: got %q, want %q", name, got, c.want)
		}
	}
}

func TestShamirSplitCombine(t *testing.T) {
	ids := make([]*age.X25519Identity, 3)
	keys := make([]recipients.Key, 3)
	for i := range ids {
		ids[i], keys[i] = newAgeKey(t)
	}
	enc, err := NewOpener(nil).EncryptNew(FormatYAML, []byte("a: b\n"), [][]recipients.Key{{keys[0]}, {keys[1]}, {keys[2]}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("s.yaml", enc)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Groups) != 3 || f.ShamirThreshold != 2 {
		t.Fatalf("groups %d threshold %d", len(f.Groups), f.ShamirThreshold)
	}
	k1, err := NewOpener([]age.Identity{ids[0], ids[2]}).OpenDataKey(f, enc)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := NewOpener([]age.Identity{ids[1], ids[2]}).OpenDataKey(f, enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) {
		t.Fatal("two quorums give different data keys")
	}
	_, err = NewOpener([]age.Identity{ids[1]}).OpenDataKey(f, enc)
	if !errors.Is(err, ErrNoIdentity) || !strings.Contains(err.Error(), "opened 1 of the 2") {
		t.Fatalf("below threshold: %v", err)
	}
	parts, err := SplitDataKey(k1, 2, 0)
	if err != nil || len(parts) != 2 {
		t.Fatalf("split: %v", err)
	}
	if _, err := SplitDataKey(k1, 2, 3); err == nil {
		t.Fatal("threshold above groups accepted")
	}
}

func TestRotateKeepsValues(t *testing.T) {
	alice, aliceKey := newAgeKey(t)
	bob, bobKey := newAgeKey(t)
	enc, err := NewOpener(nil).EncryptNew(FormatYAML, []byte("a: secret\n"), [][]recipients.Key{{aliceKey, bobKey}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := Parse("s.yaml", enc)
	op := NewOpener([]age.Identity{alice})
	old, err := op.OpenDataKey(f, enc)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ResolveRecipients([][]recipients.Key{{aliceKey}}, "", "s.yaml", f, enc)
	if err != nil {
		t.Fatal(err)
	}
	out, err := op.Rotate(f, enc, old, rs, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	f2, err := Parse("s.yaml", out)
	if err != nil {
		t.Fatal(err)
	}
	if len(f2.Groups[0]) != 1 || f2.Groups[0][0].Key != aliceKey || f2.MAC == f.MAC {
		t.Fatalf("rotation: %+v", f2.Groups)
	}
	nk, err := op.OpenDataKey(f2, out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(nk, old) {
		t.Fatal("data key not rotated")
	}
	if _, err := NewOpener([]age.Identity{bob}).OpenDataKey(f2, out); err == nil {
		t.Fatal("removed recipient still opens the rotated file")
	}
	// A wrong old key is refused (MAC check), nothing is emitted.
	if _, err := op.Rotate(f, enc, make([]byte, 32), rs, 0, ""); err == nil {
		t.Fatal("rotation with a wrong data key succeeded")
	}
}

// sops' parse errors can quote the offending line of a plaintext: the
// error of EncryptNew never repeats it.
func TestEncryptNewErrorHasNoPlaintext(t *testing.T) {
	_, k := newAgeKey(t)
	for format, plain := range map[Format]string{
		FormatDotenv: "API_TOKEN hunter2-s3cret\n",
		FormatJSON:   `{"token": hunter2-s3cret}`,
		FormatYAML:   "token: [hunter2-s3cret\n",
	} {
		_, err := NewOpener(nil).EncryptNew(format, []byte(plain), [][]recipients.Key{{k}}, 0)
		if err == nil {
			t.Fatalf("%v: no error for %q", format, plain)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%v: error repeats the plaintext: %v", format, err)
		}
	}
}
