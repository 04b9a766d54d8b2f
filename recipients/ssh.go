package recipients

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
	"filippo.io/edwards25519"
	"golang.org/x/crypto/ssh"
)

// This file converts SSH ed25519 keys to age X25519 keys exactly as
// ssh-to-age (github.com/Mic92/ssh-to-age) does, so the results are byte for
// byte the same:
//
//   - public: the Edwards point of the ed25519 key, in Montgomery form
//     (birational map), Bech32-encoded as "age1…";
//   - private: the first 32 bytes of SHA-512 of the 32-byte ed25519 seed
//     (the ed25519 secret scalar before clamping; X25519 clamps it when
//     used), Bech32-encoded as "AGE-SECRET-KEY-1…".
//
// No error in this file ever contains key material.

// ErrPassphraseNeeded is returned by [SSHPrivateKeyToAge] when the key is
// encrypted and no passphrase was given.
var ErrPassphraseNeeded = errors.New("private key is encrypted: passphrase needed")

// ErrIncorrectPassphrase is returned by [SSHPrivateKeyToAge] when the
// passphrase does not decrypt the key.
var ErrIncorrectPassphrase = errors.New("incorrect passphrase")

// ErrNotPrivateKey is returned by [SSHPrivateKeyToAge] when the input holds
// no PEM-armoured private key.
var ErrNotPrivateKey = errors.New("no SSH private key found (want -----BEGIN OPENSSH PRIVATE KEY-----)")

// UnsupportedKeyError reports a key of a type that has no age equivalent:
// only ssh-ed25519 keys convert.
type UnsupportedKeyError struct {
	// Type is the SSH key type, such as "ssh-rsa".
	Type string
}

func (e *UnsupportedKeyError) Error() string {
	return fmt.Sprintf("unsupported key type %q: only ssh-ed25519 keys convert to age", e.Type)
}

// SSHPublicKeyToAge converts an ssh-ed25519 public key to its age X25519
// recipient ("age1…"). Any other key type gives an [*UnsupportedKeyError].
func SSHPublicKeyToAge(pub ssh.PublicKey) (string, error) {
	if pub == nil {
		return "", errors.New("no public key")
	}
	if pub.Type() != ssh.KeyAlgoED25519 {
		return "", &UnsupportedKeyError{Type: pub.Type()}
	}
	cpk, ok := pub.(ssh.CryptoPublicKey)
	if !ok {
		return "", fmt.Errorf("ssh-ed25519 key of unexpected Go type %T", pub)
	}
	edPub, ok := cpk.CryptoPublicKey().(ed25519.PublicKey)
	if !ok {
		return "", fmt.Errorf("ssh-ed25519 key of unexpected Go type %T", cpk.CryptoPublicKey())
	}
	return ed25519PublicKeyToAge(edPub)
}

// ed25519PublicKeyToAge converts a raw ed25519 public key to "age1…".
func ed25519PublicKeyToAge(pub ed25519.PublicKey) (string, error) {
	if len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("invalid ed25519 public key: %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	p, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return "", errors.New("invalid ed25519 public key: not a point on the curve")
	}
	// A point of small order gives an X25519 key every shared secret with
	// which is predictable; such a key was never made by a key generator.
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return "", errors.New("invalid ed25519 public key: a point of small order")
	}
	return bech32Encode("age", p.BytesMontgomery())
}

// Ed25519PrivateKeyToAge converts an ed25519 private key to the age X25519
// identity ssh-to-age derives from it. The identity's recipient equals
// [SSHPublicKeyToAge] of the key's public half.
func Ed25519PrivateKeyToAge(priv ed25519.PrivateKey) (*age.X25519Identity, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("invalid ed25519 private key: %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	h := sha512.Sum512(priv.Seed())
	defer clear(h[:])
	s, err := bech32Encode("AGE-SECRET-KEY-", h[:32])
	if err != nil {
		return nil, errors.New("encoding age identity failed")
	}
	id, err := age.ParseX25519Identity(s)
	if err != nil {
		return nil, errors.New("age rejected the converted identity")
	}
	// The public half stored in the key must belong to its seed; a key whose
	// halves disagree is corrupt, and its recipient would not decrypt.
	want, err := ed25519PublicKeyToAge(ed25519.PublicKey(priv[32:]))
	if err != nil {
		return nil, fmt.Errorf("private key's public half: %w", err)
	}
	if id.Recipient().String() != want {
		return nil, errors.New("corrupt ed25519 private key: its public half does not match its seed")
	}
	return id, nil
}

// SSHPrivateKeyToAge converts a PEM-armoured SSH private key (OpenSSH
// format, or PKCS#8) to an age identity. passphrase is nil for an
// unencrypted key.
//
// Errors: [ErrPassphraseNeeded] when the key is encrypted and passphrase is
// nil; [ErrIncorrectPassphrase]; [*UnsupportedKeyError] (found before any
// passphrase is needed) for RSA, ECDSA, DSA and FIDO keys; [ErrNotPrivateKey].
// No error contains key material.
func SSHPrivateKeyToAge(pemBytes, passphrase []byte) (*age.X25519Identity, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, ErrNotPrivateKey
	}
	switch block.Type {
	case "OPENSSH PRIVATE KEY":
		return openSSHPrivateKeyToAge(block.Bytes, pemBytes, passphrase)
	case "RSA PRIVATE KEY":
		return nil, &UnsupportedKeyError{Type: ssh.KeyAlgoRSA}
	case "DSA PRIVATE KEY":
		return nil, &UnsupportedKeyError{Type: ssh.KeyAlgoDSA}
	case "EC PRIVATE KEY":
		return nil, &UnsupportedKeyError{Type: "ecdsa"}
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("encrypted PKCS#8 keys are not supported: convert the key to OpenSSH format with 'ssh-keygen -p -f FILE'")
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("malformed PKCS#8 private key")
		}
		switch k := k.(type) {
		case ed25519.PrivateKey:
			return Ed25519PrivateKeyToAge(k)
		case *rsa.PrivateKey:
			return nil, &UnsupportedKeyError{Type: ssh.KeyAlgoRSA}
		case *ecdsa.PrivateKey:
			return nil, &UnsupportedKeyError{Type: "ecdsa"}
		default:
			return nil, &UnsupportedKeyError{Type: "unknown PKCS#8 key"}
		}
	default:
		return nil, fmt.Errorf("unsupported PEM block %q: want an OpenSSH private key", block.Type)
	}
}

// openSSHPrivateKeyToAge handles "openssh-key-v1" keys. The public key and
// the cipher are in the clear, so the type is checked before decrypting.
func openSSHPrivateKeyToAge(der, pemBytes, passphrase []byte) (*age.X25519Identity, error) {
	hdr, err := parseOpenSSHKeyHeader(der)
	if err != nil {
		return nil, err
	}
	if hdr.keyType != ssh.KeyAlgoED25519 {
		return nil, &UnsupportedKeyError{Type: hdr.keyType}
	}
	var raw any
	if hdr.cipher == "none" {
		raw, err = ssh.ParseRawPrivateKey(pemBytes)
	} else {
		if passphrase == nil {
			return nil, ErrPassphraseNeeded
		}
		raw, err = ssh.ParseRawPrivateKeyWithPassphrase(pemBytes, passphrase)
	}
	if err != nil {
		var missing *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &missing):
			return nil, ErrPassphraseNeeded
		case errors.Is(err, x509.IncorrectPasswordError):
			return nil, ErrIncorrectPassphrase
		default:
			// x/crypto's messages name structure, never content; keep only
			// a fixed text anyway.
			return nil, errors.New("malformed OpenSSH private key")
		}
	}
	var priv ed25519.PrivateKey
	switch k := raw.(type) {
	case *ed25519.PrivateKey:
		priv = *k
	case ed25519.PrivateKey:
		priv = k
	default:
		return nil, errors.New("malformed OpenSSH private key: not an ed25519 key inside")
	}
	defer clear(priv)
	return Ed25519PrivateKeyToAge(priv)
}

type openSSHKeyHeader struct {
	cipher  string
	keyType string
}

// parseOpenSSHKeyHeader reads the clear-text head of an "openssh-key-v1"
// key: cipher, KDF, and the first public key, whose type it returns.
func parseOpenSSHKeyHeader(der []byte) (openSSHKeyHeader, error) {
	const magic = "openssh-key-v1\x00"
	malformed := errors.New("malformed OpenSSH private key")
	if !bytes.HasPrefix(der, []byte(magic)) {
		return openSSHKeyHeader{}, malformed
	}
	rest := der[len(magic):]
	var h openSSHKeyHeader
	var cipher, kdf, kdfOpts, pub []byte
	var ok bool
	if cipher, rest, ok = sshString(rest); !ok {
		return h, malformed
	}
	if kdf, rest, ok = sshString(rest); !ok {
		return h, malformed
	}
	if kdfOpts, rest, ok = sshString(rest); !ok {
		return h, malformed
	}
	_, _ = kdf, kdfOpts
	if len(rest) < 4 {
		return h, malformed
	}
	if n := binary.BigEndian.Uint32(rest); n != 1 {
		return h, fmt.Errorf("OpenSSH private key file holds %d keys, want 1", n)
	}
	rest = rest[4:]
	if pub, _, ok = sshString(rest); !ok {
		return h, malformed
	}
	typ, _, ok := sshString(pub)
	if !ok || !isKeyTypeName(string(typ)) {
		return h, malformed
	}
	h.cipher, h.keyType = string(cipher), string(typ)
	return h, nil
}

// sshString reads one SSH wire-format string (uint32 length, bytes).
func sshString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, b, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, b, false
	}
	return b[4 : 4+n], b[4+n:], true
}

// isKeyTypeName reports whether s looks like an SSH key algorithm name
// ("ssh-ed25519", "sk-ssh-ed25519@openssh.com", "ecdsa-sha2-nistp256"), so
// that it may be quoted in a message: it is printable, short and has no
// spaces.
func isKeyTypeName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '@' || c == '.' || c == '_':
		default:
			return false
		}
	}
	return true
}

// SSHFingerprint returns the "SHA256:…" fingerprint of pub as ssh-keygen -l
// prints it.
func SSHFingerprint(pub ssh.PublicKey) string { return ssh.FingerprintSHA256(pub) }

// SSHKey is one convertible public key found by [ParseSSHKeys].
type SSHKey struct {
	// Line is the 1-based line number in the input.
	Line int
	// Label names the key: the host field of a known_hosts or ssh-keyscan
	// line (unless hashed), otherwise the key's comment. It may be empty.
	Label string
	// SSHType is the key type, "ssh-ed25519".
	SSHType string
	// Fingerprint is the key's "SHA256:…" fingerprint.
	Fingerprint string
	// Age is the converted recipient, "age1…".
	Age string
	// Key is the parsed SSH public key.
	Key ssh.PublicKey
}

// LineError is a problem with one line of input. Its message names the line
// and, when known, the key type; never the line's content.
type LineError struct {
	// Line is the 1-based line number.
	Line int
	// Type is the SSH key type on the line, when known.
	Type string
	// Err says what is wrong: an [*UnsupportedKeyError], [ErrRevokedKey],
	// [ErrCertAuthorityKey], [ErrPrivateKeyInput], or a description of a
	// malformed line.
	Err error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }

// Reasons a line is skipped or rejected by [ParseSSHKeys].
var (
	// ErrRevokedKey: a known_hosts line marked @revoked; its key must not
	// become a recipient.
	ErrRevokedKey = errors.New("key is marked @revoked: skipped")
	// ErrCertAuthorityKey: a known_hosts line marked @cert-authority holds
	// the key of a certificate authority, not of a host.
	ErrCertAuthorityKey = errors.New("key is a @cert-authority key, not a host key: skipped")
	// ErrPrivateKeyInput: the input is a private key, not public keys.
	ErrPrivateKeyInput = errors.New("this is a private key, not a public key")
	// errNotKeyLine: the line holds no SSH public key.
	errNotKeyLine = errors.New("not an SSH public key line")
)

// ParseSSHKeys reads SSH public keys in any of the usual line formats and
// converts each ssh-ed25519 key to age, in input order:
//
//   - .pub files and authorized_keys lines: [options] TYPE BASE64 [comment];
//   - known_hosts lines: [@marker] HOSTS TYPE BASE64 [comment], with HOSTS a
//     comma list of names, [host]:port forms or a hashed |1|… entry;
//   - ssh-keyscan output (known_hosts lines with # comment lines).
//
// Blank lines and # comments are ignored. Keys of other types, and
// @revoked/@cert-authority lines, are returned in skipped as [*LineError]s;
// malformed lines are joined into err (each an [*LineError]) and the other
// lines are still returned. Input that is a private key gives a single
// [ErrPrivateKeyInput] error.
func ParseSSHKeys(data []byte) (keys []SSHKey, skipped []error, err error) {
	var bad []error
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	for i, raw := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		line := string(bytes.TrimSpace(raw))
		if line == "" || line[0] == '#' {
			continue
		}
		if isPEMBegin(line) {
			if bytes.Contains([]byte(line), []byte("PRIVATE KEY")) {
				return nil, nil, &LineError{Line: n, Err: ErrPrivateKeyInput}
			}
			return nil, nil, &LineError{Line: n, Err: errors.New("PEM-armoured data is not an SSH public key line")}
		}
		if line == "---- BEGIN SSH2 PUBLIC KEY ----" {
			return nil, nil, &LineError{Line: n, Err: errors.New("RFC 4716 (SSH2) public keys are not supported: convert with 'ssh-keygen -i -f FILE'")}
		}
		k, perr := parseSSHKeyLine(line)
		var le *LineError
		switch {
		case perr == nil:
			k.Line = n
			keys = append(keys, k)
		case errors.As(perr, &le):
			le.Line = n
			skipped = append(skipped, le)
		default:
			bad = append(bad, &LineError{Line: n, Err: perr})
		}
	}
	return keys, skipped, errors.Join(bad...)
}

func isPEMBegin(line string) bool {
	return len(line) > 11 && line[:11] == "-----BEGIN "
}

// parseSSHKeyLine parses one non-blank, non-comment line. A line that is
// well-formed but cannot be converted gives a *LineError (without line
// number); a malformed line gives any other error.
func parseSSHKeyLine(line string) (SSHKey, error) {
	fields := splitKeyLine(line)
	at, blob := -1, []byte(nil)
	for i := 0; i+1 < len(fields) && i <= 2; i++ {
		if !isKeyTypeName(fields[i]) {
			continue
		}
		b, ok := decodeKeyBlob(fields[i+1])
		if !ok {
			continue
		}
		typ, _, ok := sshString(b)
		if !ok {
			continue
		}
		if string(typ) != fields[i] {
			if isKeyTypeName(string(typ)) {
				return SSHKey{}, fmt.Errorf("key type %q does not match its key data (%q)", fields[i], string(typ))
			}
			continue
		}
		at, blob = i, b
		break
	}
	if at < 0 {
		for i := 0; i < len(fields) && i <= 2; i++ {
			if looksLikeKeyType(fields[i]) {
				return SSHKey{}, fmt.Errorf("malformed %s key: missing or invalid key data", quoteKeyType(fields[i]))
			}
		}
		return SSHKey{}, errNotKeyLine
	}
	typ := fields[at]
	prefix := fields[:at]
	comment := strings.Join(fields[at+2:], " ")

	marker := ""
	if len(prefix) > 0 && strings.HasPrefix(prefix[0], "@") {
		marker = prefix[0]
		prefix = prefix[1:]
		if marker != "@revoked" && marker != "@cert-authority" {
			return SSHKey{}, fmt.Errorf("unknown known_hosts marker %q", truncateForMessage(marker))
		}
		if len(prefix) == 0 {
			return SSHKey{}, fmt.Errorf("%s line without host patterns", marker)
		}
	}
	if len(prefix) > 1 {
		return SSHKey{}, errors.New("unexpected fields before the key type")
	}

	label := comment
	if len(prefix) == 1 && (marker != "" || !looksLikeAuthorizedKeysOptions(prefix[0])) {
		// known_hosts or ssh-keyscan: the host field names the key,
		// unless it is hashed.
		if !strings.HasPrefix(prefix[0], "|") {
			label = prefix[0]
		}
	}

	pub, err := ssh.ParsePublicKey(blob)
	if err != nil {
		if knownKeyTypes[typ] {
			return SSHKey{}, fmt.Errorf("malformed %s key data", quoteKeyType(typ))
		}
		return SSHKey{}, &LineError{Type: typ, Err: &UnsupportedKeyError{Type: typ}}
	}
	switch marker {
	case "@revoked":
		return SSHKey{}, &LineError{Type: typ, Err: ErrRevokedKey}
	case "@cert-authority":
		return SSHKey{}, &LineError{Type: typ, Err: ErrCertAuthorityKey}
	}
	if pub.Type() != ssh.KeyAlgoED25519 {
		return SSHKey{}, &LineError{Type: pub.Type(), Err: &UnsupportedKeyError{Type: pub.Type()}}
	}
	recipient, err := SSHPublicKeyToAge(pub)
	if err != nil {
		return SSHKey{}, err
	}
	return SSHKey{
		Label:       label,
		SSHType:     pub.Type(),
		Fingerprint: ssh.FingerprintSHA256(pub),
		Age:         recipient,
		Key:         pub,
	}, nil
}

// knownKeyTypes are the key types golang.org/x/crypto/ssh parses: a parse
// failure for one of them means the key data is corrupt.
var knownKeyTypes = map[string]bool{
	ssh.KeyAlgoRSA: true, ssh.KeyAlgoDSA: true, ssh.KeyAlgoED25519: true,
	ssh.KeyAlgoECDSA256: true, ssh.KeyAlgoECDSA384: true, ssh.KeyAlgoECDSA521: true,
	ssh.KeyAlgoSKECDSA256: true, ssh.KeyAlgoSKED25519: true,
	ssh.CertAlgoRSAv01: true, ssh.CertAlgoDSAv01: true, ssh.CertAlgoED25519v01: true,
	ssh.CertAlgoECDSA256v01: true, ssh.CertAlgoECDSA384v01: true, ssh.CertAlgoECDSA521v01: true,
	ssh.CertAlgoSKECDSA256v01: true, ssh.CertAlgoSKED25519v01: true,
}

// looksLikeKeyType reports whether s is plausibly an SSH key type name.
func looksLikeKeyType(s string) bool {
	if knownKeyTypes[s] {
		return true
	}
	return isKeyTypeName(s) && (strings.HasPrefix(s, "ssh-") || strings.HasPrefix(s, "ecdsa-") || strings.HasPrefix(s, "sk-"))
}

// quoteKeyType quotes s for a message if it is a key type name.
func quoteKeyType(s string) string {
	if isKeyTypeName(s) {
		return fmt.Sprintf("%q", s)
	}
	return "SSH"
}

// decodeKeyBlob decodes the base64 key data field.
func decodeKeyBlob(s string) ([]byte, bool) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	return nil, false
}

// authorizedKeysOptions are the option keywords of sshd(8) AUTHORIZED_KEYS
// FILE FORMAT that take no value.
var authorizedKeysOptions = map[string]bool{
	"agent-forwarding": true, "cert-authority": true, "no-agent-forwarding": true,
	"no-port-forwarding": true, "no-pty": true, "no-user-rc": true,
	"no-x11-forwarding": true, "port-forwarding": true, "pty": true,
	"no-touch-required": true, "restrict": true, "touch-required": true,
	"user-rc": true, "verify-required": true, "x11-forwarding": true,
}

// looksLikeAuthorizedKeysOptions tells an authorized_keys options field from
// a known_hosts host field: options have "=" or quotes (which no host
// pattern has) or are option keywords.
func looksLikeAuthorizedKeysOptions(s string) bool {
	if strings.ContainsAny(s, "=\"") {
		return true
	}
	for _, o := range strings.Split(s, ",") {
		if authorizedKeysOptions[strings.ToLower(o)] {
			return true
		}
	}
	return false
}

// splitKeyLine splits a line into fields at spaces and tabs, keeping
// double-quoted runs (authorized_keys options such as command="a b")
// together; a backslash escapes a quote inside quotes.
func splitKeyLine(line string) []string {
	var fields []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(line) && line[i+1] == '"':
			cur.WriteString(`\"`)
			i++
		case c == '"':
			inQuote = !inQuote
			cur.WriteByte(c)
			have = true
		case !inQuote && (c == ' ' || c == '\t'):
			if have {
				fields = append(fields, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		fields = append(fields, cur.String())
	}
	return fields
}
