package recipients

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sopsfleet/sopsfleet/internal/textedit"
)

// The editor changes .sops.yaml the way a careful person would: it inserts
// or deletes only the lines (or the comma-separated entries) that change,
// copying the surrounding style — indentation, indentless or indented
// sequences, flow or block style, quoting, line endings, the presence of a
// final newline. Every edit is verified before it is returned: the new text
// is parsed and resolved again, and must resolve to the old recipients plus
// (or minus) exactly the intended change.

// Edit is a change of .sops.yaml text computed by [Config.Add],
// [Config.Remove] or [Config.Rename]. Nothing is written: the caller writes
// New (atomically) when it wants the change.
type Edit struct {
	Path     string
	Old, New []byte
	// Key is the recipient added, removed or renamed; Name is its name after
	// the edit ("" when the file cannot carry one, or after a removal).
	Key  Key
	Name string
	// Changed are the groups whose recipients change (none for a rename).
	Changed []GroupRef
	// Notes are facts for the user: groups that already had the recipient,
	// places where it could not be named.
	Notes []string

	unnamed bool // some occurrence of an added key could not carry its name
}

// Unchanged reports whether the edit changes nothing.
func (e *Edit) Unchanged() bool { return string(e.Old) == string(e.New) }

// AddOptions describe [Config.Add].
type AddOptions struct {
	// Name is the recipient's name: the anchor (where the file uses
	// anchors) or the trailing comment (where it uses literal keys).
	Name string
	// Key is the recipient to add.
	Key Key
	// Recipient, when its Kind is set, is Key as [ParseRecipient] read it,
	// with the settings written beside it (AWS KMS role, context and
	// profile; Azure vault, name and version). It is needed for kms and
	// azure_kv keys; others can be given by Key alone.
	Recipient Recipient
	// Targets are the groups to add it to.
	Targets []GroupRef
	// Like, when set, is a named recipient: where recipients are anchors,
	// the new anchor is defined in the same list as Like's.
	Like string
}

// TargetOptions select groups for [Config.Targets], as the command line's
// --path, --like, --all and --group do.
type TargetOptions struct {
	Paths []string // files: the rule sops would use for each
	Like  string   // every group containing this named recipient (or key)
	All   bool     // every rule
	// Group is the index (from 0) of the key group in multi-group rules; -1
	// means the group of Like in that rule, else the first. Messages number
	// rules and groups from 1.
	Group int
}

// Targets resolves target options into groups, in rule order, without
// duplicates.
func (c *Config) Targets(o TargetOptions) ([]GroupRef, error) {
	var like Key
	var likeSet bool
	if o.Like != "" {
		k, err := c.Lookup(o.Like)
		if err != nil {
			return nil, err
		}
		like, likeSet = k, true
	}
	seen := map[GroupRef]bool{}
	var out []GroupRef
	add := func(g GroupRef) {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	pick := func(r *Rule) (GroupRef, error) {
		gi := o.Group
		if gi < 0 {
			gi = 0
			if likeSet {
				for i, g := range r.Groups {
					if hasKey(g.Members, like) {
						gi = i
						break
					}
				}
			}
		}
		if gi >= len(r.Groups) {
			return GroupRef{}, fmt.Errorf("%s:%d: creation rule %d has %s, no key group %d", c.Path, r.Line, r.Index+1, plural(len(r.Groups), "key group"), gi+1)
		}
		return GroupRef{Rule: r.Index, Group: gi}, nil
	}
	for _, p := range o.Paths {
		r, err := c.RuleFor(p)
		if err != nil {
			return nil, err
		}
		g, err := pick(r)
		if err != nil {
			return nil, err
		}
		add(g)
	}
	if o.All {
		for _, r := range c.Rules {
			g, err := pick(r)
			if err != nil {
				return nil, err
			}
			add(g)
		}
	}
	if likeSet && len(o.Paths) == 0 && !o.All {
		for _, g := range c.Uses(like) {
			if o.Group >= 0 && g.Group != o.Group {
				continue
			}
			add(g)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return out[i].Group < out[j].Group
	})
	return out, nil
}

func hasKey(ms []Member, k Key) bool {
	for _, m := range ms {
		if m.Key == k {
			return true
		}
	}
	return false
}

// ErrUnknownName reports a name or key that the config does not contain.
var ErrUnknownName = errors.New("no such recipient")

// Lookup finds a recipient by name (anchor or comment) or by key.
func (c *Config) Lookup(nameOrKey string) (Key, error) {
	var found []Key
	seen := map[Key]bool{}
	for _, nm := range c.named() {
		if nm.name == nameOrKey && !seen[nm.key] {
			seen[nm.key] = true
			found = append(found, nm.key)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	if len(found) > 1 {
		return Key{}, fmt.Errorf("%s: the name %s is given to %d different keys", c.Path, QuoteInput(nameOrKey), len(found))
	}
	s := strings.TrimSpace(nameOrKey)
	for _, r := range c.Rules {
		for _, g := range r.Groups {
			for _, m := range g.Members {
				if m.Key.ID == s || (m.Key.Type == TypePGP && m.Key.ID == strings.ReplaceAll(s, " ", "")) {
					return m.Key, nil
				}
			}
		}
	}
	// The key as a person copies it: an SSH key with its comment, a PGP
	// fingerprint in lower case or with spaces.
	if r, err := ParseRecipient(s, ParseOptions{}); err == nil {
		for _, m := range c.Members() {
			if m.Key == r.Key || (m.Key.Type == TypePGP && r.Key.Type == TypePGP && strings.EqualFold(m.Key.ID, r.Key.ID)) {
				return m.Key, nil
			}
		}
	}
	for _, a := range c.Anchors {
		if a.node.Kind == yaml.ScalarNode && strings.TrimSpace(a.Value) == s && (strings.HasPrefix(s, "age1") || strings.HasPrefix(s, "ssh-")) {
			return Key{Type: TypeAge, ID: s}, nil
		}
	}
	return Key{}, c.unknownName(nameOrKey)
}

// unknownName builds the error for a name that is not in the file, with a
// suggestion when one is close.
func (c *Config) unknownName(name string) error {
	if LooksSecret(name) {
		return fmt.Errorf("%s: %w: the argument is a secret key (not repeated here): give the recipient's name or its public key", c.Path, ErrUnknownName)
	}
	if strings.HasPrefix(name, "age1") || strings.HasPrefix(name, "ssh-") {
		return fmt.Errorf("%s: %w with the key %q in any creation rule", c.Path, ErrUnknownName, name)
	}
	best, bestLine, bestDist := "", 0, 3
	var all []string
	seen := map[string]bool{}
	for _, nm := range c.named() {
		if seen[nm.name] {
			continue
		}
		seen[nm.name] = true
		all = append(all, nm.name)
		if d := EditDistance(strings.ToLower(name), strings.ToLower(nm.name)); d < bestDist {
			best, bestLine, bestDist = nm.name, nm.line, d
		}
	}
	if best != "" {
		return fmt.Errorf("%s: %w named %q; did you mean %q (line %d)?", c.Path, ErrUnknownName, name, best, bestLine)
	}
	if len(all) == 0 {
		return fmt.Errorf("%s: %w named %s: the file names no recipients", c.Path, ErrUnknownName, QuoteInput(name))
	}
	return fmt.Errorf("%s: %w named %s (names: %s)", c.Path, ErrUnknownName, QuoteInput(name), strings.Join(all, ", "))
}

type namedKey struct {
	name string
	key  Key
	line int
}

// named lists every (name, key) the file defines: members' names and
// anchored recipients.
func (c *Config) named() []namedKey {
	var out []namedKey
	for _, r := range c.Rules {
		for _, g := range r.Groups {
			for _, list := range [][]Member{g.Members, g.Duplicates} {
				for _, m := range list {
					if m.Name != "" {
						out = append(out, namedKey{m.Name, m.Key, m.DefLine})
					}
				}
			}
		}
	}
	for _, a := range c.Anchors {
		if a.node.Kind != yaml.ScalarNode {
			continue
		}
		v := strings.TrimSpace(a.Value)
		if strings.HasPrefix(v, "age1") || strings.HasPrefix(v, "ssh-") {
			out = append(out, namedKey{a.Name, Key{Type: TypeAge, ID: v}, a.Line})
		}
	}
	return out
}

// ---- the editor ----

type editor struct {
	c       *Config
	t       *text
	parent  map[*yaml.Node]parentRef
	inFlow  map[*yaml.Node]bool
	splices []splice
}

type parentRef struct {
	p *yaml.Node
	i int // index in p.Content
}

func (c *Config) newEditor() *editor {
	e := &editor{c: c, t: newText(c.data), parent: map[*yaml.Node]parentRef{}, inFlow: map[*yaml.Node]bool{}}
	var walk func(n *yaml.Node, flow bool)
	walk = func(n *yaml.Node, flow bool) {
		e.inFlow[n] = flow
		if n.Kind == yaml.AliasNode {
			return
		}
		childFlow := flow || ((n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode) && n.Style&yaml.FlowStyle != 0)
		for i, ch := range n.Content {
			e.parent[ch] = parentRef{n, i}
			walk(ch, childFlow)
		}
	}
	if c.doc != nil {
		walk(c.doc, false)
	}
	return e
}

// blockIndent is the indentation continuation lines of n must exceed.
func (e *editor) blockIndent(n *yaml.Node) int {
	if pr, ok := e.parent[n]; ok && pr.p.Kind != yaml.DocumentNode {
		return pr.p.Column - 1
	}
	return -1
}

// span of a scalar or alias node's value.
func (e *editor) span(n *yaml.Node) (span, error) {
	return e.t.valueSpan(n, e.inFlow[n], e.blockIndent(n))
}

// nodeEnd is the offset just after n's text.
func (e *editor) nodeEnd(n *yaml.Node) (int, error) {
	switch n.Kind {
	case yaml.ScalarNode, yaml.AliasNode:
		sp, err := e.span(n)
		return sp.end, err
	case yaml.SequenceNode, yaml.MappingNode:
		if n.Style&yaml.FlowStyle != 0 {
			return e.flowEnd(n)
		}
		if len(n.Content) == 0 {
			return 0, &errUnclean{n.Line, "empty collection"}
		}
		return e.nodeEnd(n.Content[len(n.Content)-1])
	}
	return 0, &errUnclean{n.Line, "unexpected node"}
}

// flowEnd finds the bracket closing the flow collection n.
func (e *editor) flowEnd(n *yaml.Node) (int, error) {
	d := e.t.data
	off := e.t.skipProps(e.t.nodeStart(n))
	depth := 0
	for i := off; i < len(d); i++ {
		switch d[i] {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		case '"':
			for i++; i < len(d) && d[i] != '"'; i++ {
				if d[i] == '\\' {
					i++
				}
			}
		case '\'':
			for i++; i < len(d); i++ {
				if d[i] == '\'' {
					if i+1 < len(d) && d[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case '#':
			if i > 0 && isSpace(d[i-1]) {
				for i < len(d) && d[i] != '\n' {
					i++
				}
			}
		}
	}
	return 0, &errUnclean{n.Line, "unterminated flow collection"}
}

// restIsComment reports whether the rest of off's line is blank or a comment.
func (e *editor) restIsComment(off int) bool {
	l := e.t.lineOf(off)
	rest := strings.TrimSpace(string(e.t.data[off:e.t.lineEnd(l)]))
	return rest == "" || strings.HasPrefix(rest, "#")
}

// beforeIsBlank reports whether only spaces precede off on its line.
func (e *editor) beforeIsBlank(off int) bool {
	l := e.t.lineOf(off)
	return strings.TrimLeft(string(e.t.data[e.t.lineStart(l):off]), " ") == ""
}

// dashOf finds the "-" introducing block sequence item n: its offset, and
// whether only spaces precede it on the line.
func (e *editor) dashOf(n *yaml.Node) (int, bool) {
	off := e.t.nodeStart(n)
	i := off - 1
	for i >= 0 && (e.t.data[i] == ' ' || e.t.data[i] == '\t') {
		i--
	}
	if i < 0 || e.t.data[i] != '-' {
		return -1, false
	}
	return i, e.beforeIsBlank(i)
}

// ownCommentStart returns the first line of the comment lines directly
// above line l that belong to the entry there (same indentation, after the
// previous entry ending at prevEnd); l when there are none.
func (e *editor) ownCommentStart(l, prevEnd, indent int) int {
	first := l
	for m := l - 1; m > prevEnd && m >= 1; m-- {
		s := e.t.line(m)
		trim := strings.TrimLeft(s, " ")
		if !strings.HasPrefix(trim, "#") || len(s)-len(trim) != indent {
			break
		}
		first = m
	}
	return first
}

// plural returns "1 key group" or "3 key groups".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// finishEdit completes an edit once the editor has planned its splices:
// buildErr is the planning's error (an [errUnclean] names its line, the
// file is prefixed here); otherwise the splices are applied to the text and
// the result must pass verify before the edit is returned.
func (c *Config) finishEdit(ed *Edit, e *editor, buildErr error, verify func(*Edit) error) (*Edit, error) {
	if buildErr != nil {
		return nil, fmt.Errorf("%s:%w", c.Path, buildErr)
	}
	out, err := textedit.Apply(c.data, e.splices)
	if err != nil {
		return nil, err
	}
	ed.New = out
	if err := verify(ed); err != nil {
		return nil, err
	}
	return ed, nil
}
