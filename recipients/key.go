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
// ID is what sops' ToString returns:
//   - age: the recipient ("age1…" or "ssh-ed25519 AAAA…");
//   - pgp: the fingerprint, spaces removed;
//   - kms: "ARN", then "+ROLE_ARN" when a role is set, then "|CONTEXT" when
//     there is an encryption context or a profile, then "|PROFILE" when an
//     AWS profile is set; CONTEXT is "name:value" pairs sorted by name and
//     joined by ",". So "ARN", "ARN+ROLE", "ARN|k:v", "ARN+ROLE|k:v,k2:v2",
//     "ARN||PROFILE" and "ARN+ROLE|k:v|PROFILE" (kms.MasterKey.ToString);
//   - gcp_kms: the resource ID;
//   - azure_kv: "VAULT_URL/keys/NAME/VERSION";
//   - hc_vault: "ADDRESS/v1/ENGINE_PATH/keys/KEY_NAME";
//   - hckms: the key ID ("region:key-uuid").
//
// The config model (.sops.yaml) and internal/sopsfile (encrypted files) build
// the same ID for the same key, so that keys compare equal across them.
type Key struct {
	Type KeyType
	ID   string
}

// String returns "type:id".
func (k Key) String() string { return string(k.Type) + ":" + k.ID }
