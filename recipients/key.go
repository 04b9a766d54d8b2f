package recipients

// KeyType names a kind of sops master key. The values are the metadata keys
// sops uses for stanzas of that kind in encrypted files.
type KeyType string

// The key types sops v3.13 knows.
const (
	TypeAge     KeyType = "age"
	TypePGP     KeyType = "pgp"
	TypeKMS     KeyType = "kms"
	TypeGCPKMS  KeyType = "gcp_kms"
	TypeAzureKV KeyType = "azure_kv"
	TypeVault   KeyType = "hc_vault"
	TypeHCKMS   KeyType = "hckms"
)

// Key identifies one recipient the way sops compares them (common.DiffKeyGroups
// compares ToString() of master keys): by type and identifier.
//
// ID is what sops' ToString returns: the age recipient ("age1…" or
// "ssh-ed25519 AAAA…"), the PGP fingerprint, the KMS ARN (with "+role" when a
// role is set), the GCP KMS resource ID, "VAULTURL/keys/NAME/VERSION" for
// Azure Key Vault, "ADDRESS/v1/ENGINE/keys/NAME" for Vault, the HC KMS key ID.
type Key struct {
	Type KeyType
	ID   string
}

// String returns "type:id".
func (k Key) String() string { return string(k.Type) + ":" + k.ID }
