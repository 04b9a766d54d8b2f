package sopsfile

import (
	"fmt"

	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/azkv"
	"github.com/getsops/sops/v3/gcpkms"
	"github.com/getsops/sops/v3/hckms"
	"github.com/getsops/sops/v3/hcvault"
	"github.com/getsops/sops/v3/keys"
	"github.com/getsops/sops/v3/kms"
	"github.com/getsops/sops/v3/pgp"
)

// copyMasterKey returns a fresh master key with the settings of mk and no
// encrypted data key, so that one loaded key can be encrypted to many times
// (and from several goroutines) without sharing state.
func copyMasterKey(mk keys.MasterKey) (keys.MasterKey, error) {
	switch k := mk.(type) {
	case *sopsage.MasterKey:
		return sopsage.MasterKeyFromRecipient(k.Recipient)
	case *pgp.MasterKey:
		return pgp.NewMasterKeyFromFingerprint(k.Fingerprint), nil
	case *kms.MasterKey:
		ctx := make(map[string]*string, len(k.EncryptionContext))
		for key, v := range k.EncryptionContext {
			ctx[key] = v
		}
		return kms.NewMasterKeyWithProfile(k.Arn, k.Role, ctx, k.AwsProfile), nil
	case *gcpkms.MasterKey:
		return gcpkms.NewMasterKeyFromResourceID(k.ResourceID), nil
	case *azkv.MasterKey:
		return azkv.NewMasterKey(k.VaultURL, k.Name, k.Version), nil
	case *hcvault.MasterKey:
		return hcvault.NewMasterKey(k.VaultAddress, k.EnginePath, k.KeyName), nil
	case *hckms.MasterKey:
		return hckms.NewMasterKey(k.KeyID)
	}
	return nil, fmt.Errorf("unsupported key type %q", mk.TypeToIdentifier())
}
