package sopsfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// jsonEditor edits the "sops" object of a JSON (or binary) file by byte
// ranges, in the file's own layout.
type jsonEditor struct {
	data  []byte
	root  *mnode
	nl    string // "" for compact JSON
	unit  string // one level of indentation
	colon string // between a key and its value, e.g. ": "
}

func newJSONEditor(data []byte) (*jsonEditor, error) {
	root, err := parseJSON(data)
	if err != nil {
		return nil, err
	}
	if root == nil || len(root.keys) == 0 {
		return nil, ErrNotEncrypted
	}
	e := &jsonEditor{data: data, root: root, colon: ": ", unit: "\t"}
	ws := string(data[root.start+1 : root.kstart[0]])
	if i := strings.LastIndexByte(ws, '\n'); i >= 0 {
		e.nl = "\n"
		if strings.HasSuffix(ws[:i], "\r") {
			e.nl = "\r\n"
		}
		inner, outer := ws[i+1:], e.lineIndent(root.start)
		if strings.HasPrefix(inner, outer) && len(inner) > len(outer) {
			e.unit = inner[len(outer):]
		}
	} else {
		e.unit = ""
	}
	// The separator after the first key: from its closing quote to its value.
	p := &jsonParser{data: data, pos: root.kstart[0]}
	if _, err := p.str(); err == nil {
		e.colon = string(data[p.pos:root.items[0].start])
	}
	return e, nil
}

// lineIndent returns the whitespace at the start of the line holding off.
func (e *jsonEditor) lineIndent(off int) string {
	s := bytes.LastIndexByte(e.data[:off], '\n') + 1
	i := s
	for i < len(e.data) && (e.data[i] == ' ' || e.data[i] == '\t') {
		i++
	}
	return string(e.data[s:i])
}

func (e *jsonEditor) get(m *mnode, key string) (int, *mnode) {
	for i, k := range m.keys {
		if k == key {
			return i, m.items[i]
		}
	}
	return -1, nil
}

func (e *jsonEditor) parentFor(g int) (*mnode, error) {
	flat := false
	for _, t := range stanzaTypes {
		if _, v := e.get(e.root, string(t)); v != nil && v.kind == kindList && len(v.items) > 0 {
			flat = true
		}
	}
	_, kg := e.get(e.root, "key_groups")
	if flat || kg == nil || kg.kind != kindList || len(kg.items) == 0 {
		if g != 0 {
			return nil, fmt.Errorf("key group %d does not exist", g+1)
		}
		return e.root, nil
	}
	if g >= len(kg.items) || kg.items[g].kind != kindMap {
		return nil, fmt.Errorf("key group %d does not exist", g+1)
	}
	return kg.items[g], nil
}

// span returns member i's byte range (key included for objects).
func span(c *mnode, i int) (int, int) {
	if c.kind == kindMap {
		return c.kstart[i], c.items[i].stop
	}
	return c.items[i].start, c.items[i].stop
}

// removeMembers returns edits deleting members of container c (object
// entries or array items), with their separators.
func removeMembers(c *mnode, drop map[int]bool) []edit {
	if len(drop) == 0 || c == nil {
		return nil
	}
	n := len(c.items)
	if len(drop) >= n {
		return []edit{{Start: c.start + 1, End: c.stop - 1, Text: ""}}
	}
	var edits []edit
	j := 0
	for j < n && drop[j] {
		j++
	}
	if j > 0 {
		s, _ := span(c, 0)
		t, _ := span(c, j)
		edits = append(edits, edit{Start: s, End: t, Text: ""})
	}
	for i := j + 1; i < n; i++ {
		if drop[i] {
			_, prevStop := span(c, i-1)
			_, stop := span(c, i)
			edits = append(edits, edit{Start: prevStop, End: stop, Text: ""})
		}
	}
	return edits
}

// insertMember returns the edit adding "name": value to object m where sops'
// alphabetical order puts it, among the members that are kept.
func (e *jsonEditor) insertMember(m *mnode, dropped map[int]bool, name, value string) (edit, error) {
	ind := e.lineIndent(m.start) + e.unit
	if len(m.keys) > 0 {
		ind = e.lineIndent(m.kstart[0])
	}
	entry := jsonString(name) + e.colon + value
	lastKept := -1
	for i, k := range m.keys {
		if dropped[i] {
			continue
		}
		if k > name {
			return edit{Start: m.kstart[i], End: m.kstart[i], Text: entry + "," + e.nl + ind}, nil
		}
		lastKept = i
	}
	if lastKept < 0 {
		return edit{}, errors.New("internal error: no metadata entry to insert next to")
	}
	at := m.items[lastKept].stop
	sep := e.nl + ind
	if e.nl == "" {
		sep = ""
	}
	return edit{Start: at, End: at, Text: "," + sep + entry}, nil
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// renderObject renders fields as an object whose closing brace is at
// indentation ind.
func (e *jsonEditor) renderObject(fs []Field, ind string) string {
	items := make([]string, len(fs))
	for i, f := range fs {
		if f.Map != nil {
			items[i] = jsonString(f.Name) + e.colon + e.renderObject(f.Map, ind+e.unit)
		} else {
			items[i] = jsonString(f.Name) + e.colon + jsonString(f.Value)
		}
	}
	return e.renderItems('{', '}', items, ind)
}

// in returns the indentation when the file is indented at all.
func (e *jsonEditor) in(ind string) string {
	if e.nl == "" {
		return ""
	}
	return ind
}

// renderList renders items (already rendered) as an array closing at ind.
func (e *jsonEditor) renderList(items []string, ind string) string {
	return e.renderItems('[', ']', items, ind)
}

// renderItems renders items (already rendered) one per line between open
// and close, which is at indentation ind; on one line when the file has no
// newlines.
func (e *jsonEditor) renderItems(open, close byte, items []string, ind string) string {
	if len(items) == 0 {
		return string([]byte{open, close}) // "hc_vault": [], as sops writes it
	}
	var b strings.Builder
	b.WriteByte(open)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(e.nl + e.in(ind+e.unit) + it)
	}
	b.WriteString(e.nl + e.in(ind))
	b.WriteByte(close)
	return b.String()
}

func (e *jsonEditor) apply(c change) ([]edit, error) {
	var edits []edit
	for _, g := range changedGroups(c) {
		parent, err := e.parentFor(g)
		if err != nil {
			return nil, err
		}
		droppedMembers := map[int]bool{}
		var inserts []recipients.KeyType
		for _, t := range stanzaTypes {
			drop, add := c.drop[g][t], c.add[g][t]
			if len(drop) == 0 && len(add) == 0 {
				continue
			}
			ki, seq := e.get(parent, string(t))
			items := 0
			if seq != nil && seq.kind == kindList {
				items = len(seq.items)
			}
			dropSet := map[int]bool{}
			for _, i := range drop {
				if i < 0 || i >= items {
					return nil, fmt.Errorf("%s entry %d not found in the JSON text", t, i)
				}
				dropSet[i] = true
			}
			if items > 0 && len(dropSet) == items && len(add) == 0 {
				droppedMembers[ki] = true
				continue
			}
			edits = append(edits, removeMembers(seq, dropSet)...)
			if len(add) == 0 {
				continue
			}
			var like []string
			if items > 0 && seq.items[0].kind == kindMap {
				like = seq.items[0].keys
			}
			switch {
			case items > len(dropSet):
				ind := e.lineIndent(seq.items[0].start)
				var b strings.Builder
				for _, fs := range add {
					b.WriteString("," + e.nl + e.in(ind) + e.renderObject(orderFields(fs, like), ind))
				}
				lastKept := items - 1
				for dropSet[lastKept] {
					lastKept--
				}
				at := seq.items[lastKept].stop
				edits = append(edits, edit{Start: at, End: at, Text: b.String()})
			case seq != nil:
				// Replace the value ([] or null, or a list losing every item).
				ind := e.lineIndent(parent.kstart[ki])
				var its []string
				for _, fs := range add {
					its = append(its, e.renderObject(orderFields(fs, like), ind+e.unit))
				}
				if items > 0 {
					edits = removeEditsWithin(edits, seq)
				}
				edits = append(edits, edit{Start: seq.start, End: seq.stop, Text: e.renderList(its, ind)})
			default:
				inserts = append(inserts, t)
			}
		}
		edits = append(edits, removeMembers(parent, droppedMembers)...)
		for _, t := range inserts {
			ind := e.lineIndent(parent.start) + e.unit
			if len(parent.keys) > 0 {
				ind = e.lineIndent(parent.kstart[0])
			}
			var its []string
			for _, fs := range c.add[g][t] {
				its = append(its, e.renderObject(sortFields(append([]Field(nil), fs...)), ind+e.unit))
			}
			ed, err := e.insertMember(parent, droppedMembers, string(t), e.renderList(its, ind))
			if err != nil {
				return nil, err
			}
			edits = append(edits, ed)
		}
	}
	return edits, nil
}

// removeEditsWithin drops edits inside n's span (superseded by replacing n).
func removeEditsWithin(edits []edit, n *mnode) []edit {
	out := edits[:0]
	for _, ed := range edits {
		if ed.Start >= n.start && ed.End <= n.stop {
			continue
		}
		out = append(out, ed)
	}
	return out
}

func (e *jsonEditor) replace(groups [][]NewStanza, threshold int) ([]edit, error) {
	dropped := map[int]bool{}
	for i, k := range e.root.keys {
		if keyEntries[k] {
			dropped[i] = true
		}
	}
	if len(dropped) == len(e.root.keys) {
		return nil, errors.New("the sops object holds only key entries; cannot edit it in place")
	}
	edits := removeMembers(e.root, dropped)
	ind := e.lineIndent(e.root.kstart[0])
	type entry struct{ name, value string }
	var entries []entry
	renderGroup := func(g []NewStanza, ind string, shamir bool) []entry {
		var out []entry
		types := sortedTypes(g)
		if shamir {
			types = keyGroupTypes(g)
		}
		for _, t := range types {
			var its []string
			for _, s := range g {
				if s.Key.Type == t {
					its = append(its, e.renderObject(sortFields(append([]Field(nil), s.Fields...)), ind+e.unit))
				}
			}
			out = append(out, entry{string(t), e.renderList(its, ind)})
		}
		return out
	}
	if len(groups) == 1 {
		entries = renderGroup(groups[0], ind, false)
	} else {
		var objs []string
		gind := ind + e.unit
		for _, g := range groups {
			var b strings.Builder
			b.WriteByte('{')
			for i, en := range renderGroup(g, gind+e.unit, true) {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(e.nl + e.in(gind+e.unit) + jsonString(en.name) + e.colon + en.value)
			}
			b.WriteString(e.nl + e.in(gind) + "}")
			objs = append(objs, b.String())
		}
		entries = append(entries, entry{"key_groups", e.renderList(objs, ind)})
		entries = append(entries, entry{"shamir_threshold", fmt.Sprint(threshold)})
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	for _, en := range entries {
		ed, err := e.insertMember(e.root, dropped, en.name, en.value)
		if err != nil {
			return nil, err
		}
		edits = append(edits, ed)
	}
	return edits, nil
}
