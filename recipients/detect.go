package recipients

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/plugin"
	"golang.org/x/crypto/ssh"
)

// This file detects and validates a recipient given on the command line, of
// any type sops v3.13 reads, and says which .sops.yaml field holds it.

// Kind is the form of a recipient, finer than [KeyType]: sops keeps X25519,
// plugin, post-quantum and SSH recipients all under "age", but they differ in
// how the data key is wrapped and which identity opens it.
type Kind string

// The recipient kinds sops v3.13 reads. The values are what --type takes and
// what `recipients list` shows.
const (
	KindAge       Kind = "age"        // age X25519 ("age1…")
	KindAgePlugin Kind = "age-plugin" // age plugin recipient ("age1NAME1…")
	KindAgePQ     Kind = "age-pq"     // age post-quantum hybrid ("age1pq1…")
	KindSSH       Kind = "ssh"        // native SSH ("ssh-ed25519 AAAA…", "ssh-rsa AAAA…")
	KindPGP       Kind = "pgp"        // PGP fingerprint (40 hex digits)
	KindKMS       Kind = "kms"        // AWS KMS key ARN
	KindGCPKMS    Kind = "gcp_kms"    // GCP KMS resource id
	KindAzureKV   Kind = "azure_kv"   // Azure Key Vault key URL
	KindVault     Kind = "hc_vault"   // HashiCorp Vault transit URI
	KindHCKMS     Kind = "hckms"      // HuaweiCloud KMS key id ("region:uuid")
)

// Kinds lists every [Kind], in the order help texts show them.
var Kinds = []Kind{KindAge, KindAgePlugin, KindAgePQ, KindSSH, KindPGP, KindKMS, KindGCPKMS, KindAzureKV, KindVault, KindHCKMS}

// KeyType returns the sops key type a recipient of kind k is stored under.
func (k Kind) KeyType() KeyType {
	switch k {
	case KindAge, KindAgePlugin, KindAgePQ, KindSSH:
		return TypeAge
	case KindPGP:
		return TypePGP
	case KindKMS:
		return TypeKMS
	case KindGCPKMS:
		return TypeGCPKMS
	case KindAzureKV:
		return TypeAzureKV
	case KindVault:
		return TypeVault
	case KindHCKMS:
		return TypeHCKMS
	}
	return ""
}

// ParseKind parses a --type value. "gcp-kms", "azure-kv", "azure_keyvault",
// "vault", "hc-vault", "plugin", "pq" and "age-ssh" are accepted as
// spellings too.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "age", "x25519":
		return KindAge, nil
	case "age-plugin", "plugin":
		return KindAgePlugin, nil
	case "age-pq", "pq", "age1pq":
		return KindAgePQ, nil
	case "ssh", "age-ssh":
		return KindSSH, nil
	case "pgp", "gpg":
		return KindPGP, nil
	case "kms", "aws", "aws-kms", "aws_kms":
		return KindKMS, nil
	case "gcp_kms", "gcp-kms", "gcp":
		return KindGCPKMS, nil
	case "azure_kv", "azure-kv", "azure_keyvault", "azure":
		return KindAzureKV, nil
	case "hc_vault", "hc-vault", "vault", "hc_vault_transit_uri":
		return KindVault, nil
	case "hckms", "huaweicloud":
		return KindHCKMS, nil
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown recipient type %s: want one of %s", QuoteInput(s), strings.Join(names, ", "))
}

// KindOf returns the kind of a key as sops stores it (an age key's form tells
// X25519, plugin, post-quantum and SSH apart).
func KindOf(k Key) Kind {
	switch k.Type {
	case TypeAge:
		switch {
		case strings.HasPrefix(k.ID, "ssh-"):
			return KindSSH
		case strings.HasPrefix(k.ID, "age1pq1"):
			return KindAgePQ
		case strings.HasPrefix(k.ID, "age1") && strings.Count(k.ID, "1") > 1:
			return KindAgePlugin
		}
		return KindAge
	case TypePGP:
		return KindPGP
	case TypeKMS:
		return KindKMS
	case TypeGCPKMS:
		return KindGCPKMS
	case TypeAzureKV:
		return KindAzureKV
	case TypeVault:
		return KindVault
	case TypeHCKMS:
		return KindHCKMS
	}
	return Kind(k.Type)
}

// PluginName returns the plugin of an age plugin recipient ("yubikey" for
// "age1yubikey1…"), or "" for any other key.
func PluginName(k Key) string {
	if KindOf(k) != KindAgePlugin {
		return ""
	}
	i := strings.LastIndexByte(k.ID, '1')
	return k.ID[len("age1"):i]
}

// ParseOptions say how [ParseRecipient] reads a recipient.
type ParseOptions struct {
	// Kind, when set, is the type the recipient must be (--type); else it
	// is detected from the recipient's form.
	Kind Kind
	// KMSRole, KMSContext and AWSProfile are the settings of an AWS KMS
	// key (--kms-role ARN, --kms-context k=v, --aws-profile NAME). They
	// are an error for any other kind.
	KMSRole    string
	KMSContext map[string]string
	AWSProfile string
}

// Recipient is a recipient read by [ParseRecipient]: its key as sops
// compares it, and what is needed to write it into .sops.yaml.
type Recipient struct {
	Kind Kind
	// Key is the key as sops compares it (see [Key]).
	Key Key
	// Value is the string written into .sops.yaml: the recipient, the
	// fingerprint, the ARN, the resource id, the URL or URI, the key id.
	Value string
	// Comment is the comment of an SSH public key ("alice@laptop"), which
	// is not part of the recipient: sops compares recipient strings.
	Comment string
	// KMSRole, KMSContext and AWSProfile are an AWS KMS key's settings.
	KMSRole    string
	KMSContext map[string]string
	AWSProfile string
	// Azure Key Vault: the vault URL, key name and version.
	AzureVaultURL, AzureKeyName, AzureKeyVersion string
}

// LooksLikeHostKey reports whether an SSH recipient looks like a host's key
// rather than a person's: no comment (as ssh-keyscan prints it) or a
// "root@HOST" comment (as /etc/ssh/ssh_host_ed25519_key.pub has). sops-nix
// opens secrets with the age-converted host key, which cannot open native
// SSH stanzas.
func (r Recipient) LooksLikeHostKey() bool {
	if r.Kind != KindSSH {
		return false
	}
	return r.Comment == "" || strings.HasPrefix(r.Comment, "root@")
}

// ErrUnknownForm reports a recipient whose form matches no type; the error
// wrapping it lists the forms.
var ErrUnknownForm = errors.New("unknown recipient form")

var (
	pgpFingerprintRe = regexp.MustCompile(`^[0-9A-Fa-f]{40}$`)
	kmsARNRe         = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_+=,.@-]+$`)
	iamRoleRe        = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9/_+=,.@-]+$`)
	gcpResourceRe    = regexp.MustCompile(`^projects/[^/\s]+/locations/[^/\s]+/keyRings/[^/\s]+/cryptoKeys/[^/\s]+$`)
	bech32LikeRe     = regexp.MustCompile(`^(?i)[a-z0-9]{1,16}1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{40,}$`)
	hckmsIDRe        = regexp.MustCompile(`^[a-z]{2,}-[a-z0-9-]+:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// DetectKind returns the kind of recipient s has the form of, or
// [ErrUnknownForm]. It checks the form only; [ParseRecipient] validates.
func DetectKind(s string) (Kind, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "age1pq1"):
		return KindAgePQ, nil
	case strings.HasPrefix(s, "age1") && strings.Count(s, "1") > 1:
		return KindAgePlugin, nil
	case strings.HasPrefix(s, "age1"):
		return KindAge, nil
	case strings.HasPrefix(s, "ssh-"), strings.HasPrefix(s, "ecdsa-sha2-"), strings.HasPrefix(s, "sk-"):
		return KindSSH, nil
	case pgpFingerprintRe.MatchString(strings.ReplaceAll(s, " ", "")):
		return KindPGP, nil
	case strings.HasPrefix(s, "arn:"):
		return KindKMS, nil
	case strings.HasPrefix(s, "projects/"):
		return KindGCPKMS, nil
	case azureURLRe.MatchString(s):
		return KindAzureKV, nil
	case strings.HasPrefix(s, "https://"), strings.HasPrefix(s, "http://"):
		return KindVault, nil
	case hckmsIDRe.MatchString(s):
		return KindHCKMS, nil
	case bech32LikeRe.MatchString(s):
		// "agf1…": an age recipient with a typo in its prefix.
		return KindAge, nil
	}
	return "", fmt.Errorf("%w: want an age recipient (age1…), an SSH public key (ssh-ed25519 AAAA…), a PGP fingerprint (40 hex digits), an AWS KMS ARN (arn:aws:kms:…), a GCP KMS resource id (projects/…/cryptoKeys/…), an Azure Key Vault key URL (https://VAULT.vault.azure.net/keys/NAME/VERSION), a Vault transit URI (https://HOST:8200/v1/transit/keys/NAME) or an hckms key id (with --type hckms)", ErrUnknownForm)
}

// ParseRecipient reads a recipient of any type sops v3.13 reads, detected
// from its form or given by o.Kind, and validates it as sops would when it
// loads .sops.yaml (and more strictly where sops would only fail later,
// e.g. a bad bech32 checksum of a plugin recipient or an Azure URL without
// a version). Errors quote the input (recipients are public) except when it
// looks like secret key material, which is never repeated.
func ParseRecipient(s string, o ParseOptions) (Recipient, error) {
	if LooksSecret(s) || strings.HasPrefix(strings.ToUpper(strings.TrimSpace(s)), "AGE-PLUGIN-") {
		return Recipient{}, errors.New("this is a secret key or a plugin identity (not repeated here): give its public recipient (age1…, from age-keygen -y or the plugin)")
	}
	s = strings.TrimSpace(s)
	kind := o.Kind
	if kind == "" {
		k, err := DetectKind(s)
		if err != nil {
			return Recipient{}, fmt.Errorf("recipient %s: %w", QuoteInput(s), err)
		}
		kind = k
	}
	if kind != KindKMS && (o.KMSRole != "" || len(o.KMSContext) > 0 || o.AWSProfile != "") {
		return Recipient{}, fmt.Errorf("--kms-role, --kms-context and --aws-profile are for AWS KMS keys, not %s recipients", kind)
	}
	r := Recipient{Kind: kind, Value: s}
	var err error
	switch kind {
	case KindAge:
		err = ValidateAgeRecipient(s)
	case KindAgePlugin:
		err = validatePluginRecipient(s)
	case KindAgePQ:
		if _, e := age.ParseHybridRecipient(s); e != nil {
			err = fmt.Errorf("post-quantum age recipient %q: %v", truncateForMessage(s), e)
		}
	case KindSSH:
		r, err = parseSSHRecipient(s)
	case KindPGP:
		fp := strings.ReplaceAll(s, " ", "")
		if strings.HasPrefix(fp, "0x") || strings.HasPrefix(fp, "0X") {
			fp = fp[2:]
		}
		if !pgpFingerprintRe.MatchString(fp) {
			err = fmt.Errorf("pgp fingerprint %q: want the 40 hex digits of the full fingerprint (gpg --list-keys --with-colons: the fpr line), as sops stores it", truncateForMessage(s))
		}
		r.Value = strings.ToUpper(fp)
		r.Key = Key{Type: TypePGP, ID: r.Value}
	case KindKMS:
		r, err = parseKMSRecipient(s, o)
	case KindGCPKMS:
		if !gcpResourceRe.MatchString(s) {
			err = fmt.Errorf("gcp kms resource id %q: want projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY", truncateForMessage(s))
		}
		r.Key = gcpKeyFromConfig(s)
	case KindAzureKV:
		r, err = parseAzureRecipient(s)
	case KindVault:
		r.Key, err = vaultKeyFromConfig(s)
	case KindHCKMS:
		r.Key, err = hckmsKeyFromConfig(s)
	default:
		_, err = ParseKind(string(kind))
	}
	if err != nil {
		return Recipient{}, err
	}
	if r.Key.Type == "" {
		r.Key = Key{Type: TypeAge, ID: r.Value}
	}
	return r, nil
}

// validatePluginRecipient checks an "age1NAME1…" recipient: bech32 with the
// human-readable part "age1NAME", a plugin name age accepts.
func validatePluginRecipient(s string) error {
	hrp, _, err := bech32Decode(s)
	switch {
	case errors.Is(err, errBech32Checksum):
		return fmt.Errorf("age plugin recipient %q: bad checksum (mistyped or truncated?)", truncateForMessage(s))
	case err != nil:
		return fmt.Errorf("age plugin recipient %q: not bech32: %v", truncateForMessage(s), err)
	case hrp != strings.ToLower(hrp):
		return fmt.Errorf("age plugin recipient %q: must be lower case", truncateForMessage(s))
	case !strings.HasPrefix(hrp, "age1") || len(hrp) == len("age1"):
		return fmt.Errorf("age plugin recipient %q: want age1NAME1…", truncateForMessage(s))
	}
	if _, err := plugin.NewRecipient(s, nil); err != nil {
		return fmt.Errorf("age plugin recipient %q: %v", truncateForMessage(s), err)
	}
	return nil
}

// parseSSHRecipient reads "TYPE BASE64 [COMMENT]": the recipient is type and
// key only, the comment is kept apart.
func parseSSHRecipient(s string) (Recipient, error) {
	pub, comment, _, rest, err := ssh.ParseAuthorizedKey([]byte(s))
	if err != nil {
		return Recipient{}, fmt.Errorf("ssh public key %q: %v", truncateForMessage(s), err)
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return Recipient{}, fmt.Errorf("ssh public key %q: give one key", truncateForMessage(s))
	}
	switch pub.Type() {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoRSA:
	default:
		return Recipient{}, fmt.Errorf("ssh public key %q: %s keys cannot be age recipients (want ssh-ed25519 or ssh-rsa)", truncateForMessage(s), pub.Type())
	}
	value := NativeSSH(pub)
	if _, err := agessh.ParseRecipient(value); err != nil {
		return Recipient{}, fmt.Errorf("ssh public key %q: %v", truncateForMessage(s), err)
	}
	return Recipient{Kind: KindSSH, Value: value, Comment: comment, Key: Key{Type: TypeAge, ID: value}}, nil
}

func parseKMSRecipient(s string, o ParseOptions) (Recipient, error) {
	arn := strings.ReplaceAll(s, " ", "")
	role := o.KMSRole
	if i := strings.Index(arn, "+arn:"); i > 0 {
		if role != "" {
			return Recipient{}, fmt.Errorf("aws kms key %q: a role in the ARN and --kms-role: give one", truncateForMessage(s))
		}
		arn, role = arn[:i], arn[i+1:]
	}
	if !kmsARNRe.MatchString(arn) {
		return Recipient{}, fmt.Errorf("aws kms key %q: want arn:aws:kms:REGION:ACCOUNT:key/ID (or alias/NAME)", truncateForMessage(arn))
	}
	if role != "" && !iamRoleRe.MatchString(role) {
		return Recipient{}, fmt.Errorf("--kms-role %q: want arn:aws:iam::ACCOUNT:role/NAME", truncateForMessage(role))
	}
	var ctx map[string]*string
	if len(o.KMSContext) > 0 {
		ctx = map[string]*string{}
		for k, v := range o.KMSContext {
			if k == "" {
				return Recipient{}, errors.New("--kms-context: empty name")
			}
			v := v
			ctx[k] = &v
		}
	}
	r := Recipient{Kind: KindKMS, Value: arn, KMSRole: role, KMSContext: o.KMSContext, AWSProfile: o.AWSProfile}
	r.Key = Key{Type: TypeKMS, ID: kmsID(arn, role, ctx, o.AWSProfile)}
	return r, nil
}

func parseAzureRecipient(s string) (Recipient, error) {
	parts := azureURLRe.FindStringSubmatch(s)
	if len(parts) < 3 {
		return Recipient{}, fmt.Errorf("azure key vault key %q: want https://VAULT.vault.azure.net/keys/NAME/VERSION", truncateForMessage(s))
	}
	version := ""
	if len(parts[3]) > 1 {
		version = parts[3][1:]
	}
	if version == "" {
		// sops would store the latest version in the file and the config
		// would never match it again (updatekeys every time).
		return Recipient{}, fmt.Errorf("azure key vault key %q: give the key version (https://VAULT/keys/NAME/VERSION; az keyvault key show --query key.kid)", truncateForMessage(s))
	}
	return Recipient{Kind: KindAzureKV, Value: s, AzureVaultURL: parts[1], AzureKeyName: parts[2], AzureKeyVersion: version,
		Key: Key{Type: TypeAzureKV, ID: azureID(parts[1], parts[2], version)}}, nil
}

// ParseKMSContext parses --kms-context values "name=value" (repeatable, or
// comma-separated) into a map.
func ParseKMSContext(values []string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			name, val, ok := strings.Cut(p, "=")
			name = strings.TrimSpace(name)
			if !ok || name == "" {
				return nil, fmt.Errorf("--kms-context %s: want NAME=VALUE", QuoteInput(p))
			}
			out[name] = strings.TrimSpace(val)
		}
	}
	return out, nil
}

// sortedContext returns the names of a KMS context in order.
func sortedContext(ctx map[string]string) []string {
	names := make([]string, 0, len(ctx))
	for k := range ctx {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// SSHTwin returns the ssh-to-age conversion of a native ssh-ed25519
// recipient: the age X25519 recipient the same private key opens (through
// ssh-to-age or sops-nix). ok is false for any other key.
func SSHTwin(k Key) (twin Key, ok bool) {
	if k.Type != TypeAge || !strings.HasPrefix(k.ID, ssh.KeyAlgoED25519+" ") {
		return Key{}, false
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k.ID))
	if err != nil {
		return Key{}, false
	}
	a, err := SSHPublicKeyToAge(pub)
	if err != nil {
		return Key{}, false
	}
	return Key{Type: TypeAge, ID: a}, true
}

// TwinName returns the name the config gives the other form of k's private
// key: for a native ssh-ed25519 recipient, the name of its age conversion;
// for an age recipient, the name of a native ssh-ed25519 recipient of the
// config that converts to it. "" when there is none.
func (c *Config) TwinName(k Key) string {
	if t, ok := SSHTwin(k); ok {
		return c.NameOf(t)
	}
	if KindOf(k) != KindAge {
		return ""
	}
	for _, m := range c.Members() {
		if t, ok := SSHTwin(m.Key); ok && t == k {
			if n := c.NameOf(m.Key); n != "" {
				return n
			}
		}
	}
	return ""
}

// NativeSSH is pub as sops stores a native SSH recipient: "TYPE BASE64",
// without a comment (sops compares recipient strings).
func NativeSSH(pub ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
}
