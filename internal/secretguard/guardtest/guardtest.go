// Package guardtest makes private keys and secret values to plant in the
// input of a test, and checks that none of them comes back out.
package guardtest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"
)

// Key is a private key to plant: its Text (as pasted) and Needles,
// distinctive parts of it that must never appear in any output.
type Key struct {
	Name    string
	Text    string
	Needles []string
}

// Keys returns freshly generated private keys of every form sopsfleet must
// refuse: an OpenSSH ed25519 key (whole, and its body without the BEGIN
// line), PKCS#1 RSA, PKCS#8 and SEC1 EC PEM blocks, a PGP private block, a
// PuTTY key file, age identities (upper and lower case) and an age plugin
// identity.
func Keys(t testing.TB) []Key {
	t.Helper()
	var keys []Key
	add := func(name, text string) {
		keys = append(keys, Key{Name: name, Text: text, Needles: needles(text)})
	}

	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(edPriv, "planted")
	if err != nil {
		t.Fatal(err)
	}
	openssh := string(pem.EncodeToMemory(block))
	add("openssh", openssh)
	// The body alone, as pasted without the BEGIN line.
	lines := strings.Split(strings.TrimSpace(openssh), "\n")
	add("openssh-body", strings.Join(lines[1:len(lines)-1], "\n"))
	add("openssh-first-line", lines[1])

	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	add("rsa-pkcs1", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})))
	p8, err := x509.MarshalPKCS8PrivateKey(edPriv)
	if err != nil {
		t.Fatal(err)
	}
	add("pkcs8", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})))
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	add("ec-sec1", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})))

	// A PGP private block: the armor is what identifies it.
	body := make([]byte, 300)
	if _, err := rand.Read(body); err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(body)
	var pgp strings.Builder
	pgp.WriteString("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n")
	for len(b64) > 64 {
		pgp.WriteString(b64[:64] + "\n")
		b64 = b64[64:]
	}
	pgp.WriteString(b64 + "\n=Ab1c\n-----END PGP PRIVATE KEY BLOCK-----\n")
	add("pgp", pgp.String())

	// A PuTTY key file: the header line is what identifies it.
	priv := make([]byte, 36)
	if _, err := rand.Read(priv); err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(edPriv.Public())
	if err != nil {
		t.Fatal(err)
	}
	add("putty", "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: planted\nPublic-Lines: 2\n"+
		base64.StdEncoding.EncodeToString(pub.Marshal())+"\nPrivate-Lines: 1\n"+
		base64.StdEncoding.EncodeToString(priv)+"\nPrivate-MAC: "+hex.EncodeToString(priv[:32])+"\n")

	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	add("age", id.String())
	id2, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	add("age-lower", strings.ToLower(id2.String()))
	// A plugin identity: AGE-PLUGIN-NAME-1 and bech32 data.
	id3, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	add("age-plugin", "AGE-PLUGIN-YUBIKEY-1"+strings.TrimPrefix(id3.String(), "AGE-SECRET-KEY-1")[:40])
	return keys
}

// needles are parts of a key text long enough to be distinctive: for a
// block, pieces of every base64 line; for a one-line key, its data part.
func needles(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "-----") || len(l) < 24 {
			continue
		}
		if i := strings.LastIndex(l, "-1"); i >= 0 && i+2 < len(l) && strings.HasPrefix(strings.ToUpper(l), "AGE-") {
			l = l[i+2:]
		}
		// Middle of the line: whatever a message might cut off at its
		// start or end, a middle part identifies a leak.
		n := min(16, len(l)/2)
		out = append(out, l[len(l)/2-n/2:len(l)/2-n/2+n])
	}
	return out
}

// SecretValue returns a fresh plaintext value, "SECRETVAL-" and random hex,
// to plant in a file whose text must never be echoed.
func SecretValue(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "SECRETVAL-" + hex.EncodeToString(b)
}

// Leaks returns every needle of keys, and every value, found in out.
// Matching ignores case (age keys are case-insensitive) for keys, and looks
// for the random part of each value as well as the whole.
func Leaks(out string, keys []Key, values []string) []string {
	var found []string
	lower := strings.ToLower(out)
	for _, k := range keys {
		for _, n := range k.Needles {
			if strings.Contains(lower, strings.ToLower(n)) {
				found = append(found, k.Name+": "+n)
			}
		}
	}
	for _, v := range values {
		random := strings.TrimPrefix(v, "SECRETVAL-")
		if strings.Contains(out, random[:8]) || strings.Contains(out, random[8:]) {
			found = append(found, v)
		}
	}
	if len(values) > 0 && strings.Contains(out, "SECRETVAL") && len(found) == 0 {
		found = append(found, "SECRETVAL")
	}
	return found
}
