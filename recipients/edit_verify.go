package recipients

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Verification: before an edit is returned, its text is parsed and resolved
// again and compared with the old resolution plus the intended change. A
// difference means the editor misjudged the file: nothing is to be written.

// ErrNotVerified reports an edit whose text did not re-read as the
// intended change: the editor misjudged the file, and nothing may be
// written.
var ErrNotVerified = errors.New("the edit was not applied")

// errVerify wraps what differs.
func errVerify(path, what string) error {
	return fmt.Errorf("%s: %w: re-reading the edited text %s (please report this with your .sops.yaml)", path, ErrNotVerified, what)
}

// groupKeys is a group's members as a sorted multiset.
func groupKeys(g Group, drop Key) []string {
	var out []string
	for _, m := range g.Members {
		if m.Key != drop {
			out = append(out, m.Key.String())
		}
	}
	sort.Strings(out)
	return out
}

// names maps every named key to its names.
func keyNames(c *Config) map[Key]string {
	out := map[Key][]string{}
	for _, r := range c.Rules {
		for _, g := range r.Groups {
			for _, m := range g.Members {
				out[m.Key] = append(out[m.Key], m.Name)
			}
		}
	}
	res := map[Key]string{}
	for k, v := range out {
		sort.Strings(v)
		res[k] = strings.Join(v, ",")
	}
	return res
}

// compareRules checks that nc has c's rules and groups, where each group's
// keys are the old ones with k added (in changed groups, when adding) or
// removed (everywhere, when removing).
func compareRules(c, nc *Config, k Key, changed map[GroupRef]bool, adding bool) error {
	if len(nc.Rules) != len(c.Rules) {
		return fmt.Errorf("gives %d creation rules instead of %d", len(nc.Rules), len(c.Rules))
	}
	for ri, r := range c.Rules {
		nr := nc.Rules[ri]
		if nr.PathRegex != r.PathRegex || nr.ShamirThreshold != r.ShamirThreshold || nr.KeyGroupsForm != r.KeyGroupsForm ||
			nr.EncryptedRegex != r.EncryptedRegex || nr.UnencryptedRegex != r.UnencryptedRegex ||
			nr.EncryptedSuffix != r.EncryptedSuffix || nr.UnencryptedSuffix != r.UnencryptedSuffix ||
			nr.MACOnlyEncrypted != r.MACOnlyEncrypted {
			return fmt.Errorf("changes the settings of creation rule %d", ri+1)
		}
		if len(nr.Groups) != len(r.Groups) {
			return fmt.Errorf("gives creation rule %d %d key groups instead of %d", ri+1, len(nr.Groups), len(r.Groups))
		}
		for gi, g := range r.Groups {
			ng := nr.Groups[gi]
			want := groupKeys(g, Key{})
			if adding && changed[GroupRef{ri, gi}] {
				want = append(want, k.String())
				sort.Strings(want)
			}
			if !adding {
				want = groupKeys(g, k)
			}
			got := groupKeys(ng, Key{})
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				return fmt.Errorf("gives rule %d group %d other recipients than intended", ri+1, gi+1)
			}
			if len(ng.Duplicates) != len(g.Duplicates) && !hasKey(g.Duplicates, k) {
				return fmt.Errorf("changes the duplicates of rule %d group %d", ri+1, gi+1)
			}
			for _, m := range ng.Members {
				if m.Err != nil && m.Key != k && !memberHasErr(g, m.Key) {
					return fmt.Errorf("makes %s invalid in rule %d group %d", m.Key, ri+1, gi+1)
				}
			}
		}
	}
	return nil
}

func memberHasErr(g Group, k Key) bool {
	for _, m := range g.Members {
		if m.Key == k && m.Err != nil {
			return true
		}
	}
	return false
}

func (c *Config) reparse(ed *Edit) (*Config, error) {
	nc, err := ParseConfig(c.Path, ed.New)
	if err != nil {
		return nil, errVerify(c.Path, fmt.Sprintf("fails (%v)", err))
	}
	return nc, nil
}

// verifyAdd checks an Add.
func (c *Config) verifyAdd(ed *Edit) error {
	nc, err := c.reparse(ed)
	if err != nil {
		return err
	}
	changed := map[GroupRef]bool{}
	for _, g := range ed.Changed {
		changed[g] = true
	}
	if err := compareRules(c, nc, ed.Key, changed, true); err != nil {
		return errVerify(c.Path, err.Error())
	}
	old, now := keyNames(c), keyNames(nc)
	for k, n := range old {
		if k != ed.Key && now[k] != n {
			return errVerify(c.Path, fmt.Sprintf("renames %s", shortKey(k.ID)))
		}
	}
	if got := nc.NameOf(ed.Key); got != ed.Name {
		if got != "" || !ed.unnamed {
			return errVerify(c.Path, fmt.Sprintf("names the new recipient %q instead of %q", got, ed.Name))
		}
		name := ed.Name
		ed.Name = "" // the file could not carry it
		return c.sameAnchors(nc, "", name)
	}
	return c.sameAnchors(nc, "", ed.Name)
}

// sameAnchors checks that nc keeps c's anchors, except one renamed or added.
func (c *Config) sameAnchors(nc *Config, gone, added string) error {
	have := map[string]int{}
	for _, a := range nc.Anchors {
		have[a.Name]++
	}
	for _, a := range c.Anchors {
		if a.Name == gone {
			continue
		}
		if have[a.Name] == 0 {
			return errVerify(c.Path, fmt.Sprintf("loses the anchor &%s", a.Name))
		}
		have[a.Name]--
	}
	for n, left := range have {
		if left > 0 && n != added {
			return errVerify(c.Path, fmt.Sprintf("adds the anchor &%s", n))
		}
	}
	return nil
}

// checkNotLast refuses a removal that would empty a key group.
func (c *Config) checkNotLast(k Key) error {
	for ri, r := range c.Rules {
		for gi, g := range r.Groups {
			if len(g.Members) > 0 && len(groupKeys(g, k)) == 0 {
				return fmt.Errorf("%s:%d: refusing to remove %s: rule %d group %d would be left with no recipient", c.Path, g.Line, describeKey(c, k), ri+1, gi+1)
			}
		}
	}
	return nil
}

// verifyRemove checks a Remove.
func (c *Config) verifyRemove(ed *Edit) error {
	nc, err := c.reparse(ed)
	if err != nil {
		return err
	}
	if err := compareRules(c, nc, ed.Key, nil, false); err != nil {
		return errVerify(c.Path, err.Error())
	}
	for _, r := range nc.Rules {
		for _, g := range r.Groups {
			if hasKey(g.Members, ed.Key) || hasKey(g.Duplicates, ed.Key) {
				return errVerify(c.Path, "still has the key")
			}
		}
	}
	old, now := keyNames(c), keyNames(nc)
	for k, n := range now {
		if old[k] != n {
			return errVerify(c.Path, fmt.Sprintf("renames %s", shortKey(k.ID)))
		}
	}
	return nil
}

func describeKey(c *Config, k Key) string {
	if n := c.NameOf(k); n != "" {
		return fmt.Sprintf("%q", n)
	}
	return shortKey(k.ID)
}
