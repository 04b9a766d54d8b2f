package rekey

import (
	"bytes"
	"encoding/base64"
	"io"
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
		data, err := io.ReadAll(armor.NewReader(strings.NewReader(enc)))
		if err != nil || !bytes.HasPrefix(data, []byte(ageHeader)) {
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
