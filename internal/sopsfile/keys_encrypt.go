package sopsfile

import (
	"crypto/rand"
	"fmt"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/cmd/sops/common"
	"github.com/getsops/sops/v3/version"

	"github.com/sopsfleet/sopsfleet/internal/secretguard"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// EncryptNew encrypts a plaintext document of the given format to groups
// (several groups: Shamir with threshold), as `sops encrypt` does with its
// default settings (unencrypted suffix "_unencrypted"). It exists for tests
// and the benchmark, which need many realistic encrypted files quickly.
// Only age and PGP recipients are supported.
func (o *Opener) EncryptNew(format Format, plain []byte, groups [][]recipients.Key, threshold int) ([]byte, error) {
	store, err := storeFor(format, "")
	if err != nil {
		return nil, err
	}
	branches, err := store.LoadPlainFile(plain)
	if err != nil {
		// sops' message can quote a line of the plaintext: not repeated.
		return nil, fmt.Errorf("sops cannot load the plaintext as %s", format)
	}
	rs, err := ResolveRecipients(groups, "", "", nil, nil)
	if err != nil {
		return nil, err
	}
	dataKey := make([]byte, dataKeySize)
	if _, err := rand.Read(dataKey); err != nil {
		return nil, err
	}
	defer clear(dataKey)
	parts, err := SplitDataKey(dataKey, len(rs), threshold)
	if err != nil {
		return nil, err
	}
	enc, err := o.EncryptGroups(rs, parts)
	if err != nil {
		return nil, err
	}
	tree := sops.Tree{
		Branches: branches,
		Metadata: sops.Metadata{
			KeyGroups:         toKeyGroups(enc),
			ShamirThreshold:   thresholdFor(threshold, len(groups)),
			UnencryptedSuffix: "_unencrypted",
			Version:           version.Version,
			DataKey:           dataKey,
		},
	}
	if err := common.EncryptTree(common.EncryptTreeOpts{Tree: &tree, Cipher: aes.NewCipher(), DataKey: dataKey}); err != nil {
		return nil, secretguard.ScrubStoreError(err, nil)
	}
	out, err := store.EmitEncryptedFile(tree)
	return out, secretguard.ScrubStoreError(err, nil)
}
