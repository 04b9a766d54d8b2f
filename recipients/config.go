package recipients

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrNoRule reports that no creation rule matches a file (sops: "no matching
// creation rules found").
var ErrNoRule = errors.New("no matching creation rules found")

// Config is a parsed .sops.yaml: its creation rules resolved as sops v3.13
// resolves them, and every recipient with the name the user gave it.
//
// Resolution is lenient where sops is strict: a value that is not a valid
// recipient becomes a [Member] with Err set instead of failing the load, so
// that lint can report every problem. Text that is not valid YAML, or whose
// structure sops cannot decode, is an error naming file:line.
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

	data []byte     // the text parsed
	doc  *yaml.Node // the document node
	top  *yaml.Node // the top-level mapping, nil when the document is not one
	// hasRules is false when creation_rules is absent or null: sops then
	// treats the config as if it did not exist.
	hasRules bool
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
	// SettingsErr is set when sops refuses the rule's encryption settings
	// (more than one of the *_suffix / *_regex / *_comment_regex keys).
	SettingsErr error

	re   *regexp.Regexp
	node *yaml.Node // the rule mapping (aliases resolved); nil for a null item

	// filter rejects most paths before re runs (config_match.go).
	filter pathFilter
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

	mapping *yaml.Node          // group mapping (flat form: the rule mapping)
	reads   map[*yaml.Node]bool // every mapping and value node the group is built from
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
	// Field is the .sops.yaml field the value is written in ("age", "pgp",
	// "kms", "gcp_kms", "hckms", "azure_keyvault", "hc_vault" or
	// "hc_vault_transit_uri").
	Field string

	src *source
}

// source says where a member's value is written, for the editor.
type source struct {
	field     string
	item      *yaml.Node // the node as written: an alias, a scalar, a mapping
	val       *yaml.Node // item with the alias resolved
	container *yaml.Node // the sequence holding item (resolved), nil when item is the field's value
	mapping   *yaml.Node // the mapping holding the field
	fieldKey  *yaml.Node // the field's key node
	piece     int        // index in strings.Split(val.Value, ","); -1 when the value is not split
}

// Anchor is a YAML anchor and where it is used.
type Anchor struct {
	Name string
	Line int
	// Value is the anchored scalar (a recipient), or "" for a list or map.
	Value string
	// Uses are the lines of the aliases that refer to it.
	Uses []int

	node *yaml.Node
}

// Field is a mapping key with its line.
type Field struct {
	Name string
	Line int
}

// LoadConfig reads and parses the .sops.yaml at path.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data)
}

// ParseConfig parses .sops.yaml text read from path. Errors name path:line.
func ParseConfig(path string, data []byte) (*Config, error) {
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	c := &Config{Path: path, Dir: dir, data: data}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(path, data, err)
	}
	// Decoding into sops' own shapes finds every error sops' loader finds
	// (types, duplicate fields, bad merges, alias loops) with its lines.
	var mirror sopsConfigFile
	if err := yaml.Unmarshal(data, &mirror); err != nil {
		return nil, yamlError(path, data, err)
	}
	c.doc = &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		if top := deref(doc.Content[0]); top.Kind == yaml.MappingNode {
			c.top = top
		}
	}
	c.collectAnchors()
	if c.top == nil {
		return c, nil
	}
	fields := structFields(c.top)
	for _, k := range explicitKeys(c.top) {
		switch k.Name {
		case "creation_rules", "destination_rules", "stores", "keys":
		default:
			c.UnknownTopLevel = append(c.UnknownTopLevel, k)
		}
	}
	c.hasRules = mirror.CreationRules != nil
	ref, ok := fields["creation_rules"]
	if !ok {
		return c, nil
	}
	seq := deref(ref.val)
	if seq.Kind != yaml.SequenceNode {
		return c, nil
	}
	for _, item := range seq.Content {
		if isNull(deref(item)) {
			continue // yaml decodes a null item of []creationRule as nothing
		}
		r, err := c.resolveRule(len(c.Rules), item)
		if err != nil {
			return nil, err
		}
		c.Rules = append(c.Rules, r)
	}
	c.pieceLines()
	return c, nil
}

// pieceLines sets the line of each entry of a comma-separated value that
// spans several lines (">-" and the like) to the line the entry is on.
func (c *Config) pieceLines() {
	var e *editor
	cache := map[*yaml.Node][]span{}
	for _, r := range c.Rules {
		for gi := range r.Groups {
			g := &r.Groups[gi]
			for _, list := range [][]Member{g.Members, g.Duplicates} {
				for i := range list {
					src := list[i].src
					if src == nil || src.piece < 0 || src.val.Kind != yaml.ScalarNode || (src.val.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 && !strings.Contains(src.val.Value, "\n") && src.val.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0) {
						continue
					}
					if e == nil {
						e = c.newEditor()
					}
					pieces, ok := cache[src.val]
					if !ok {
						_, pieces, _ = e.rawPieces(src.val)
						cache[src.val] = pieces
					}
					if src.piece < len(pieces) {
						l := e.t.lineOf(pieces[src.piece].start)
						list[i].Line = l
						if src.item.Kind != yaml.AliasNode {
							list[i].DefLine = l
						}
					}
				}
			}
		}
	}
}

// yamlError turns a YAML error into "path:line: message".
func yamlError(path string, data []byte, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		line, rest := splitLine(msg)
		rest = plainTypeError(rest)
		more := ""
		if len(te.Errors) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(te.Errors)-1)
		}
		if line > 0 {
			return fmt.Errorf("%s:%d: invalid .sops.yaml: %s%s", path, line, rest, more)
		}
		return fmt.Errorf("%s: invalid .sops.yaml: %s%s", path, msg, more)
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if line, rest := splitLine(msg); line > 0 {
		if parserErrors[rest] {
			// yaml.v3 reports the 0-based line of parser (not scanner)
			// errors.
			line++
		}
		return fmt.Errorf("%s:%d: invalid YAML: %s", path, line, rest)
	}
	return fmt.Errorf("%s:%d: invalid YAML: %s", path, guessErrorLine(msg, data), msg)
}

var typeErrRe = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `(.*)`)? into (\\S+)$")

// plainTypeError says a yaml type error in the words of .sops.yaml: what was
// found and what is wanted there, instead of Go type names ("cannot
// unmarshal !!str `foo` into []recipients.sopsCreationRule" becomes "found
// a string (foo) where a list of creation rules is expected").
func plainTypeError(msg string) string {
	m := typeErrRe.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	tags := map[string]string{"!!str": "a string", "!!seq": "a list", "!!map": "a mapping", "!!int": "a number", "!!float": "a number", "!!bool": "a boolean", "!!null": "null", "!!binary": "binary data", "!!timestamp": "a timestamp"}
	found, ok := tags[m[1]]
	if !ok {
		found = m[1]
	}
	if m[2] != "" {
		found += " (" + m[2] + ")"
	}
	want := strings.TrimPrefix(m[3], "*")
	list := strings.HasPrefix(want, "[]")
	want = strings.TrimPrefix(want, "[]")
	if strings.HasPrefix(want, "map[") {
		return fmt.Sprintf("found %s where a mapping is expected", found)
	}
	names := map[string][2]string{
		"recipients.sopsConfigFile":   {"a mapping of creation_rules and other settings", ""},
		"recipients.sopsCreationRule": {"a creation rule (a mapping)", "creation rules"},
		"recipients.sopsKeyGroup":     {"a key group (a mapping of age, pgp, … lists)", "key groups"},
		"recipients.sopsKMSKey":       {"a kms key (a mapping with arn)", "kms keys (mappings with arn)"},
		"recipients.sopsGCPKMSKey":    {"a gcp_kms key (a mapping with resource_id)", "gcp_kms keys (mappings with resource_id)"},
		"recipients.sopsAzureKVKey":   {"an azure_keyvault key (a mapping with vaultUrl, key, version)", "azure_keyvault keys (mappings with vaultUrl, key, version)"},
		"recipients.sopsHCKMSKey":     {"an hckms key (a mapping with key_id)", "hckms keys (mappings with key_id)"},
		"string":                      {"a string", "strings"},
		"int":                         {"a number", "numbers"},
		"bool":                        {"true or false", "booleans"},
	}
	n, ok := names[want]
	switch {
	case !ok:
		return msg
	case list:
		return fmt.Sprintf("found %s where a list of %s is expected", found, n[1])
	default:
		return fmt.Sprintf("found %s where %s is expected", found, n[0])
	}
}

// parserErrors are the messages of yaml's parser (as opposed to its
// scanner), whose line yaml.v3 reports one too low.
var parserErrors = map[string]bool{
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected node content":     true,
	"did not find expected key":              true,
	"did not find expected '-' indicator":    true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found undefined tag handle":             true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
}

var unknownAnchorRe = regexp.MustCompile(`^unknown anchor '([^']*)' referenced`)

// guessErrorLine finds the line of an error yaml reports without one (an
// unknown anchor: the first line using it), else 1.
func guessErrorLine(msg string, data []byte) int {
	if m := unknownAnchorRe.FindStringSubmatch(msg); m != nil {
		for i, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, "*"+m[1]) {
				return i + 1
			}
		}
	}
	return 1
}

// splitLine splits "line N: rest".
func splitLine(msg string) (int, string) {
	if !strings.HasPrefix(msg, "line ") {
		return 0, msg
	}
	num, rest, ok := strings.Cut(msg[len("line "):], ": ")
	if !ok {
		return 0, msg
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return 0, msg
	}
	return n, rest
}

// RuleFor returns the rule sops would use for file (absolute, or relative to
// the working directory): the path relative to c.Dir is matched against each
// rule's path_regex, first match wins. It returns ErrNoRule when none does.
func (c *Config) RuleFor(file string) (*Rule, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	return c.RuleForRel(strings.TrimPrefix(abs, c.Dir+string(filepath.Separator)))
}

// RuleForRel returns the rule sops would use for a path that is already
// relative to c.Dir (or absolute outside it), without touching the file
// system. An invalid path_regex met before a match is an error, as in sops.
func (c *Config) RuleForRel(rel string) (*Rule, error) {
	for _, r := range c.Rules {
		if r.PathRegex == "" {
			return r, nil
		}
		if r.RegexErr != nil {
			return nil, fmt.Errorf("%s:%d: creation rule %d: invalid path_regex %q: %v", c.Path, r.PathLine, r.Index+1, r.PathRegex, r.RegexErr)
		}
		if r.filter.mayMatch(rel) && r.re.MatchString(rel) {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%s: %w for %q", c.Path, ErrNoRule, rel)
}

// NameOf returns the name the config gives key (anchor or comment), or "".
func (c *Config) NameOf(k Key) string {
	for _, r := range c.Rules {
		for _, g := range r.Groups {
			for _, list := range [][]Member{g.Members, g.Duplicates} {
				for _, m := range list {
					if m.Key == k && m.Name != "" {
						return m.Name
					}
				}
			}
		}
	}
	for _, a := range c.Anchors {
		if a.node.Kind == yaml.ScalarNode && valueIsKey(a.Value, k) {
			return a.Name
		}
	}
	return ""
}

// valueIsKey reports whether a scalar written in the file denotes k.
func valueIsKey(v string, k Key) bool {
	switch k.Type {
	case TypePGP, TypeGCPKMS:
		return strings.ReplaceAll(v, " ", "") == k.ID
	default:
		return strings.TrimSpace(v) == k.ID
	}
}

// Data returns the text the config was parsed from.
func (c *Config) Data() []byte { return c.data }

// HasCreationRules reports whether the file has creation_rules; without
// them sops behaves as if there were no config file at all.
func (c *Config) HasCreationRules() bool { return c.hasRules }

// Members returns every distinct key of every rule, in file order of first
// use, with its name (for listing).
func (c *Config) Members() []Member {
	var out []Member
	seen := map[Key]bool{}
	for _, r := range c.Rules {
		for _, g := range r.Groups {
			for _, m := range g.Members {
				if !seen[m.Key] {
					seen[m.Key] = true
					out = append(out, m)
				}
			}
		}
	}
	return out
}

// Uses returns, for key, the rules and groups that contain it.
func (c *Config) Uses(k Key) []GroupRef {
	var out []GroupRef
	for _, r := range c.Rules {
		for gi, g := range r.Groups {
			for _, m := range g.Members {
				if m.Key == k {
					out = append(out, GroupRef{Rule: r.Index, Group: gi})
					break
				}
			}
		}
	}
	return out
}

// GroupRef names one key group of one rule.
type GroupRef struct {
	Rule  int // index in Config.Rules
	Group int // index in Rule.Groups
}

// String returns "rule R group G".
func (g GroupRef) String() string { return fmt.Sprintf("rule %d group %d", g.Rule+1, g.Group+1) }

// ---- resolution ----

// creationRuleKeys are the yaml tags of sops' creationRule.
var creationRuleKeys = map[string]bool{
	"path_regex": true, "kms": true, "aws_profile": true, "age": true, "pgp": true,
	"gcp_kms": true, "hckms": true, "azure_keyvault": true, "hc_vault_transit_uri": true,
	"key_groups": true, "shamir_threshold": true, "unencrypted_suffix": true,
	"encrypted_suffix": true, "unencrypted_regex": true, "encrypted_regex": true,
	"unencrypted_comment_regex": true, "encrypted_comment_regex": true,
	"mac_only_encrypted": true,
}

// flatFields are the recipient fields of the flat form, in sops' order.
var flatFields = []string{"age", "pgp", "kms", "gcp_kms", "hckms", "azure_keyvault", "hc_vault_transit_uri"}

func (c *Config) resolveRule(index int, item *yaml.Node) (*Rule, error) {
	m := deref(item)
	var cr sopsCreationRule
	if err := m.Decode(&cr); err != nil {
		return nil, yamlError(c.Path, c.data, err)
	}
	r := &Rule{
		Index: index, Line: m.Line, node: m,
		PathRegex:               cr.PathRegex,
		ShamirThreshold:         cr.ShamirThreshold,
		EncryptedRegex:          cr.EncryptedRegex,
		UnencryptedRegex:        cr.UnencryptedRegex,
		EncryptedSuffix:         cr.EncryptedSuffix,
		UnencryptedSuffix:       cr.UnencryptedSuffix,
		EncryptedCommentRegex:   cr.EncryptedCommentRegex,
		UnencryptedCommentRegex: cr.UnencryptedCommentRegex,
		MACOnlyEncrypted:        cr.MACOnlyEncrypted,
		KeyGroupsForm:           len(cr.KeyGroups) > 0,
	}
	fields := structFields(m)
	if f, ok := fields["path_regex"]; ok {
		r.HasPathRegex, r.PathLine = true, f.key.Line
	}
	if f, ok := fields["shamir_threshold"]; ok {
		r.ShamirLine = f.key.Line
	}
	if r.PathRegex != "" {
		r.re, r.RegexErr = regexp.Compile(r.PathRegex)
		if r.RegexErr == nil {
			r.filter = newPathFilter(r.PathRegex)
		}
	}
	n := 0
	for _, s := range []string{cr.UnencryptedSuffix, cr.EncryptedSuffix, cr.UnencryptedRegex, cr.EncryptedRegex, cr.UnencryptedCommentRegex, cr.EncryptedCommentRegex} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		r.SettingsErr = errors.New("cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex for the same rule")
	}
	for _, k := range explicitKeys(m) {
		if !creationRuleKeys[k.Name] {
			r.UnknownKeys = append(r.UnknownKeys, k)
		}
	}
	if r.KeyGroupsForm {
		for _, f := range flatFields {
			if ref, ok := fields[f]; ok && !isNull(deref(ref.val)) {
				r.FlatAlsoSet = true
			}
		}
		seq := deref(fields["key_groups"].val)
		for _, gi := range seq.Content {
			g := deref(gi)
			if isNull(g) {
				continue // decoded as nothing by yaml, as in sops
			}
			grp := Group{Line: g.Line, mapping: g, reads: map[*yaml.Node]bool{}}
			var all []Member
			if err := c.keyGroupMembers(g, &grp, &all, 0); err != nil {
				return nil, err
			}
			markMemberReads(&grp, all)
			seen := map[Key]bool{}
			for _, mb := range all {
				if seen[mb.Key] {
					grp.Duplicates = append(grp.Duplicates, mb)
					continue
				}
				seen[mb.Key] = true
				grp.Members = append(grp.Members, mb)
			}
			r.Groups = append(r.Groups, grp)
		}
		return r, nil
	}
	grp := Group{Line: m.Line, mapping: m, reads: map[*yaml.Node]bool{}}
	markReads(&grp, m)
	for _, f := range flatFields {
		ref, ok := fields[f]
		if !ok {
			continue
		}
		grp.reads[deref(ref.val)] = true
		grp.Members = append(grp.Members, c.flatMembers(f, ref, cr.AwsProfile)...)
	}
	markMemberReads(&grp, grp.Members)
	seen := map[Key]bool{}
	for _, mb := range grp.Members {
		if seen[mb.Key] {
			grp.Duplicates = append(grp.Duplicates, mb)
		}
		seen[mb.Key] = true
	}
	r.Groups = []Group{grp}
	return r, nil
}

// markMemberReads records the value and list of every member.
func markMemberReads(g *Group, ms []Member) {
	for _, m := range ms {
		if m.src == nil {
			continue
		}
		g.reads[m.src.val] = true
		if m.src.container != nil {
			g.reads[m.src.container] = true
		}
	}
}

// markReads records m and every mapping merged into it.
func markReads(g *Group, m *yaml.Node) {
	for _, mm := range mergedMappings(m) {
		g.reads[mm] = true
	}
}

// piece is one comma-separated entry of a flat field value.
type piece struct {
	s   string
	src *source
	err error
}

// flatPieces mirrors sops' parseKeyField followed by strings.Join(…, ",")
// and strings.Split(…, ","): the entries a flat field yields, each with its
// place in the file. The bool is false when the joined string is empty (no
// keys at all).
func flatPieces(field string, ref fieldRef) ([]piece, bool) {
	v := deref(ref.val)
	base := source{field: field, mapping: ref.owner, fieldKey: ref.key}
	if field == "hckms" { // []string in sops
		var out []piece
		if v.Kind != yaml.SequenceNode {
			return nil, false
		}
		for _, it := range v.Content {
			iv := deref(it)
			if isNull(iv) {
				continue
			}
			var s string
			if err := iv.Decode(&s); err != nil {
				continue
			}
			for j, p := range strings.Split(s, ",") {
				src := base
				src.item, src.val, src.container, src.piece = it, iv, v, j
				out = append(out, piece{s: p, src: &src})
			}
		}
		return out, len(out) > 0
	}
	var raw any
	if err := v.Decode(&raw); err != nil {
		return nil, false
	}
	switch x := raw.(type) {
	case nil:
		return nil, false
	case string:
		if x == "" {
			return nil, false
		}
		var out []piece
		for j, p := range strings.Split(x, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			src := base
			src.item, src.val, src.piece = ref.val, v, j
			out = append(out, piece{s: p, src: &src})
		}
		return out, len(out) > 0
	case []any:
		var out []piece
		var strs []string
		for i, it := range v.Content {
			iv := deref(it)
			src := base
			src.item, src.val, src.container, src.piece = it, iv, v, -1
			s, ok := x[i].(string)
			if !ok {
				out = append(out, piece{s: iv.Value, src: &src, err: fmt.Errorf("invalid %s key configuration: expected string in list, got %T", field, x[i])})
				continue
			}
			strs = append(strs, s)
			for j, p := range strings.Split(s, ",") {
				ps := src
				ps.piece = j
				out = append(out, piece{s: p, src: &ps})
			}
		}
		if len(out) == len(strs) && strings.Join(strs, ",") == "" {
			return nil, false // sops joins the list: a single "" is no key
		}
		return out, len(out) > 0
	default:
		src := base
		src.item, src.val, src.piece = ref.val, v, -1
		return []piece{{s: v.Value, src: &src, err: fmt.Errorf("invalid %s key configuration: expected string, []string, or nil, got %T", field, raw)}}, true
	}
}

func (c *Config) flatMembers(field string, ref fieldRef, awsProfile string) []Member {
	pieces, ok := flatPieces(field, ref)
	if !ok {
		return nil
	}
	var out []Member
	for _, p := range pieces {
		var k Key
		err := p.err
		keyType := fieldType(field)
		if err == nil {
			switch field {
			case "age":
				k, err = ageKeyFromConfig(p.s)
			case "pgp":
				k = pgpKeyFromConfig(p.s)
			case "kms":
				k = kmsFlatKeyFromConfig(p.s, awsProfile)
			case "gcp_kms":
				k = gcpKeyFromConfig(p.s)
			case "hckms":
				s := strings.TrimSpace(p.s)
				if s == "" {
					continue
				}
				k, err = hckmsKeyFromConfig(s)
			case "azure_keyvault":
				k, err = azureFlatKeyFromConfig(p.s)
			case "hc_vault_transit_uri":
				if p.s == "" {
					continue
				}
				k, err = vaultKeyFromConfig(p.s)
			}
		} else {
			k = Key{Type: keyType, ID: strings.TrimSpace(p.s)}
		}
		out = append(out, c.member(k, err, p.src))
	}
	return out
}

// fieldType is the key type a field holds.
func fieldType(field string) KeyType {
	switch field {
	case "age":
		return TypeAge
	case "pgp":
		return TypePGP
	case "kms":
		return TypeKMS
	case "gcp_kms":
		return TypeGCPKMS
	case "hckms":
		return TypeHCKMS
	case "azure_keyvault":
		return TypeAzureKV
	default:
		return TypeVault
	}
}

// member builds a Member with its name and lines.
func (c *Config) member(k Key, err error, src *source) Member {
	m := Member{Key: k, Err: err, Field: src.field, src: src, Line: src.item.Line, DefLine: src.val.Line}
	m.Name = memberName(src)
	return m
}

// keyGroupMembers collects a key_groups entry in sops' order (merge first),
// before de-duplication.
func (c *Config) keyGroupMembers(g *yaml.Node, grp *Group, out *[]Member, depth int) error {
	if depth > 50 {
		return fmt.Errorf("%s:%d: key group merges nest too deep", c.Path, g.Line)
	}
	markReads(grp, g)
	fields := structFields(g)
	seqItems := func(name string) (fieldRef, *yaml.Node, []*yaml.Node) {
		ref, ok := fields[name]
		if !ok {
			return ref, nil, nil
		}
		v := deref(ref.val)
		grp.reads[v] = true
		if v.Kind != yaml.SequenceNode {
			return ref, v, nil
		}
		var items []*yaml.Node
		for _, it := range v.Content {
			if !isNull(deref(it)) {
				items = append(items, it)
			}
		}
		return ref, v, items
	}
	mk := func(field string, ref fieldRef, seq, it *yaml.Node, j int) *source {
		return &source{field: field, item: it, val: deref(it), container: seq, mapping: ref.owner, fieldKey: ref.key, piece: j}
	}
	_, _, subs := seqItems("merge")
	for _, s := range subs {
		if err := c.keyGroupMembers(deref(s), grp, out, depth+1); err != nil {
			return err
		}
	}
	// Each field's items decode into sops' type for them; an item that does
	// not decode is skipped (the mirror decode has reported it already).
	add := func(field string, decode func(it *yaml.Node) (Key, bool, error)) {
		ref, seq, items := seqItems(field)
		for _, it := range items {
			if k, ok, err := decode(it); ok {
				*out = append(*out, c.member(k, err, mk(field, ref, seq, it, -1)))
			}
		}
	}
	ref, seq, items := seqItems("age")
	for _, it := range items {
		var s string
		if err := deref(it).Decode(&s); err != nil || s == "" {
			continue // "" gives no key in sops
		}
		for j, p := range strings.Split(s, ",") {
			k, err := ageKeyFromConfig(p)
			*out = append(*out, c.member(k, err, mk("age", ref, seq, it, j)))
		}
	}
	add("pgp", decoded(func(s string) (Key, error) { return pgpKeyFromConfig(s), nil }))
	add("kms", decoded(func(kk sopsKMSKey) (Key, error) {
		var err error
		for name, v := range kk.Context {
			if v == nil {
				err = fmt.Errorf("kms context %q has no value", name)
			}
		}
		return Key{Type: TypeKMS, ID: kmsID(kk.Arn, kk.Role, kk.Context, kk.AwsProfile)}, err
	}))
	add("gcp_kms", decoded(func(gk sopsGCPKMSKey) (Key, error) { return gcpKeyFromConfig(gk.ResourceID), nil }))
	add("hckms", decoded(func(hk sopsHCKMSKey) (Key, error) { return hckmsKeyFromConfig(hk.KeyID) }))
	add("azure_keyvault", decoded(func(ak sopsAzureKVKey) (Key, error) {
		return Key{Type: TypeAzureKV, ID: azureID(ak.VaultURL, ak.Key, ak.Version)}, nil
	}))
	add("hc_vault", decoded(vaultKeyFromConfig))
	return nil
}

// decoded adapts a key builder over sops' type T for one list item: ok is
// false when the item does not decode as T.
func decoded[T any](build func(T) (Key, error)) func(it *yaml.Node) (Key, bool, error) {
	return func(it *yaml.Node) (Key, bool, error) {
		var v T
		if err := deref(it).Decode(&v); err != nil {
			return Key{}, false, nil
		}
		k, err := build(v)
		return k, true, err
	}
}

// collectAnchors finds every anchor in the document and the aliases to it.
func (c *Config) collectAnchors() {
	byNode := map[*yaml.Node]*Anchor{}
	var aliases []*yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil {
			return
		}
		if n.Anchor != "" && n.Kind != yaml.AliasNode {
			a := &Anchor{Name: n.Anchor, Line: n.Line, node: n}
			if n.Kind == yaml.ScalarNode {
				a.Value = n.Value
			}
			byNode[n] = a
			c.Anchors = append(c.Anchors, a)
		}
		if n.Kind == yaml.AliasNode {
			aliases = append(aliases, n)
			return
		}
		for _, ch := range n.Content {
			walk(ch)
		}
	}
	walk(c.doc)
	for _, al := range aliases {
		if a := byNode[al.Alias]; a != nil {
			a.Uses = append(a.Uses, al.Line)
		}
	}
}

// ---- YAML helpers ----

// deref resolves an alias to the node it refers to.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 10; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports whether n decodes as null.
func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// fieldRef is one effective field of a mapping decoded into a struct.
type fieldRef struct {
	key, val *yaml.Node // val as written (may be an alias)
	owner    *yaml.Node // the mapping that holds the key
	merged   bool       // true when the field comes from a "<<" merge
}

// isMergeKey is yaml's isMerge.
func isMergeKey(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" && (n.Tag == "" || n.Tag == "!" || n.ShortTag() == "!!merge")
}

// keyName is the string a mapping key decodes to.
func keyName(k *yaml.Node) string {
	k = deref(k)
	if k.Kind != yaml.ScalarNode {
		return ""
	}
	return k.Value
}

// structFields returns the effective fields of mapping m as yaml decodes it
// into a struct: the mapping's own keys first (the first of duplicates), then
// the last "<<" merge's mappings, each adding only keys not yet set.
func structFields(m *yaml.Node) map[string]fieldRef {
	out := map[string]fieldRef{}
	collectFields(m, out, nil, false, 0)
	return out
}

func collectFields(m *yaml.Node, out map[string]fieldRef, merged map[string]bool, viaMerge bool, depth int) {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode || depth > 50 {
		return
	}
	var mergeNode *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if isMergeKey(k) {
			mergeNode = v
			continue
		}
		name := keyName(k)
		if merged != nil {
			if merged[name] {
				continue
			}
			merged[name] = true
		}
		if _, dup := out[name]; dup {
			continue
		}
		out[name] = fieldRef{key: k, val: v, owner: m, merged: viaMerge}
	}
	if mergeNode == nil {
		return
	}
	if merged == nil {
		merged = map[string]bool{}
		for i := 0; i < len(m.Content); i += 2 {
			merged[keyName(m.Content[i])] = true
		}
	}
	switch mergeNode.Kind {
	case yaml.MappingNode, yaml.AliasNode:
		collectFields(mergeNode, out, merged, true, depth+1)
	case yaml.SequenceNode:
		for _, it := range mergeNode.Content {
			collectFields(it, out, merged, true, depth+1)
		}
	}
}

// mergedMappings returns m and every mapping merged into it through "<<".
func mergedMappings(m *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	var rec func(n *yaml.Node, depth int)
	rec = func(n *yaml.Node, depth int) {
		n = deref(n)
		if n == nil || n.Kind != yaml.MappingNode || depth > 50 {
			return
		}
		out = append(out, n)
		var mergeNode *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if isMergeKey(n.Content[i]) {
				mergeNode = n.Content[i+1]
			}
		}
		if mergeNode == nil {
			return
		}
		if mergeNode.Kind == yaml.SequenceNode {
			for _, it := range mergeNode.Content {
				rec(it, depth+1)
			}
			return
		}
		rec(mergeNode, depth+1)
	}
	rec(m, 0)
	return out
}

// explicitKeys lists the keys written in mapping m itself (no merges).
func explicitKeys(m *yaml.Node) []Field {
	var out []Field
	for i := 0; i+1 < len(m.Content); i += 2 {
		if isMergeKey(m.Content[i]) {
			continue
		}
		out = append(out, Field{Name: keyName(m.Content[i]), Line: m.Content[i].Line})
	}
	return out
}

// ---- sops' config shapes (config/config.go, v3.13.3) ----

type sopsConfigFile struct {
	CreationRules    []sopsCreationRule `yaml:"creation_rules"`
	DestinationRules []struct {
		PathRegex        string           `yaml:"path_regex"`
		S3Bucket         string           `yaml:"s3_bucket"`
		S3Prefix         string           `yaml:"s3_prefix"`
		GCSBucket        string           `yaml:"gcs_bucket"`
		GCSPrefix        string           `yaml:"gcs_prefix"`
		VaultPath        string           `yaml:"vault_path"`
		VaultAddress     string           `yaml:"vault_address"`
		VaultKVMountName string           `yaml:"vault_kv_mount_name"`
		VaultKVVersion   int              `yaml:"vault_kv_version"`
		RecreationRule   sopsCreationRule `yaml:"recreation_rule,omitempty"`
		OmitExtensions   bool             `yaml:"omit_extensions"`
	} `yaml:"destination_rules"`
	Stores struct {
		Dotenv     struct{} `yaml:"dotenv"`
		INI        struct{} `yaml:"ini"`
		JSONBinary struct {
			Indent int `yaml:"indent"`
		} `yaml:"json_binary"`
		JSON struct {
			Indent int `yaml:"indent"`
		} `yaml:"json"`
		YAML struct {
			Indent int `yaml:"indent"`
		} `yaml:"yaml"`
	} `yaml:"stores"`
}

type sopsKeyGroup struct {
	Merge   []sopsKeyGroup   `yaml:"merge"`
	KMS     []sopsKMSKey     `yaml:"kms"`
	GCPKMS  []sopsGCPKMSKey  `yaml:"gcp_kms"`
	HCKms   []sopsHCKMSKey   `yaml:"hckms"`
	AzureKV []sopsAzureKVKey `yaml:"azure_keyvault"`
	Vault   []string         `yaml:"hc_vault"`
	Age     []string         `yaml:"age"`
	PGP     []string         `yaml:"pgp"`
}

type sopsGCPKMSKey struct {
	ResourceID string `yaml:"resource_id"`
}

type sopsKMSKey struct {
	Arn        string             `yaml:"arn"`
	Role       string             `yaml:"role,omitempty"`
	Context    map[string]*string `yaml:"context"`
	AwsProfile string             `yaml:"aws_profile"`
}

type sopsAzureKVKey struct {
	VaultURL string `yaml:"vaultUrl"`
	Key      string `yaml:"key"`
	Version  string `yaml:"version"`
}

type sopsHCKMSKey struct {
	KeyID string `yaml:"key_id"`
}

type sopsCreationRule struct {
	PathRegex               string         `yaml:"path_regex"`
	KMS                     any            `yaml:"kms"`
	AwsProfile              string         `yaml:"aws_profile"`
	Age                     any            `yaml:"age"`
	PGP                     any            `yaml:"pgp"`
	GCPKMS                  any            `yaml:"gcp_kms"`
	HCKms                   []string       `yaml:"hckms"`
	AzureKeyVault           any            `yaml:"azure_keyvault"`
	VaultURI                any            `yaml:"hc_vault_transit_uri"`
	KeyGroups               []sopsKeyGroup `yaml:"key_groups"`
	ShamirThreshold         int            `yaml:"shamir_threshold"`
	UnencryptedSuffix       string         `yaml:"unencrypted_suffix"`
	EncryptedSuffix         string         `yaml:"encrypted_suffix"`
	UnencryptedRegex        string         `yaml:"unencrypted_regex"`
	EncryptedRegex          string         `yaml:"encrypted_regex"`
	UnencryptedCommentRegex string         `yaml:"unencrypted_comment_regex"`
	EncryptedCommentRegex   string         `yaml:"encrypted_comment_regex"`
	MACOnlyEncrypted        bool           `yaml:"mac_only_encrypted"`
}
