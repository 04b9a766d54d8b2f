// Package policy reads .sopsfleet.yaml, a team's promises about who may
// decrypt which secrets that .sops.yaml cannot express, and judges
// recipients against it. It is read-only: it never writes a file (see
// [Policy.Rename] for the bytes of a rename) and never prints.
//
// # Format
//
// A policy is a YAML file, version 1, next to the .sops.yaml it applies to:
//
//	version: 1
//	groups:                      # names from .sops.yaml (anchor or comment), or keys
//	  prod: [h01, h02]
//	  staging: [h03, h04]
//	rules:
//	  - require: {all_of: [admin]}          # no paths: every file
//	  - paths: ^prod/
//	    require: {any_of: [backup-a, backup-b]}
//	  - paths: ^prod/
//	    forbid: [staging]
//	  - separate: [prod, staging]
//	  - types: [age]
//	  - max_recipients: 20
//
// A reference (in a group, require, forbid) is a group of the policy, a
// name .sops.yaml gives a recipient (its anchor or trailing comment), or a
// key itself (age1…, ssh-ed25519 …, a PGP fingerprint, a KMS ARN…). paths is
// a regular expression matched, unanchored as path_regex is, against the
// path relative to the folder of .sops.yaml; a rule without paths applies to
// every file. The JSON Schema is docs/policy.schema.json; the guide is
// docs/policy.md.
//
// # Judging
//
// [Policy.CheckKeys] judges one file's recipients; [Policy.CheckConfig]
// judges each creation rule of a .sops.yaml through the files it governs
// (or, when it governs none, a sample path built from its path_regex).
package policy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// FileName is the policy's file name, next to .sops.yaml.
const FileName = ".sopsfleet.yaml"

// Codes of violations, one per kind of rule (audit reports them as the
// finding codes of the same names).
const (
	CodeRequire  = "policy-require"
	CodeForbid   = "policy-forbid"
	CodeSeparate = "policy-separate"
	CodeType     = "policy-type"
	CodeMax      = "policy-max"
)

// Types are the recipient types a types rule may name, as `sopsfleet
// recipients list` names them.
var Types = []string{"age", "age-plugin", "age-pq", "ssh", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"}

// Policy is a parsed .sopsfleet.yaml, its names resolved against a
// .sops.yaml.
type Policy struct {
	// Path is the display path given to Parse; Dir the absolute folder of
	// the .sops.yaml its paths are relative to.
	Path string
	Dir  string
	// Version is the format version (1).
	Version int
	// Groups are the named groups, in file order.
	Groups []*Group
	// Rules are the rules, in file order.
	Rules []*Rule

	data   []byte
	groups map[string]*Group
	cfg    *recipients.Config
}

// Group is a named group of recipients.
type Group struct {
	Name    string
	Line    int
	Members []Ref
}

// Ref is a reference to recipients: a group, a name from .sops.yaml, or a
// key, as written.
type Ref struct {
	Text string
	Line int
	// Group is the group the reference names, nil for a name or a key.
	Group *Group
	// Keys are the recipients it stands for (a group: all its members').
	Keys []recipients.Key
	// Literal is true when Text is a key rather than a name.
	Literal bool

	node *yaml.Node
}

// Rule is one rule of the policy. Several constraints may share a rule;
// each applies to the files Paths selects.
type Rule struct {
	Index int // from 0
	Line  int
	// Paths is the regular expression, "" for every file.
	Paths     string
	PathsLine int
	// RequireAll and RequireAny are require.all_of and require.any_of.
	RequireAll, RequireAny []Ref
	RequireLine            int
	Forbid                 []Ref
	ForbidLine             int
	// Separate are groups no file may draw recipients from two of.
	Separate     []Ref
	SeparateLine int
	// Types are the allowed recipient types (see [Types]).
	Types     []string
	TypesLine int
	// MaxRecipients is the most recipients a file may have; 0: no limit.
	MaxRecipients int
	MaxLine       int

	re *regexp.Regexp
}

// Applies reports whether the rule governs rel (relative to Dir, with
// forward slashes).
func (r *Rule) Applies(rel string) bool { return r.re == nil || r.re.MatchString(rel) }

// Path returns the policy file next to the .sops.yaml of cfg.
func Path(cfg *recipients.Config) string { return filepath.Join(cfg.Dir, FileName) }

// Load reads the policy at path, shown as display in messages; a missing
// file is an error wrapping fs.ErrNotExist.
func Load(path, display string, cfg *recipients.Config) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(display, data, cfg)
}

// Data returns the text the policy was parsed from.
func (p *Policy) Data() []byte { return p.data }

// errorf is a parse error at display:line.
func (ps *parser) errorf(line int, format string, a ...any) error {
	return fmt.Errorf("%s:%d: %s", ps.p.Path, line, fmt.Sprintf(format, a...))
}

type parser struct {
	p     *Policy
	names map[string][]recipients.Key
}

// Parse parses policy text shown as display, resolving names against cfg
// (whose folder the paths are relative to). Every error names display:line:
// invalid YAML, an unknown key (with a "did you mean"), a wrong type, a
// group or recipient name that does not exist, an invalid regex, an unknown
// recipient type.
func Parse(display string, data []byte, cfg *recipients.Config) (*Policy, error) {
	p := &Policy{Path: display, Dir: cfg.Dir, data: data, groups: map[string]*Group{}, cfg: cfg}
	ps := &parser{p: p, names: configNames(cfg)}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, ps.yamlError(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, ps.errorf(1, "empty policy: want at least \"version: 1\"")
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, ps.errorf(top.Line, "the policy must be a mapping with version, groups and rules")
	}
	var groupsNode, rulesNode *yaml.Node
	versionLine := 0
	if err := ps.fields(top, "the policy", []string{"version", "groups", "rules"}, func(k, v *yaml.Node) error {
		switch k.Value {
		case "version":
			n, err := ps.int(v, "version")
			if err != nil {
				return err
			}
			if n != 1 {
				return ps.errorf(v.Line, "version %d is not supported: this sopsfleet reads version 1", n)
			}
			p.Version, versionLine = n, k.Line
		case "groups":
			groupsNode = v
		case "rules":
			rulesNode = v
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if versionLine == 0 {
		return nil, ps.errorf(top.Line, "missing \"version: 1\"")
	}
	if groupsNode != nil && !isNull(groupsNode) {
		if groupsNode.Kind != yaml.MappingNode {
			return nil, ps.errorf(groupsNode.Line, "groups must be a mapping of group names to lists of recipients")
		}
		// Names first, so that members may be checked against them.
		for i := 0; i+1 < len(groupsNode.Content); i += 2 {
			k := groupsNode.Content[i]
			if _, dup := p.groups[k.Value]; dup {
				return nil, ps.errorf(k.Line, "group %q is defined twice", k.Value)
			}
			if k.Value == "" {
				return nil, ps.errorf(k.Line, "a group needs a name")
			}
			if ps.names[k.Value] != nil {
				return nil, ps.errorf(k.Line, "group %q has the name of a recipient in %s: give the group another name", k.Value, filepath.Base(cfg.Path))
			}
			g := &Group{Name: k.Value, Line: k.Line}
			p.groups[k.Value] = g
			p.Groups = append(p.Groups, g)
		}
		for i := 0; i+1 < len(groupsNode.Content); i += 2 {
			g := p.groups[groupsNode.Content[i].Value]
			refs, err := ps.refs(groupsNode.Content[i+1], "group "+g.Name, false)
			if err != nil {
				return nil, err
			}
			if len(refs) == 0 {
				return nil, ps.errorf(g.Line, "group %q is empty", g.Name)
			}
			g.Members = refs
		}
	}
	if rulesNode != nil && !isNull(rulesNode) {
		if rulesNode.Kind != yaml.SequenceNode {
			return nil, ps.errorf(rulesNode.Line, "rules must be a list")
		}
		for i, item := range rulesNode.Content {
			r, err := ps.rule(i, item)
			if err != nil {
				return nil, err
			}
			p.Rules = append(p.Rules, r)
		}
	}
	return p, nil
}

var ruleKeys = []string{"paths", "require", "forbid", "separate", "types", "max_recipients"}

func (ps *parser) rule(i int, item *yaml.Node) (*Rule, error) {
	where := fmt.Sprintf("rule %d", i+1)
	if item.Kind != yaml.MappingNode {
		return nil, ps.errorf(item.Line, "%s must be a mapping (paths, require, forbid, separate, types, max_recipients)", where)
	}
	r := &Rule{Index: i, Line: item.Line}
	constraints := 0
	err := ps.fields(item, where, ruleKeys, func(k, v *yaml.Node) error {
		var err error
		switch k.Value {
		case "paths":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
				return ps.errorf(v.Line, "%s: paths must be a regular expression (a string)", where)
			}
			r.Paths, r.PathsLine = v.Value, k.Line
			if r.re, err = regexp.Compile(v.Value); err != nil {
				return ps.errorf(v.Line, "%s: paths %q does not compile: %s", where, v.Value,
					strings.TrimPrefix(oneLine(err.Error()), "error parsing regexp: "))
			}
			return nil
		case "require":
			constraints++
			r.RequireLine = k.Line
			if v.Kind != yaml.MappingNode {
				return ps.errorf(v.Line, "%s: require must be a mapping with all_of and/or any_of", where)
			}
			if err := ps.fields(v, where+": require", []string{"all_of", "any_of"}, func(k2, v2 *yaml.Node) error {
				refs, err := ps.refs(v2, where+": require."+k2.Value, true)
				if err != nil {
					return err
				}
				if len(refs) == 0 {
					return ps.errorf(k2.Line, "%s: require.%s is empty", where, k2.Value)
				}
				if k2.Value == "all_of" {
					r.RequireAll = refs
				} else {
					r.RequireAny = refs
				}
				return nil
			}); err != nil {
				return err
			}
			if r.RequireAll == nil && r.RequireAny == nil {
				return ps.errorf(k.Line, "%s: require needs all_of or any_of", where)
			}
		case "forbid":
			constraints++
			r.ForbidLine = k.Line
			if r.Forbid, err = ps.refs(v, where+": forbid", true); err != nil {
				return err
			}
			if len(r.Forbid) == 0 {
				return ps.errorf(k.Line, "%s: forbid is empty", where)
			}
		case "separate":
			constraints++
			r.SeparateLine = k.Line
			if r.Separate, err = ps.refs(v, where+": separate", true); err != nil {
				return err
			}
			for _, ref := range r.Separate {
				if ref.Group == nil {
					return ps.errorf(ref.Line, "%s: separate names groups, and %q is not a group of this policy", where, ref.Text)
				}
			}
			if len(r.Separate) < 2 {
				return ps.errorf(k.Line, "%s: separate needs at least two groups", where)
			}
		case "types":
			constraints++
			r.TypesLine = k.Line
			items, err := ps.strings(v, where+": types")
			if err != nil {
				return err
			}
			for _, it := range items {
				if !contains(Types, it.Value) {
					hint := ""
					if s := suggest(it.Value, Types); s != "" {
						hint = fmt.Sprintf(" (did you mean %q?)", s)
					}
					return ps.errorf(it.Line, "%s: unknown recipient type %q%s: want one of %s", where, it.Value, hint, strings.Join(Types, ", "))
				}
				r.Types = append(r.Types, it.Value)
			}
			if len(r.Types) == 0 {
				return ps.errorf(k.Line, "%s: types is empty", where)
			}
		case "max_recipients":
			constraints++
			r.MaxLine = k.Line
			n, err := ps.int(v, where+": max_recipients")
			if err != nil {
				return err
			}
			if n < 1 {
				return ps.errorf(v.Line, "%s: max_recipients must be 1 or more, got %d", where, n)
			}
			r.MaxRecipients = n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if constraints == 0 {
		return nil, ps.errorf(item.Line, "%s states nothing: give require, forbid, separate, types or max_recipients", where)
	}
	return r, nil
}

// fields calls fn for each key of mapping m, refusing unknown and
// duplicate keys.
func (ps *parser) fields(m *yaml.Node, where string, known []string, fn func(k, v *yaml.Node) error) error {
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if !contains(known, k.Value) {
			hint := ""
			if s := suggest(k.Value, known); s != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", s)
			}
			return ps.errorf(k.Line, "%s: unknown key %q%s", where, k.Value, hint)
		}
		if seen[k.Value] {
			return ps.errorf(k.Line, "%s: %q is given twice", where, k.Value)
		}
		seen[k.Value] = true
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (ps *parser) int(v *yaml.Node, what string) (int, error) {
	var n int
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Decode(&n) != nil {
		return 0, ps.errorf(v.Line, "%s must be a whole number, got %q", what, v.Value)
	}
	return n, nil
}

// strings returns the items of a list of strings (a single string is a
// list of one).
func (ps *parser) strings(v *yaml.Node, where string) ([]*yaml.Node, error) {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" {
		return []*yaml.Node{v}, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, ps.errorf(v.Line, "%s must be a list", where)
	}
	var out []*yaml.Node
	for _, it := range v.Content {
		if it.Kind == yaml.AliasNode && it.Alias != nil {
			it = it.Alias
		}
		if it.Kind != yaml.ScalarNode || it.ShortTag() == "!!null" {
			return nil, ps.errorf(it.Line, "%s: each item must be a name or a key", where)
		}
		out = append(out, it)
	}
	return out, nil
}

// refs resolves a list of references; groupsOK allows policy groups.
func (ps *parser) refs(v *yaml.Node, where string, groupsOK bool) ([]Ref, error) {
	items, err := ps.strings(v, where)
	if err != nil {
		return nil, err
	}
	var out []Ref
	for _, it := range items {
		ref := Ref{Text: it.Value, Line: it.Line, node: it}
		switch g := ps.p.groups[it.Value]; {
		case g != nil && groupsOK:
			ref.Group = g
			for _, m := range g.Members {
				ref.Keys = append(ref.Keys, m.Keys...)
			}
		case g != nil:
			return nil, ps.errorf(it.Line, "%s: %q is a group: groups hold names and keys, not other groups", where, it.Value)
		case ps.names[it.Value] != nil:
			ref.Keys = ps.names[it.Value]
		default:
			k, ok := literalKey(it.Value)
			if !ok {
				return nil, ps.errorf(it.Line, "%s: %q is neither a group of this policy, a name in %s, nor a key%s",
					where, it.Value, filepath.Base(ps.p.cfg.Path), ps.didYouMean(it.Value, groupsOK))
			}
			ref.Keys, ref.Literal = []recipients.Key{k}, true
		}
		out = append(out, ref)
	}
	return out, nil
}

func (ps *parser) didYouMean(s string, groupsOK bool) string {
	var cands []string
	for n := range ps.names {
		cands = append(cands, n)
	}
	if groupsOK {
		for _, g := range ps.p.Groups {
			cands = append(cands, g.Name)
		}
	}
	if m := suggest(s, cands); m != "" {
		return fmt.Sprintf(" (did you mean %q?)", m)
	}
	return ""
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

func (ps *parser) yamlError(err error) error {
	msg := oneLine(err.Error())
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: invalid YAML: %s", ps.p.Path, m[1], strings.TrimPrefix(msg, m[0]))
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	return fmt.Errorf("%s:1: invalid YAML: %s", ps.p.Path, strings.TrimPrefix(msg, "yaml: "))
}

// configNames maps each name .sops.yaml gives (anchor or trailing comment)
// to its keys.
func configNames(cfg *recipients.Config) map[string][]recipients.Key {
	out := map[string][]recipients.Key{}
	add := func(name string, k recipients.Key) {
		if name == "" {
			return
		}
		for _, have := range out[name] {
			if have == k {
				return
			}
		}
		out[name] = append(out[name], k)
	}
	for _, r := range cfg.Rules {
		for _, g := range r.Groups {
			for _, list := range [][]recipients.Member{g.Members, g.Duplicates} {
				for _, m := range list {
					add(m.Name, m.Key)
					add(cfg.NameOf(m.Key), m.Key)
				}
			}
		}
	}
	for _, a := range cfg.Anchors {
		if a.Value == "" {
			continue
		}
		if k, ok := literalKey(a.Value); ok {
			add(a.Name, k)
		}
	}
	return out
}

// literalKey recognises a key written as such.
func literalKey(s string) (recipients.Key, bool) {
	s = strings.TrimSpace(s)
	compact := strings.ReplaceAll(s, " ", "")
	switch {
	case strings.HasPrefix(s, "age1") && len(s) > 20 && !strings.ContainsAny(s, " \t"):
		return recipients.Key{Type: recipients.TypeAge, ID: s}, true
	case strings.HasPrefix(s, "ssh-ed25519 ") || strings.HasPrefix(s, "ssh-rsa "):
		f := strings.Fields(s)
		return recipients.Key{Type: recipients.TypeAge, ID: f[0] + " " + f[1]}, len(f) >= 2
	case len(compact) == 40 && strings.Trim(strings.ToLower(compact), "0123456789abcdef") == "":
		return recipients.Key{Type: recipients.TypePGP, ID: strings.ToUpper(compact)}, true
	case strings.HasPrefix(s, "arn:aws:kms:"):
		return recipients.Key{Type: recipients.TypeKMS, ID: s}, true
	case strings.HasPrefix(s, "projects/") && strings.Contains(s, "/cryptoKeys/"):
		return recipients.Key{Type: recipients.TypeGCPKMS, ID: s}, true
	case strings.HasPrefix(s, "https://") && strings.Contains(s, ".vault.azure.net/keys/"):
		return recipients.Key{Type: recipients.TypeAzureKV, ID: s}, true
	case (strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) && strings.Contains(s, "/v1/") && strings.Contains(s, "/keys/"):
		return recipients.Key{Type: recipients.TypeVault, ID: s}, true
	}
	return recipients.Key{}, false
}

// matches reports whether the key k of a file or rule is the key ref
// stands for (a KMS ARN stands for the key with any role or context, a
// PGP fingerprint in any case).
func matches(k, want recipients.Key) bool {
	if k.Type != want.Type {
		return false
	}
	switch k.Type {
	case recipients.TypePGP:
		return strings.EqualFold(k.ID, want.ID)
	case recipients.TypeKMS:
		return k.ID == want.ID || strings.HasPrefix(k.ID, want.ID+"+") || strings.HasPrefix(k.ID, want.ID+"|")
	}
	return k.ID == want.ID
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func suggest(s string, cands []string) string {
	best, bestD := "", 3
	for _, c := range cands {
		if d := recipients.EditDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD && d < len(c) {
			best, bestD = c, d
		}
	}
	return best
}
