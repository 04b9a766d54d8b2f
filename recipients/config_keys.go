package recipients

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/plugin"
)

// This file turns the strings and objects written in .sops.yaml into [Key]
// values exactly as sops v3.13 builds master keys from them, so that Key.ID
// equals the master key's ToString(). Invalid values give an error, as they
// make sops refuse to load the rule.

// ageKeyFromConfig mirrors age.MasterKeyFromRecipient in sops: the value is
// trimmed and must parse as an X25519, hybrid (post-quantum), plugin or SSH
// recipient.
func ageKeyFromConfig(s string) (Key, error) {
	s = strings.TrimSpace(s)
	k := Key{Type: TypeAge, ID: s}
	if err := checkAgeRecipientLikeSops(s); err != nil {
		return k, err
	}
	return k, nil
}

// checkAgeRecipientLikeSops is sops' age parseRecipient. The error names
// the kind of recipient and quotes the value once.
func checkAgeRecipientLikeSops(s string) error {
	kind, err := parseAgeRecipientLikeSops(s)
	if err == nil {
		return nil
	}
	if s != "" && strings.Contains(err.Error(), s) {
		// age's own message already quotes the value.
		return fmt.Errorf("invalid %s recipient: %w", kind, err)
	}
	return fmt.Errorf("invalid %s recipient %q: %w", kind, s, err)
}

// errUnknownRecipientType is the cause when a value has none of the prefixes
// sops knows (a template placeholder such as "${AGE_KEY}", a typo).
var errUnknownRecipientType = errors.New("unknown recipient type (want age1…, age1pq1… or ssh-…)")

// parseAgeRecipientLikeSops parses s as sops does and returns the kind of
// recipient it was taken for and age's error, if any.
func parseAgeRecipientLikeSops(s string) (kind string, err error) {
	switch {
	case strings.HasPrefix(s, "age1pq1"):
		_, err = age.ParseHybridRecipient(s)
		return "age", err
	case strings.HasPrefix(s, "age1") && strings.Count(s, "1") > 1:
		_, err = plugin.NewRecipient(s, nil)
		return "age plugin", err
	case strings.HasPrefix(s, "age1"):
		_, err = age.ParseX25519Recipient(s)
		return "age", err
	case strings.HasPrefix(s, "ssh-"):
		_, err = agessh.ParseRecipient(s)
		return "ssh", err
	default:
		return "age", errUnknownRecipientType
	}
}

// pgpKeyFromConfig mirrors pgp.NewMasterKeyFromFingerprint: spaces removed.
func pgpKeyFromConfig(s string) Key {
	return Key{Type: TypePGP, ID: strings.ReplaceAll(s, " ", "")}
}

// gcpKeyFromConfig mirrors gcpkms.NewMasterKeyFromResourceID.
func gcpKeyFromConfig(s string) Key {
	return Key{Type: TypeGCPKMS, ID: strings.ReplaceAll(s, " ", "")}
}

// kmsFlatKeyFromConfig mirrors kms.NewMasterKeyFromArn for the flat form
// (no encryption context; the rule's aws_profile).
func kmsFlatKeyFromConfig(s, profile string) Key {
	arn := strings.ReplaceAll(s, " ", "")
	role := ""
	if i := strings.Index(arn, "+arn:"); i > 0 {
		arn, role = arn[:i], arn[i+1:]
	}
	return Key{Type: TypeKMS, ID: kmsID(arn, role, nil, profile)}
}

// kmsID is kms.MasterKey.ToString.
func kmsID(arn, role string, context map[string]*string, profile string) string {
	id := arn
	if role != "" {
		id = arn + "+" + role
	}
	ctx := ""
	if len(context) > 0 {
		names := make([]string, 0, len(context))
		for k := range context {
			names = append(names, k)
		}
		sort.Strings(names)
		parts := make([]string, 0, len(names))
		for _, k := range names {
			v := ""
			if context[k] != nil {
				v = *context[k]
			}
			parts = append(parts, k+":"+v)
		}
		ctx = strings.Join(parts, ",")
	}
	if profile != "" {
		return id + "|" + ctx + "|" + profile
	}
	if ctx != "" {
		return id + "|" + ctx
	}
	return id
}

var azureURLRe = regexp.MustCompile("^(https://[^/]+)/keys/([^/]+)(/[^/]*)?$")

// azureFlatKeyFromConfig mirrors azkv.NewMasterKeyFromURL. A URL without a
// version makes sops ask Azure for the latest version; the ID then ends in
// "/" here.
func azureFlatKeyFromConfig(s string) (Key, error) {
	s = strings.TrimSpace(s)
	parts := azureURLRe.FindStringSubmatch(s)
	if len(parts) < 3 {
		return Key{Type: TypeAzureKV, ID: s}, fmt.Errorf("invalid azure key vault URL %q: want https://VAULT/keys/NAME/VERSION", s)
	}
	version := ""
	if len(parts[3]) > 1 {
		version = parts[3][1:]
	}
	return Key{Type: TypeAzureKV, ID: azureID(parts[1], parts[2], version)}, nil
}

// azureID is azkv.MasterKey.ToString.
func azureID(vaultURL, name, version string) string {
	return fmt.Sprintf("%s/keys/%s/%s", vaultURL, name, version)
}

var (
	vaultPrefixedRe = regexp.MustCompile(`/[^/]+/v[\d]+/[^/]+/[^/]+/[^/]+`)
	vaultPathRe     = regexp.MustCompile(`/v[\d]+/[^/]+/[^/]+/[^/]+`)
)

// vaultKeyFromConfig mirrors hcvault.NewMasterKeyFromURI and ToString.
func vaultKeyFromConfig(uri string) (Key, error) {
	k := Key{Type: TypeVault, ID: uri}
	if uri == "" {
		return k, fmt.Errorf("empty vault transit URI")
	}
	u, err := url.Parse(uri)
	if err != nil {
		return k, fmt.Errorf("invalid vault transit URI %q: %w", uri, err)
	}
	if u.Scheme == "" {
		return k, fmt.Errorf("invalid vault transit URI %q: missing scheme (want https://vault.example.com:8200/v1/transit/keys/NAME)", uri)
	}
	full := u.RequestURI()
	if vaultPrefixedRe.MatchString(full) {
		return k, fmt.Errorf("invalid vault transit URI %q: a prefixed vault URL is not supported by sops", uri)
	}
	if !vaultPathRe.MatchString(full) {
		return k, fmt.Errorf("invalid vault transit URI %q: want https://vault.example.com:8200/v1/transit/keys/NAME", uri)
	}
	dirs := strings.Split(strings.Trim(full, "/"), "/")
	keyName := dirs[len(dirs)-1]
	engine := path.Join(dirs[1 : len(dirs)-2]...)
	u.Path = ""
	k.ID = fmt.Sprintf("%s/v1/%s/keys/%s", u.String(), engine, keyName)
	return k, nil
}

// hckmsKeyFromConfig mirrors hckms.NewMasterKey: the ID is kept as given, and
// must be "region:key-uuid".
func hckmsKeyFromConfig(keyID string) (Key, error) {
	k := Key{Type: TypeHCKMS, ID: keyID}
	parts := strings.SplitN(strings.TrimSpace(keyID), ":", 2)
	if len(parts) != 2 || strings.TrimSpace(parts[0]) == "" || strings.TrimSpace(parts[1]) == "" {
		return k, fmt.Errorf("invalid hckms key ID %q: want region:key-uuid", keyID)
	}
	return k, nil
}
