package audit

import (
	"bytes"
	"encoding/base64"
	"strings"

	"filippo.io/age/armor"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// ageHeader begins every age file (age-encryption.org/v1 format).
const ageHeader = "age-encryption.org/v1\n"

// encProblem says what is wrong with the enc field of an entry, read as
// sops reads it when it decrypts: an armored age file (age keysource), an
// armored PGP message, base64 (AWS and GCP KMS). "" when it is well-formed
// or of a type whose enc has no checkable shape. Nothing is decrypted.
func encProblem(s *sopsfile.Stanza) string {
	enc := s.Enc
	switch s.Key.Type {
	case recipients.TypeAge:
		if !strings.HasPrefix(strings.TrimLeft(enc, " \t\r\n"), armor.Header) {
			return "enc is not an armored age file"
		}
		if !ageArmored(enc) {
			return "enc is not a valid armored age file"
		}
	case recipients.TypePGP:
		t := strings.TrimSpace(enc)
		if !strings.HasPrefix(t, "-----BEGIN PGP MESSAGE-----") || !strings.HasSuffix(t, "-----END PGP MESSAGE-----") {
			return "enc is not an armored PGP message"
		}
	case recipients.TypeKMS, recipients.TypeGCPKMS:
		if _, err := base64.StdEncoding.DecodeString(enc); err != nil {
			return "enc is not base64"
		}
	}
	return ""
}

var strictBase64 = base64.StdEncoding.Strict()

// ageArmored reports whether enc is an armored age file as age's
// armor.NewReader reads it (header line, lines of 64 base64 characters
// but the last, footer line, only whitespace around) whose content begins
// with the age header. It is that reader's checks without its 4 KiB buffer
// per call, which made check a fifth slower.
func ageArmored(enc string) bool {
	rest := strings.TrimSpace(enc)
	line, rest := cutLine(rest)
	if line != armor.Header {
		return false
	}
	var src [64]byte
	var dst [48]byte
	for first := true; ; first = false {
		if rest == "" {
			return false // no footer
		}
		line, rest = cutLine(rest)
		if line == armor.Footer {
			return !first && rest == ""
		}
		if line == "" || len(line) > len(src) {
			return false
		}
		n := len(dst)
		if first || len(line) < len(src) || !base64Line(line) {
			// The first line (its content must begin with the age
			// header), a short line (padding), or anything odd: decoded.
			var err error
			n, err = strictBase64.Decode(dst[:], src[:copy(src[:], line)])
			if err != nil || first && !bytes.HasPrefix(dst[:n], []byte(ageHeader)) {
				return false
			}
		}
		if n < len(dst) {
			// A short line is the last: the footer follows.
			line, rest = cutLine(rest)
			return line == armor.Footer && rest == ""
		}
	}
}

// base64Line reports whether line is made of the 64 characters of
// standard base64 only: a full line of them decodes, strictly, to 48 bytes
// (no padding, no leftover bits), so it need not be decoded to be checked.
func base64Line(line string) bool {
	for i := 0; i < len(line); i++ {
		if !isBase64[line[i]] {
			return false
		}
	}
	return true
}

var isBase64 = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" {
		t[c] = true
	}
	return t
}()

// cutLine splits s after its first line, without the "\n" or "\r\n".
func cutLine(s string) (line, rest string) {
	line, rest, _ = strings.Cut(s, "\n")
	return strings.TrimSuffix(line, "\r"), rest
}

// checkEncs sets the Problem of every entry whose enc is malformed.
func checkEncs(f *sopsfile.File) {
	for _, g := range f.Groups {
		for i := range g {
			if g[i].Problem == "" && g[i].Enc != "" {
				if p := encProblem(&g[i]); p != "" {
					g[i].Problem = p
				}
			}
		}
	}
}
