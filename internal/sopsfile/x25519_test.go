package sopsfile

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// The fast X25519 stanzas are age's: age opens what they wrap, they open
// what age wraps, and neither opens a stanza of another key.
func TestFastX25519IsAge(t *testing.T) {
	alice, _ := age.GenerateX25519Identity()
	bob, _ := age.GenerateX25519Identity()
	fastAlice, err := newFastX25519Identity(alice)
	if err != nil {
		t.Fatal(err)
	}
	fr, err := newFastX25519Recipient(alice.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fr.pub.Bytes(), fastAlice.pub) {
		t.Fatal("the recipient's and the identity's public keys differ")
	}
	part := []byte("0123456789abcdef0123456789abcdef")

	// Ours → age.
	enc, err := ageEncryptX25519(fr, part)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(enc), "-----BEGIN AGE ENCRYPTED FILE-----\n") {
		t.Fatalf("not an armored age file: %q", enc)
	}
	if got, err := ageDecrypt(string(enc), []age.Identity{alice}); err != nil || !bytes.Equal(got, part) {
		t.Fatalf("age cannot open the fast stanza: %v", err)
	}
	if _, err := ageDecrypt(string(enc), []age.Identity{bob}); err == nil {
		t.Fatal("bob opens a stanza for alice")
	}

	// age → ours.
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, _ := age.Encrypt(aw, alice.Recipient(), bob.Recipient())
	w.Write(part)
	w.Close()
	aw.Close()
	if got, err := ageDecrypt(buf.String(), []age.Identity{fastAlice}); err != nil || !bytes.Equal(got, part) {
		t.Fatalf("the fast identity cannot open age's stanza: %v", err)
	}
	fastBob, _ := newFastX25519Identity(bob)
	carol, _ := age.GenerateX25519Identity()
	fastCarol, _ := newFastX25519Identity(carol)
	if got, err := ageDecrypt(buf.String(), []age.Identity{fastBob}); err != nil || !bytes.Equal(got, part) {
		t.Fatalf("the second stanza: %v", err)
	}
	_, err = age.Decrypt(armor.NewReader(strings.NewReader(buf.String())), fastCarol)
	var noMatch *age.NoIdentityMatchError
	if !errors.As(err, &noMatch) {
		t.Fatalf("carol: err = %v, want no identity matched", err)
	}

	// A tampered body is refused, not opened to garbage.
	st := []*age.Stanza{{Type: "X25519", Args: []string{"AAAA"}, Body: make([]byte, 32)}}
	if _, err := fastAlice.Unwrap(st); err == nil {
		t.Fatal("a malformed stanza opens")
	}
	ws, _ := fr.Wrap(make([]byte, 16))
	ws[0].Body[3] ^= 1
	if _, err := fastAlice.Unwrap(ws); !errors.Is(err, age.ErrIncorrectIdentity) {
		t.Fatalf("tampered body: %v", err)
	}
}

func TestFastX25519RecipientOnlyX25519(t *testing.T) {
	for _, s := range []string{"age1pq1" + strings.Repeat("q", 60), "ssh-ed25519 AAAA", "age1yubikey1" + strings.Repeat("q", 50)} {
		if _, err := newFastX25519Recipient(s); err == nil {
			t.Errorf("%q taken for an X25519 recipient", s)
		}
	}
}

// BenchmarkWrapUnwrap compares age's X25519 stanzas with the fast ones.
func BenchmarkWrapUnwrap(b *testing.B) {
	id, _ := age.GenerateX25519Identity()
	fast, _ := newFastX25519Identity(id)
	fr, _ := newFastX25519Recipient(id.Recipient().String())
	key := make([]byte, 16)
	b.Run("age", func(b *testing.B) {
		for range b.N {
			st, _ := id.Recipient().Wrap(key)
			if _, err := id.Unwrap(st); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		for range b.N {
			st, _ := fr.Wrap(key)
			if _, err := fast.Unwrap(st); err != nil {
				b.Fatal(err)
			}
		}
	})
}
