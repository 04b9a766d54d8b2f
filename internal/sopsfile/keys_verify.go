package sopsfile

import (
	"errors"
	"strings"

	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/cmd/sops/common"
)

// ErrMAC reports a file whose values do not match its mac: it was changed
// outside sops (a hand edit), and sops would refuse to decrypt it.
var ErrMAC = errors.New("the values do not match the file's mac (changed outside sops?)")

// ErrNoMAC reports a file whose sops metadata has no mac at all: sops
// refuses to decrypt it, whatever its values.
var ErrNoMAC = errors.New("the sops metadata has no mac: sops refuses to decrypt the file")

// decryptError is the error for a failed common.DecryptTree of f: sops'
// own message quotes the computed mac (a hash of the plaintext), so it is
// never passed on.
func decryptError(f *File, err error) error {
	switch {
	case f.MAC == "":
		return ErrNoMAC
	case strings.Contains(err.Error(), "MAC"):
		return ErrMAC
	}
	return errors.New("cannot decrypt the values with the data key")
}

// VerifyMAC decrypts every value of f (whose text is data) in memory with
// its data key, as `sops decrypt` does, and checks the file's mac. Nothing
// is written and the plaintext is dropped; errors never quote a value or
// the computed mac.
func (o *Opener) VerifyMAC(f *File, data, key []byte) error {
	_, tree, err := loadTree(f, data, "")
	if err != nil {
		return err
	}
	tree.Metadata.DataKey = key
	_, err = common.DecryptTree(common.DecryptTreeOpts{Tree: &tree, KeyServices: o.services, Cipher: aes.NewCipher()})
	tree.Branches = nil
	if err != nil {
		return decryptError(f, err)
	}
	return nil
}
