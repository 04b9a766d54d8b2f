package sopsfile

import (
	"testing"
	"time"

	"github.com/getsops/sops/v3/azkv"
	"github.com/getsops/sops/v3/gcpkms"
	"github.com/getsops/sops/v3/hckms"
	"github.com/getsops/sops/v3/hcvault"
	"github.com/getsops/sops/v3/keys"
	"github.com/getsops/sops/v3/kms"
	"github.com/getsops/sops/v3/pgp"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// TestNewStanzasEveryType adds entries of every key type, built from sops'
// own master keys as the key service returns them, and checks that sops'
// stores read them back with the same identity (ToString) and enc.
func TestNewStanzasEveryType(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ctxV := "prod"
	mks := []keys.MasterKey{
		&kms.MasterKey{Arn: "arn:aws:kms:us-east-1:111122223333:key/abcd", Role: "arn:aws:iam::111122223333:role/sops",
			EncryptionContext: map[string]*string{"env": &ctxV}, AwsProfile: "ops", EncryptedKey: "kms-enc", CreationDate: created},
		&kms.MasterKey{Arn: "arn:aws:kms:eu-west-1:111122223333:key/plain", EncryptedKey: "kms-enc-2", CreationDate: created},
		&gcpkms.MasterKey{ResourceID: "projects/p/locations/global/keyRings/r/cryptoKeys/k", EncryptedKey: "gcp-enc", CreationDate: created},
		&azkv.MasterKey{VaultURL: "https://v.vault.azure.net", Name: "sops", Version: "abc123", EncryptedKey: "az-enc", CreationDate: created},
		&hcvault.MasterKey{VaultAddress: "https://vault:8200", EnginePath: "transit", KeyName: "sops", EncryptedKey: "vault:v1:x", CreationDate: created},
		&pgp.MasterKey{Fingerprint: "0123456789ABCDEF0123456789ABCDEF01234567", EncryptedKey: "-----BEGIN PGP MESSAGE-----\n\nabc\n-----END PGP MESSAGE-----", CreationDate: created},
		&hckms.MasterKey{KeyID: "tr-west-1:1234-5678", EncryptedKey: "hc-enc", CreationDate: created},
	}
	var enc []EncryptedStanza
	for _, mk := range mks {
		enc = append(enc, EncryptedStanza{
			Key:    recipients.Key{Type: recipients.KeyType(mk.TypeToIdentifier()), ID: mk.ToString()},
			Enc:    string(mk.EncryptedDataKey()),
			Fields: mk.ToMap(),
			mk:     mk,
		})
	}
	k1 := genAgeKey(t)
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			data := sopsEncrypt(t, name, plaintexts[name], "", k1.rcp)
			f := mustParse(t, name, data)
			out, err := AddStanzas(f, data, NewStanzas(0, enc))
			if err != nil {
				t.Fatal(err)
			}
			sopsAgrees(t, name, out)
			of := mustParse(t, name, out)
			if n := len(of.Groups[0]); n != len(mks)+1 {
				t.Fatalf("%d entries, want %d", n, len(mks)+1)
			}
			for _, s := range of.Groups[0] {
				if s.Problem != "" {
					t.Errorf("%s: %s", s.Key, s.Problem)
				}
			}
			// And away again, leaving the original.
			var ks []recipients.Key
			for _, e := range enc {
				ks = append(ks, e.Key)
			}
			back, err := RemoveStanzas(of, out, ks)
			if err != nil {
				t.Fatal(err)
			}
			if string(back) != string(data) {
				t.Fatalf("add then remove is not the original:\n%s\n---\n%s", back, data)
			}
		})
	}
}
