package recipients

// CONTRACT (issue 3 owns this file): the types below are the agreed shape of
// the .sops.yaml model that updatekeys (issue 4) and check/report (issue 5)
// build on. The owner may add fields and methods, and must keep these. The
// function bodies here are placeholders until the model lands.

import "errors"

// ErrNoRule reports that no creation rule matches a file (sops: "no matching
// creation rules found").
var ErrNoRule = errors.New("no matching creation rules found")

// Config is a parsed .sops.yaml: its creation rules resolved as sops v3.13
// resolves them, and every recipient with the name the user gave it.
type Config struct {
	// Path is the file as given; Dir is the absolute folder it is in: paths
	// are matched against path_regex relative to Dir, as sops does.
	Path string
	Dir  string
	// Rules are the creation_rules in file order.
	Rules []*Rule
	// Anchors are the anchors defined anywhere in the file.
	Anchors []*Anchor
	// UnknownTopLevel lists top-level keys sops ignores, other than the
	// conventional "keys" (for lint).
	UnknownTopLevel []Field
}

// Rule is one creation rule.
type Rule struct {
	Index int // position in creation_rules, from 0
	Line  int // line of the rule's first key
	// PathRegex is the rule's path_regex; HasPathRegex is false when the key
	// is absent (the rule then matches every file, as in sops).
	PathRegex    string
	HasPathRegex bool
	PathLine     int   // line of path_regex, 0 when absent
	RegexErr     error // compile error of PathRegex, nil when valid
	// KeyGroupsForm is true when the rule has key_groups (flat fields are
	// then ignored by sops).
	KeyGroupsForm bool
	// FlatAlsoSet is true when key_groups is used and flat recipient fields
	// are present as well (they are ignored: a lint finding).
	FlatAlsoSet bool
	// Groups are the key groups sops would build (flat form: one group).
	Groups []Group
	// ShamirThreshold as written; 0 when absent.
	ShamirThreshold int
	ShamirLine      int
	// Encryption settings, for the plaintext check.
	EncryptedRegex, UnencryptedRegex   string
	EncryptedSuffix, UnencryptedSuffix string
	EncryptedCommentRegex              string
	UnencryptedCommentRegex            string
	MACOnlyEncrypted                   bool
	// UnknownKeys are keys of the rule mapping sops ignores (typos such as
	// "path-regex", or "filename_regex").
	UnknownKeys []Field
}

// Group is one key group. Members are in the order sops builds the group
// (merge first, then age, pgp, kms, gcp_kms, hckms, azure_keyvault,
// hc_vault), de-duplicated where sops de-duplicates (key_groups only).
type Group struct {
	Line    int // line of the group mapping (flat form: the rule's line)
	Members []Member
	// Duplicates are members that sops dropped as duplicates (key_groups)
	// or that appear twice (flat form, which sops does not de-duplicate).
	Duplicates []Member
}

// Member is one recipient in a group.
type Member struct {
	Key  Key
	Name string // anchor name, else trailing-comment name, else ""
	Line int    // line where the value is written (the alias or literal)
	// DefLine is the line of the anchor definition, or Line for a literal.
	DefLine int
	// Err is set when the value is not a valid recipient of its type (e.g.
	// a bad bech32 checksum); sops would refuse to load the config.
	Err error
}

// Anchor is a YAML anchor and where it is used.
type Anchor struct {
	Name string
	Line int
	// Value is the anchored scalar (a recipient), or "" for a list or map.
	Value string
	// Uses are the lines of the aliases that refer to it.
	Uses []int
}

// Field is a mapping key with its line.
type Field struct {
	Name string
	Line int
}

// LoadConfig reads and parses the .sops.yaml at path.
func LoadConfig(path string) (*Config, error) {
	return nil, errors.New("recipients.LoadConfig: not implemented yet")
}

// ParseConfig parses .sops.yaml text read from path. Errors name path:line.
func ParseConfig(path string, data []byte) (*Config, error) {
	return nil, errors.New("recipients.ParseConfig: not implemented yet")
}

// RuleFor returns the rule sops would use for file (absolute, or relative to
// the working directory): the path relative to c.Dir is matched against each
// rule's path_regex, first match wins. It returns ErrNoRule when none does.
func (c *Config) RuleFor(file string) (*Rule, error) {
	return nil, errors.New("recipients.RuleFor: not implemented yet")
}

// NameOf returns the name the config gives key (anchor or comment), or "".
func (c *Config) NameOf(k Key) string {
	return ""
}
