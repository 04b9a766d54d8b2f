package recipients

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Rename renames a recipient: its anchor and every alias to it, or the
// trailing comments that name it.
func (c *Config) Rename(oldName, newName string) (*Edit, error) {
	if oldName == newName {
		return nil, fmt.Errorf("the old and new names are the same")
	}
	k, err := c.Lookup(oldName)
	if err != nil {
		return nil, err
	}
	for _, nm := range c.named() {
		if nm.name == newName {
			return nil, fmt.Errorf("%s:%d: the name %q is already used", c.Path, nm.line, newName)
		}
	}
	for _, a := range c.Anchors {
		if a.Name == newName {
			return nil, fmt.Errorf("%s:%d: the anchor %q already exists", c.Path, a.Line, newName)
		}
	}
	e := c.newEditor()
	anchors := map[*yaml.Node]bool{}
	for _, a := range c.Anchors {
		if a.Name == oldName {
			anchors[a.node] = true
		}
	}
	if len(anchors) > 0 && !ValidName(newName) {
		return nil, fmt.Errorf("invalid recipient name %s: use ASCII letters, digits, '_' and '-', starting with a letter or digit", QuoteInput(newName))
	}
	if strings.ContainsAny(newName, "\r\n") || strings.TrimSpace(newName) != newName || newName == "" || LooksSecret(newName) {
		return nil, fmt.Errorf("invalid recipient name %s", QuoteInput(newName))
	}
	if strings.ContainsAny(newName, ",#") {
		// A comment name cannot hold the separator of "# alice, bob" or
		// start another comment.
		return nil, fmt.Errorf("invalid recipient name %s: a name cannot contain ',' or '#'", QuoteInput(newName))
	}
	// Anchors and aliases.
	for n := range anchors {
		off := e.t.nodeStart(n)
		if off+1+len(oldName) > len(e.t.data) || string(e.t.data[off:off+1+len(oldName)]) != "&"+oldName {
			return nil, fmt.Errorf("%s:%w", c.Path, &errUnclean{n.Line, "cannot find the anchor"})
		}
		e.splices = append(e.splices, splice{Start: off + 1, End: off + 1 + len(oldName), Text: newName})
	}
	for n := range e.parent {
		if n.Kind == yaml.AliasNode && anchors[n.Alias] {
			off := e.t.nodeStart(n)
			if string(e.t.data[off:off+1+len(oldName)]) != "*"+oldName {
				return nil, fmt.Errorf("%s:%w", c.Path, &errUnclean{n.Line, "cannot find the alias"})
			}
			e.splices = append(e.splices, splice{Start: off + 1, End: off + 1 + len(oldName), Text: newName})
		}
	}
	// Comment names.
	done := map[*yaml.Node]bool{}
	for _, r := range c.Rules {
		for _, g := range r.Groups {
			for _, list := range [][]Member{g.Members, g.Duplicates} {
				for _, m := range list {
					src := m.src
					if m.Name != oldName || src == nil || src.item.Kind == yaml.AliasNode || src.val.Anchor != "" || done[src.item] {
						continue
					}
					done[src.item] = true
					if err := e.renameComment(src.item, oldName, newName); err != nil {
						return nil, fmt.Errorf("%s:%w", c.Path, err)
					}
				}
			}
		}
	}
	ed := &Edit{Path: c.Path, Old: c.data, Key: k, Name: newName}
	return c.finishEdit(ed, e, nil, func(ed *Edit) error { return c.verifyRename(ed, oldName) })
}

// renameComment replaces the name in the trailing comment of n's line.
func (e *editor) renameComment(n *yaml.Node, oldName, newName string) error {
	end, err := e.nodeEnd(n)
	if err != nil {
		return err
	}
	l := e.t.lineOf(end)
	rest := string(e.t.data[end:e.t.lineEnd(l)])
	i := strings.IndexByte(rest, '#')
	if i < 0 {
		return &errUnclean{l, "cannot find the comment"}
	}
	j := strings.Index(rest[i:], oldName)
	if j < 0 {
		return &errUnclean{l, "cannot find the name in the comment"}
	}
	at := end + i + j
	e.splices = append(e.splices, splice{Start: at, End: at + len(oldName), Text: newName})
	return nil
}

// verifyRename checks a Rename: same recipients everywhere, and every
// member named oldName now named ed.Name.
func (c *Config) verifyRename(ed *Edit, oldName string) error {
	nc, err := c.reparse(ed)
	if err != nil {
		return err
	}
	if err := compareRules(c, nc, Key{}, nil, true); err != nil {
		return errVerify(c.Path, err.Error())
	}
	for ri, r := range c.Rules {
		for gi, g := range r.Groups {
			ng := nc.Rules[ri].Groups[gi]
			for mi, m := range g.Members {
				want := m.Name
				if want == oldName {
					want = ed.Name
				}
				if ng.Members[mi].Name != want {
					return errVerify(c.Path, fmt.Sprintf("names a recipient of rule %d group %d %q instead of %q", ri+1, gi+1, ng.Members[mi].Name, want))
				}
			}
		}
	}
	return c.sameAnchors(nc, oldName, ed.Name)
}
