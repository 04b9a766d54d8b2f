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
		if strings.Contains(err.Error(), "MAC") {
			return ErrMAC
		}
		return errors.New("cannot decrypt the values with the data key")
	}
	return nil
}
