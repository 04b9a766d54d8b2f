package recipients

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/ssh"
)

// ErrSameKey reports a replacement of a key by itself: nothing to change.
var ErrSameKey = errors.New("the new key is the recipient's current key")

// fieldOfType is the .sops.yaml field a key of type t is written in
// ("age", "pgp", …): two keys can replace each other only when it is the
// same.
func fieldOfType(t KeyType) string {
	if t == TypeAzureKV {
		return "azure_keyvault"
	}
	return string(t)
}

// Replace changes the key of a recipient from old to new wherever it is
// written: the anchored value ("- &shinji age1old…"), every literal
// occurrence (named or not) and its entries in comma-separated strings.
// Only the key's text changes; name, anchor, comment, position, quoting and
// line endings stay. The edit is verified: every rule resolves to its old
// key groups with old swapped for new. Replacing a key by itself is
// [ErrSameKey]; a new key of another field (an age key by a PGP
// fingerprint) is refused, and so is a new key that is already a
// recipient (the two would merge).
func (c *Config) Replace(old, new Key) (*Edit, error) {
	if old == new {
		return nil, fmt.Errorf("%s: %w", c.Path, ErrSameKey)
	}
	if fieldOfType(old.Type) != fieldOfType(new.Type) {
		return nil, fmt.Errorf("%s: %s is %s key and the new key %s key: sops writes them in different fields; use 'recipients remove' and 'recipients add' instead",
			c.Path, describeKey(c, old), kindOf(old.Type), kindOf(new.Type))
	}
	if old.Type != TypeAge && old.Type != TypePGP {
		return nil, fmt.Errorf("%s: cannot replace a %s key: only age and pgp recipients can be replaced", c.Path, old.Type)
	}
	ed := &Edit{Path: c.Path, Old: c.data, Key: new, Name: c.NameOf(old)}
	for ri, r := range c.Rules {
		for gi, g := range r.Groups {
			if hasKey(g.Members, new) || hasKey(g.Duplicates, new) {
				return nil, fmt.Errorf("%s:%d: the new key is already a recipient (%s) in rule %d: replacing would merge two recipients; use 'recipients remove' instead",
					c.Path, g.Line, describeKey(c, new), ri+1)
			}
			if hasKey(g.Members, old) {
				ed.Changed = append(ed.Changed, GroupRef{ri, gi})
			}
		}
	}
	e := c.newEditor()
	nodes := e.replaceNodes(old)
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%s: %w: %s is not in the file", c.Path, ErrUnknownName, old)
	}
	var buildErr error
	for _, n := range nodes {
		if err := e.replaceInNode(n, old, new); err != nil {
			buildErr = err
			break
		}
	}
	return c.finishEdit(ed, e, buildErr, func(ed *Edit) error { return c.verifyReplace(ed, old, new) })
}

// replaceNodes finds every scalar written in the text (not an alias) that
// is a value (a list item or a mapping value) holding k, whole or as one
// of its comma-separated entries, in text order.
func (e *editor) replaceNodes(k Key) []*yaml.Node {
	var out []*yaml.Node
	seen := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || n.Kind == yaml.AliasNode || seen[n] {
			return
		}
		seen[n] = true
		if n.Kind == yaml.ScalarNode {
			pr, ok := e.parent[n]
			isValue := ok && (pr.p.Kind == yaml.SequenceNode || (pr.p.Kind == yaml.MappingNode && pr.i%2 == 1))
			if isValue && scalarHolds(n.Value, k) {
				out = append(out, n)
			}
		}
		for _, ch := range n.Content {
			walk(ch)
		}
	}
	walk(e.c.doc)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Column < out[j].Column
	})
	return out
}

// scalarHolds reports whether a scalar's value is k or has k as one of its
// comma-separated entries.
func scalarHolds(v string, k Key) bool {
	if valueIsKey(v, k) {
		return true
	}
	for _, p := range strings.Split(v, ",") {
		if valueIsKey(p, k) {
			return true
		}
	}
	return false
}

// replaceInNode splices new's text over every occurrence of old's text in
// n's value token. The key must be written literally (no escapes, not
// folded over lines): otherwise the edit is refused, naming the line.
func (e *editor) replaceInNode(n *yaml.Node, old, new Key) error {
	sp, err := e.span(n)
	if err != nil {
		return err
	}
	tok := string(e.t.data[sp.start:sp.end])
	oldText, newText := old.ID, new.ID
	if old.Type == TypePGP {
		// A fingerprint may be written with spaces: find it as written.
		oldText = findSpacedFingerprint(tok, old.ID)
		if oldText == "" {
			return &errUnclean{n.Line, "cannot find the fingerprint in the value"}
		}
	}
	found := 0
	for i := 0; i+len(oldText) <= len(tok); {
		j := strings.Index(tok[i:], oldText)
		if j < 0 {
			break
		}
		at := i + j
		end := at + len(oldText)
		if boundary(tok, at-1) && boundary(tok, end) {
			e.splices = append(e.splices, splice{Start: sp.start + at, End: sp.start + end, Text: newText})
			found++
		}
		i = end
	}
	if found == 0 {
		return &errUnclean{n.Line, "the key is not written literally in the value (escaped or folded over lines)"}
	}
	return nil
}

// boundary reports whether tok[i] cannot continue a key (or is outside tok).
func boundary(tok string, i int) bool {
	if i < 0 || i >= len(tok) {
		return true
	}
	b := tok[i]
	return !(b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '+' || b == '/' || b == '=' || b == '-' || b == '_')
}

// findSpacedFingerprint returns the text of tok that is fp with spaces
// possibly interleaved, or "".
func findSpacedFingerprint(tok, fp string) string {
	for start := 0; start < len(tok); start++ {
		i, j := start, 0
		for i < len(tok) && j < len(fp) {
			switch {
			case tok[i] == fp[j] || (tok[i]|0x20 == fp[j]|0x20 && isHexLetter(tok[i])):
				i++
				j++
			case tok[i] == ' ' && j > 0:
				i++
			default:
				j = -1
			}
			if j < 0 {
				break
			}
		}
		if j == len(fp) {
			return tok[start:i]
		}
	}
	return ""
}

func isHexLetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'f' }

// verifyReplace checks a Replace: every rule and group re-reads as before
// with old swapped for new, names and anchors unchanged, and old gone.
func (c *Config) verifyReplace(ed *Edit, old, new Key) error {
	nc, err := c.reparse(ed)
	if err != nil {
		return err
	}
	if err := compareSwapped(c, nc, old, new); err != nil {
		return errVerify(c.Path, err.Error())
	}
	oldNames, newNames := keyNames(c), keyNames(nc)
	for k, n := range oldNames {
		want := k
		if k == old {
			want = new
		}
		if newNames[want] != n {
			return errVerify(c.Path, fmt.Sprintf("names %s %q instead of %q", shortKey(want.ID), newNames[want], n))
		}
	}
	if len(newNames) != len(oldNames) {
		return errVerify(c.Path, "changes the set of recipients")
	}
	if err := c.sameAnchors(nc, "", ""); err != nil {
		return err
	}
	for _, a := range nc.Anchors {
		if a.node.Kind == yaml.ScalarNode && valueIsKey(a.Value, old) {
			return errVerify(c.Path, fmt.Sprintf("keeps the old key in the anchor &%s", a.Name))
		}
	}
	return nil
}

// compareSwapped checks that nc has c's rules with the same settings and,
// in every group, the same members (and duplicates, and their validity)
// with old swapped for new.
func compareSwapped(c, nc *Config, old, new Key) error {
	if len(nc.Rules) != len(c.Rules) {
		return fmt.Errorf("gives %d creation rules instead of %d", len(nc.Rules), len(c.Rules))
	}
	swap := func(ms []Member) []string {
		var out []string
		for _, m := range ms {
			k := m.Key
			if k == old {
				k = new
			}
			out = append(out, k.String()+"|"+m.Field)
		}
		sort.Strings(out)
		return out
	}
	plain := func(ms []Member) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Key.String()+"|"+m.Field)
		}
		sort.Strings(out)
		return out
	}
	for ri, r := range c.Rules {
		nr := nc.Rules[ri]
		if nr.PathRegex != r.PathRegex || nr.HasPathRegex != r.HasPathRegex || nr.ShamirThreshold != r.ShamirThreshold || nr.KeyGroupsForm != r.KeyGroupsForm ||
			nr.EncryptedRegex != r.EncryptedRegex || nr.UnencryptedRegex != r.UnencryptedRegex ||
			nr.EncryptedSuffix != r.EncryptedSuffix || nr.UnencryptedSuffix != r.UnencryptedSuffix ||
			nr.EncryptedCommentRegex != r.EncryptedCommentRegex || nr.UnencryptedCommentRegex != r.UnencryptedCommentRegex ||
			nr.MACOnlyEncrypted != r.MACOnlyEncrypted {
			return fmt.Errorf("changes the settings of creation rule %d", ri+1)
		}
		if len(nr.Groups) != len(r.Groups) {
			return fmt.Errorf("gives creation rule %d %d key groups instead of %d", ri+1, len(nr.Groups), len(r.Groups))
		}
		for gi, g := range r.Groups {
			ng := nr.Groups[gi]
			if strings.Join(plain(ng.Members), "\n") != strings.Join(swap(g.Members), "\n") {
				return fmt.Errorf("gives rule %d group %d other recipients than intended", ri+1, gi+1)
			}
			if strings.Join(plain(ng.Duplicates), "\n") != strings.Join(swap(g.Duplicates), "\n") {
				return fmt.Errorf("changes the duplicates of rule %d group %d", ri+1, gi+1)
			}
			for _, m := range ng.Members {
				if m.Err != nil && m.Key != new && !memberHasErr(g, m.Key) {
					return fmt.Errorf("makes %s invalid in rule %d group %d", m.Key, ri+1, gi+1)
				}
			}
		}
	}
	return nil
}

// kindOf is "an age", "a pgp", … for messages.
func kindOf(t KeyType) string {
	if t == TypeAge {
		return "an age"
	}
	return "a " + string(t)
}

// ParseRecipientKey reads a key as given on the command line for
// [Config.Replace]: an age recipient (X25519 "age1…", a plugin or
// post-quantum "age1NAME1…", or a native "ssh-ed25519 AAAA…" / "ssh-rsa
// AAAA…" public key, comment dropped), or a PGP fingerprint (40 hex digits,
// spaces allowed). Secret keys are refused without being quoted.
func ParseRecipientKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	if LooksSecret(s) {
		return Key{}, errors.New("the key is a secret key (not repeated here): give its public key (age1…, from age-keygen -y)")
	}
	switch {
	case strings.HasPrefix(s, "ssh-"):
		pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s))
		if err != nil {
			return Key{}, fmt.Errorf("SSH public key %q: %v", truncateForMessage(s), err)
		}
		if t := pk.Type(); t != ssh.KeyAlgoED25519 && t != ssh.KeyAlgoRSA {
			return Key{}, fmt.Errorf("SSH public key %q: a %s key cannot be an age recipient (ssh-ed25519 or ssh-rsa)", truncateForMessage(s), t)
		}
		return Key{Type: TypeAge, ID: NativeSSH(pk)}, nil
	case strings.HasPrefix(s, "age1"):
		hrp, _, err := bech32Decode(s)
		if err == nil && hrp != "age" && strings.HasPrefix(hrp, "age1") && strings.ToLower(s) == s {
			return Key{Type: TypeAge, ID: s}, nil // plugin or post-quantum
		}
		if err := ValidateAgeRecipient(s); err != nil {
			return Key{}, err
		}
		return Key{Type: TypeAge, ID: s}, nil
	}
	fp := strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if len(fp) == 40 && strings.Trim(fp, "0123456789ABCDEF") == "" {
		return Key{Type: TypePGP, ID: fp}, nil
	}
	return Key{}, fmt.Errorf("key %q: not an age recipient (age1…, ssh-ed25519 AAAA…) or a PGP fingerprint", truncateForMessage(s))
}
