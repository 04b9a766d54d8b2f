package sopsfile

import (
	"errors"

	"github.com/getsops/sops/v3"
)

// Selection is a set of sops encryption settings: at most one of the six
// selectors (none: sops' default, unencrypted_suffix "_unencrypted") and
// mac_only_encrypted.
type Selection struct {
	EncryptedRegex, UnencryptedRegex   string
	EncryptedSuffix, UnencryptedSuffix string
	EncryptedCommentRegex              string
	UnencryptedCommentRegex            string
	MACOnlyEncrypted                   bool
}

// ErrSeveralSelectors reports a Selection that sets more than one selector
// (sops refuses to encrypt with it).
var ErrSeveralSelectors = errors.New("cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex")

func (s *Selection) count() int {
	n := 0
	for _, v := range []string{s.EncryptedRegex, s.UnencryptedRegex, s.EncryptedSuffix, s.UnencryptedSuffix, s.EncryptedCommentRegex, s.UnencryptedCommentRegex} {
		if v != "" {
			n++
		}
	}
	return n
}

// apply sets the selection in metadata, with sops' default when it sets no
// selector (as cmd/sops does when it encrypts a new file).
func (s *Selection) apply(m *sops.Metadata) {
	m.EncryptedRegex, m.UnencryptedRegex = s.EncryptedRegex, s.UnencryptedRegex
	m.EncryptedSuffix, m.UnencryptedSuffix = s.EncryptedSuffix, s.UnencryptedSuffix
	m.EncryptedCommentRegex, m.UnencryptedCommentRegex = s.EncryptedCommentRegex, s.UnencryptedCommentRegex
	m.MACOnlyEncrypted = s.MACOnlyEncrypted
	if s.count() == 0 {
		m.UnencryptedSuffix = sops.DefaultUnencryptedSuffix
	}
}

// RotateSelect is [Opener.Rotate] under another encryption selector: the
// values are decrypted in memory with oldKey, the selection replaces the
// file's selector in the metadata, and every value and comment is
// encrypted again with a new data key as the selection says (values the
// file left in plaintext may now be encrypted, and the reverse). This is the
// only way to change a file's selector without a plaintext copy: sops set
// and edit keep the file's own. Nothing is written; plaintext never leaves
// memory.
func (o *Opener) RotateSelect(f *File, data, oldKey []byte, groups [][]Recipient, threshold int, storesConfigPath string, sel Selection) ([]byte, error) {
	if sel.count() > 1 {
		return nil, ErrSeveralSelectors
	}
	if f.Format == FormatBinary {
		return nil, errors.New("a binary file has no selector: its one value is always encrypted")
	}
	return o.rotate(f, data, oldKey, groups, threshold, storesConfigPath, &sel)
}
