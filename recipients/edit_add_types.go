package recipients

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file says where [Config.Add] writes a recipient of each kind and how:
// the .sops.yaml field sops reads for that type in a flat rule or in a key
// group, and the value (a string, or for kms, gcp_kms, azure_keyvault and
// hckms in key_groups a mapping).

// addRecipient returns the recipient o adds: o.Recipient when set, else one
// made from o.Key (an age, SSH, PGP, GCP KMS, Vault or hckms key, whose ID is
// what .sops.yaml holds).
func (o AddOptions) addRecipient() (Recipient, error) {
	if o.Recipient.Kind != "" {
		if o.Recipient.Key != o.Key {
			return Recipient{}, fmt.Errorf("internal error: AddOptions.Key %s is not the key of AddOptions.Recipient %s", o.Key, o.Recipient.Key)
		}
		return o.Recipient, nil
	}
	r := Recipient{Kind: KindOf(o.Key), Key: o.Key, Value: o.Key.ID}
	switch o.Key.Type {
	case TypeAge:
		if _, err := ageKeyFromConfig(o.Key.ID); err != nil {
			return Recipient{}, err
		}
	case TypePGP, TypeGCPKMS, TypeVault, TypeHCKMS:
		return ParseRecipient(o.Key.ID, ParseOptions{Kind: r.Kind})
	default:
		return Recipient{}, fmt.Errorf("a %s key needs its settings: give AddOptions.Recipient (from ParseRecipient)", o.Key.Type)
	}
	return r, nil
}

// keyGroupField is the key_groups field of each kind.
var keyGroupField = map[Kind]string{
	KindAge: "age", KindAgePlugin: "age", KindAgePQ: "age", KindSSH: "age",
	KindPGP: "pgp", KindKMS: "kms", KindGCPKMS: "gcp_kms", KindAzureKV: "azure_keyvault",
	KindVault: "hc_vault", KindHCKMS: "hckms",
}

// flatField is the flat-rule field of each kind.
var flatField = map[Kind]string{
	KindAge: "age", KindAgePlugin: "age", KindAgePQ: "age", KindSSH: "age",
	KindPGP: "pgp", KindKMS: "kms", KindGCPKMS: "gcp_kms", KindAzureKV: "azure_keyvault",
	KindVault: "hc_vault_transit_uri", KindHCKMS: "hckms",
}

// FieldFor returns the .sops.yaml field sops reads recipients of kind k
// from: in a key group when keyGroups, else in a flat creation rule.
func FieldFor(k Kind, keyGroups bool) string {
	if keyGroups {
		return keyGroupField[k]
	}
	return flatField[k]
}

// addValue is what is written for a recipient in one field.
type addValue struct {
	field string
	// scalar is the value of a string field; "" when lines is used.
	scalar string
	// lines is a mapping, one "key: value" per line (nested lines indented
	// by two spaces), for a block list item; flow is the same as "{…}".
	lines []string
	flow  string
}

// valueFor returns what Add writes for r in a group of rule.
func valueFor(r Recipient, rule *Rule) (addValue, error) {
	kg := rule.KeyGroupsForm
	v := addValue{field: FieldFor(r.Kind, kg)}
	if v.field == "" {
		return v, fmt.Errorf("unknown recipient kind %q", r.Kind)
	}
	if !kg {
		switch r.Kind {
		case KindKMS:
			if len(r.KMSContext) > 0 {
				return v, fmt.Errorf("rule %d (line %d) lists kms keys as strings, which cannot hold an encryption context: use key_groups, or drop --kms-context", rule.Index+1, rule.Line)
			}
			if r.AWSProfile != rule.awsProfile() {
				return v, fmt.Errorf("rule %d (line %d) sets aws_profile %q for all its kms keys; --aws-profile %q cannot differ there: use key_groups", rule.Index+1, rule.Line, rule.awsProfile(), r.AWSProfile)
			}
			v.scalar = r.Value
			if r.KMSRole != "" {
				v.scalar += "+" + r.KMSRole
			}
		default:
			v.scalar = r.Value
		}
		return v, nil
	}
	var pairs [][2]string
	switch r.Kind {
	case KindKMS:
		pairs = append(pairs, [2]string{"arn", r.Value})
		if r.KMSRole != "" {
			pairs = append(pairs, [2]string{"role", r.KMSRole})
		}
	case KindGCPKMS:
		pairs = append(pairs, [2]string{"resource_id", r.Value})
	case KindAzureKV:
		pairs = append(pairs, [2]string{"vaultUrl", r.AzureVaultURL}, [2]string{"key", r.AzureKeyName}, [2]string{"version", r.AzureKeyVersion})
	case KindHCKMS:
		pairs = append(pairs, [2]string{"key_id", r.Value})
	default:
		v.scalar = r.Value
		return v, nil
	}
	var flow []string
	for _, p := range pairs {
		v.lines = append(v.lines, p[0]+": "+yamlScalar(p[1]))
		flow = append(flow, p[0]+": "+yamlScalar(p[1]))
	}
	if r.Kind == KindKMS && len(r.KMSContext) > 0 {
		v.lines = append(v.lines, "context:")
		var ctx []string
		for _, name := range sortedContext(r.KMSContext) {
			v.lines = append(v.lines, "  "+yamlScalar(name)+": "+yamlScalar(r.KMSContext[name]))
			ctx = append(ctx, yamlScalar(name)+": "+yamlScalar(r.KMSContext[name]))
		}
		flow = append(flow, "context: {"+strings.Join(ctx, ", ")+"}")
	}
	if r.Kind == KindKMS && r.AWSProfile != "" {
		v.lines = append(v.lines, "aws_profile: "+yamlScalar(r.AWSProfile))
		flow = append(flow, "aws_profile: "+yamlScalar(r.AWSProfile))
	}
	v.flow = "{" + strings.Join(flow, ", ") + "}"
	return v, nil
}

// yamlNumber matches plain scalars YAML reads as an int or a float.
var yamlNumber = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// yamlReadsAsNumber reports whether s, written plain, is not a string.
func yamlReadsAsNumber(s string) bool { return yamlNumber.MatchString(s) }

// plainSafe matches strings YAML reads back as the same string when written
// plain, in block and flow context alike.
var plainSafe = regexp.MustCompile(`^[A-Za-z_/][A-Za-z0-9_./:+@=-]*$`)

// yamlScalar writes s as a YAML string: plain when that reads back as the
// same string, else single-quoted.
func yamlScalar(s string) string {
	if plainSafe.MatchString(s) && !yamlReadsAsNumber(s) && !strings.Contains(s, ": ") && !strings.HasSuffix(s, ":") {
		switch strings.ToLower(s) {
		case "null", "true", "false", "yes", "no", "on", "off", "y", "n":
		default:
			return s
		}
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// awsProfile is the rule's aws_profile (flat form: the profile of all its
// kms keys), "" when unset.
func (r *Rule) awsProfile() string {
	if r.node == nil {
		return ""
	}
	ref, ok := structFields(r.node)["aws_profile"]
	if !ok {
		return ""
	}
	if v := deref(ref.val); v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}
