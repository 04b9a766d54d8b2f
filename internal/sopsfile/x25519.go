package sopsfile

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
	"golang.org/x/crypto/chacha20poly1305"
)

// The age X25519 recipient type, done with crypto/ecdh keys made once.
//
// filippo.io/age wraps and unwraps with golang.org/x/crypto/curve25519.X25519,
// which builds a new crypto/ecdh private key for every call, and building
// one computes its public key: wrapping a file key costs four scalar
// multiplications instead of two, and unwrapping two instead of one. On a
// fleet of files that is most of the CPU time of re-encrypting data keys.
// The stanzas are exactly age's (same derivation, same format: see
// filippo.io/age's x25519.go and the age specification), the age file
// around them is still written and read by age itself, and the tests check
// that age and sops open what these write and the other way round.

const x25519Label = "age-encryption.org/v1/X25519"

// fastX25519Recipient is an age X25519 recipient.
type fastX25519Recipient struct {
	pub *ecdh.PublicKey
}

func newFastX25519Recipient(s string) (*fastX25519Recipient, error) {
	// age validates the string (prefix, checksum, length) first.
	if _, err := age.ParseX25519Recipient(s); err != nil {
		return nil, err
	}
	b, err := bech32Data(s, "age")
	if err != nil {
		return nil, err
	}
	pub, err := ecdh.X25519().NewPublicKey(b)
	if err != nil {
		return nil, err
	}
	return &fastX25519Recipient{pub: pub}, nil
}

// Wrap is age's X25519Recipient.Wrap.
func (r *fastX25519Recipient) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	share := eph.PublicKey().Bytes()
	shared, err := eph.ECDH(r.pub)
	if err != nil {
		return nil, err
	}
	salt := append(append([]byte{}, share...), r.pub.Bytes()...)
	body, err := x25519Seal(shared, salt, fileKey)
	if err != nil {
		return nil, err
	}
	return []*age.Stanza{{
		Type: "X25519",
		Args: []string{base64.RawStdEncoding.EncodeToString(share)},
		Body: body,
	}}, nil
}

// fastX25519Identity is an age X25519 identity.
type fastX25519Identity struct {
	priv *ecdh.PrivateKey
	pub  []byte
}

func newFastX25519Identity(id *age.X25519Identity) (*fastX25519Identity, error) {
	b, err := bech32Data(id.String(), "age-secret-key-")
	if err != nil {
		return nil, err
	}
	defer clear(b)
	priv, err := ecdh.X25519().NewPrivateKey(b)
	if err != nil {
		return nil, err
	}
	return &fastX25519Identity{priv: priv, pub: priv.PublicKey().Bytes()}, nil
}

// Unwrap is age's X25519Identity.Unwrap.
func (i *fastX25519Identity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	for _, s := range stanzas {
		key, err := i.unwrap(s)
		if errors.Is(err, age.ErrIncorrectIdentity) {
			continue
		}
		return key, err
	}
	return nil, age.ErrIncorrectIdentity
}

func (i *fastX25519Identity) unwrap(s *age.Stanza) ([]byte, error) {
	if s.Type != "X25519" {
		return nil, age.ErrIncorrectIdentity
	}
	if len(s.Args) != 1 {
		return nil, errors.New("invalid X25519 recipient block")
	}
	share, err := base64.RawStdEncoding.Strict().DecodeString(s.Args[0])
	if err != nil || len(share) != 32 {
		return nil, errors.New("invalid X25519 recipient block")
	}
	peer, err := ecdh.X25519().NewPublicKey(share)
	if err != nil {
		return nil, errors.New("invalid X25519 recipient block")
	}
	shared, err := i.priv.ECDH(peer)
	if err != nil {
		return nil, errors.New("invalid X25519 recipient")
	}
	salt := append(append([]byte{}, share...), i.pub...)
	wrapping, err := hkdf.Key(sha256.New, shared, salt, x25519Label, chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	defer clear(wrapping)
	const fileKeySize = 16
	if len(s.Body) != fileKeySize+chacha20poly1305.Overhead {
		return nil, errors.New("invalid X25519 recipient block: incorrect file key size")
	}
	aead, err := chacha20poly1305.New(wrapping)
	if err != nil {
		return nil, err
	}
	key, err := aead.Open(nil, make([]byte, chacha20poly1305.NonceSize), s.Body, nil)
	if err != nil {
		return nil, age.ErrIncorrectIdentity
	}
	return key, nil
}

// x25519Seal derives the wrapping key and encrypts the file key with it.
func x25519Seal(shared, salt, fileKey []byte) ([]byte, error) {
	wrapping, err := hkdf.Key(sha256.New, shared, salt, x25519Label, chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	defer clear(wrapping)
	aead, err := chacha20poly1305.New(wrapping)
	if err != nil {
		return nil, err
	}
	return aead.Seal(nil, make([]byte, chacha20poly1305.NonceSize), fileKey, nil), nil
}

// ageEncryptX25519 encrypts part for an X25519 recipient as sops' age key
// does: an armored age file.
func ageEncryptX25519(r *fastX25519Recipient, part []byte) ([]byte, error) {
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(part); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// bech32Data returns the 8-bit data of a bech32 string with the given
// human-readable part (case-insensitive). The caller has already had age
// validate the string, checksum included; this only converts it.
func bech32Data(s, hrp string) ([]byte, error) {
	s = strings.ToLower(s)
	if !strings.HasPrefix(s, hrp+"1") || len(s) < len(hrp)+1+6 {
		return nil, errors.New("malformed bech32 string")
	}
	data := s[len(hrp)+1 : len(s)-6] // without the checksum
	var out []byte
	acc, bits := uint32(0), 0
	for i := 0; i < len(data); i++ {
		v := strings.IndexByte(bech32Charset, data[i])
		if v < 0 {
			return nil, errors.New("malformed bech32 string")
		}
		acc = acc<<5 | uint32(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	if bits >= 5 || acc&(1<<bits-1) != 0 {
		return nil, errors.New("malformed bech32 string")
	}
	return out, nil
}
