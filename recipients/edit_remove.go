package recipients

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Remove removes every occurrence of k: its anchor definition and every
// alias, literal list item and comma-separated entry, with their own
// comment lines. It refuses, changing nothing, when a key group would be
// left with no recipient or when an occurrence cannot be removed cleanly.
func (c *Config) Remove(k Key) (*Edit, error) {
	ed := &Edit{Path: c.Path, Old: c.data, Key: k}
	for ri, r := range c.Rules {
		for gi, g := range r.Groups {
			if hasKey(g.Members, k) {
				ed.Changed = append(ed.Changed, GroupRef{ri, gi})
			}
		}
	}
	if err := c.checkNotLast(k); err != nil {
		return nil, err
	}
	e := c.newEditor()
	occ := e.occurrences(k)
	if len(occ) == 0 {
		return nil, fmt.Errorf("%s: %w: %s is not in the file", c.Path, ErrUnknownName, k)
	}
	return c.finishEdit(ed, e, e.removeOccurrences(occ), c.verifyRemove)
}

// occurrence is a place that holds k: a whole node (a list item, a mapping
// value) or one comma-separated entry of a scalar.
type occurrence struct {
	node  *yaml.Node // as written in its parent
	piece int        // entry index in the scalar, -1 for the whole node
}

// occurrences finds every place holding k.
func (e *editor) occurrences(k Key) []occurrence {
	seen := map[occurrence]bool{}
	var out []occurrence
	add := func(o occurrence) {
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	removedAnchors := map[*yaml.Node]bool{}
	for _, r := range e.c.Rules {
		for _, g := range r.Groups {
			for _, list := range [][]Member{g.Members, g.Duplicates} {
				for _, m := range list {
					if m.Key != k || m.src == nil {
						continue
					}
					src := m.src
					if src.piece >= 0 && countEntries(src.val.Value) > 1 {
						add(occurrence{src.val, src.piece})
						continue
					}
					add(occurrence{src.item, -1})
					if src.item.Kind != yaml.AliasNode && src.val.Anchor != "" {
						removedAnchors[src.val] = true
					}
				}
			}
		}
	}
	// Anchored definitions and literal items outside the rules.
	rules := e.rulesNode()
	var walk func(n *yaml.Node, inRules bool)
	walk = func(n *yaml.Node, inRules bool) {
		if n == nil || n.Kind == yaml.AliasNode {
			return
		}
		if n == rules {
			inRules = true
		}
		if n.Kind == yaml.ScalarNode && countEntries(n.Value) == 1 && valueIsKey(n.Value, k) {
			pr, ok := e.parent[n]
			isValue := ok && (pr.p.Kind == yaml.SequenceNode || (pr.p.Kind == yaml.MappingNode && pr.i%2 == 1))
			if isValue && (n.Anchor != "" || (!inRules && pr.p.Kind == yaml.SequenceNode)) {
				add(occurrence{n, -1})
				if n.Anchor != "" {
					removedAnchors[n] = true
				}
			}
		}
		for _, ch := range n.Content {
			walk(ch, inRules)
		}
	}
	walk(e.c.doc, false)
	// Aliases of removed anchors go too.
	for n, pr := range e.parent {
		if n.Kind == yaml.AliasNode && removedAnchors[n.Alias] {
			_ = pr
			add(occurrence{n, -1})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].node, out[j].node
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return out[i].piece < out[j].piece
	})
	return out
}

// rulesNode is the creation_rules sequence, or nil.
func (e *editor) rulesNode() *yaml.Node {
	if e.c.top == nil {
		return nil
	}
	if ref, ok := structFields(e.c.top)["creation_rules"]; ok {
		return deref(ref.val)
	}
	return nil
}

// removeOccurrences turns occurrences into splices.
func (e *editor) removeOccurrences(occ []occurrence) error {
	pieces := map[*yaml.Node][]int{}
	items := map[*yaml.Node]map[int]bool{} // collection → indexes of removed children
	var order []*yaml.Node
	for _, o := range occ {
		if o.piece >= 0 {
			if pieces[o.node] == nil {
				order = append(order, o.node)
			}
			pieces[o.node] = append(pieces[o.node], o.piece)
			continue
		}
		pr, ok := e.parent[o.node]
		if !ok || pr.p.Kind == yaml.DocumentNode {
			return &errUnclean{o.node.Line, "cannot remove the whole document"}
		}
		if items[pr.p] == nil {
			items[pr.p] = map[int]bool{}
		}
		items[pr.p][pr.i] = true
	}
	for _, n := range order {
		whole, err := e.removePieces(n, pieces[n])
		if err != nil {
			return err
		}
		if whole {
			pr := e.parent[n]
			if items[pr.p] == nil {
				items[pr.p] = map[int]bool{}
			}
			items[pr.p][pr.i] = true
		}
	}
	// A collection losing every item goes with its field when it is a
	// block sequence (an empty block sequence cannot be written).
	for changed := true; changed; {
		changed = false
		for coll, idx := range items {
			if coll.Kind != yaml.SequenceNode || len(idx) != len(coll.Content) {
				continue
			}
			pr, ok := e.parent[coll]
			if coll.Style&yaml.FlowStyle != 0 {
				// An emptied flow list stays "[]", except the "age: [x]"
				// Add writes into a flow mapping: that field goes.
				if !ok || pr.p.Kind != yaml.MappingNode || pr.p.Style&yaml.FlowStyle == 0 || keyName(pr.p.Content[pr.i-1]) != "age" || len(pr.p.Content) < 4 {
					continue
				}
			}
			if !ok || pr.p.Kind != yaml.MappingNode {
				return &errUnclean{coll.Line, "the list would be left empty"}
			}
			if !e.fieldRemovable(pr.p, pr.i-1) {
				continue // its items go, and the field is left empty (null)
			}
			delete(items, coll)
			if items[pr.p] == nil {
				items[pr.p] = map[int]bool{}
			}
			if !items[pr.p][pr.i] {
				items[pr.p][pr.i] = true
				changed = true
			}
			break
		}
	}
	colls := make([]*yaml.Node, 0, len(items))
	for coll := range items {
		if coll.Kind == yaml.MappingNode && coll.Anchor != "" && 2*len(items[coll]) == len(coll.Content) {
			// "gd: &gd {pgp: [...]}" losing its only field would be null,
			// and "<<: *gd" (or any alias of it) would then break.
			return &errUnclean{coll.Line, fmt.Sprintf("the anchored mapping &%s would be left empty: remove it and its uses by hand", coll.Anchor)}
		}
		colls = append(colls, coll)
	}
	sort.Slice(colls, func(i, j int) bool { return colls[i].Line < colls[j].Line })
	for _, coll := range colls {
		if err := e.removeChildren(coll, items[coll]); err != nil {
			return err
		}
	}
	return nil
}

// fieldRemovable reports whether the field with key index ki of block
// mapping m can go: its key starts its line, or another key can take its
// place behind a list item's dash.
func (e *editor) fieldRemovable(m *yaml.Node, ki int) bool {
	if m.Style&yaml.FlowStyle != 0 || e.inFlow[m] {
		return true
	}
	return e.beforeIsBlank(e.t.nodeStart(m.Content[ki])) || ki+2 < len(m.Content)
}

// removeChildren removes the items (sequence) or the fields holding the
// values (mapping) at the given indexes.
func (e *editor) removeChildren(coll *yaml.Node, idx map[int]bool) error {
	if coll.Style&yaml.FlowStyle != 0 || e.inFlow[coll] {
		return e.removeFlowEntries(coll, idx)
	}
	var list []int
	for i := range idx {
		list = append(list, i)
	}
	sort.Ints(list)
	for _, i := range list {
		if coll.Kind == yaml.SequenceNode {
			if err := e.removeBlockItem(coll, i, idx); err != nil {
				return err
			}
		} else {
			if err := e.removeBlockField(coll, i-1, idx); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeBlockItem deletes the lines of item i of block sequence seq, with
// its own comment lines (see ownComments); removed holds the indexes of the
// items of seq this edit removes.
func (e *editor) removeBlockItem(seq *yaml.Node, i int, removed map[int]bool) error {
	n := seq.Content[i]
	dash, clean := e.dashOf(n)
	if dash < 0 || !clean {
		return &errUnclean{n.Line, "the list item shares its line with other content"}
	}
	end, err := e.nodeEnd(n)
	if err != nil {
		return err
	}
	if !e.restIsComment(end) {
		return &errUnclean{e.t.lineOf(end), "the list item is followed by other content on its line"}
	}
	first, last := e.t.lineOf(dash), e.t.lineOf(end)
	prevEnd, ok := e.lastLineBefore(seq, i, 1)
	if !ok {
		e.splices = append(e.splices, e.t.deleteLines(first, last))
		return nil
	}
	next := func(j int) (start, end int, err error) {
		d, _ := e.dashOf(seq.Content[j])
		if d < 0 {
			return 0, 0, &errUnclean{seq.Content[j].Line, "a list item without its dash"}
		}
		en, err := e.nodeEnd(seq.Content[j])
		return e.t.lineOf(d), e.t.lineOf(en), err
	}
	first, err = e.ownComments(first, last, prevEnd, i+1, len(seq.Content), 1, removed, next)
	if err != nil {
		return err
	}
	e.splices = append(e.splices, e.t.deleteLines(first, last))
	return nil
}

// lastLineBefore is the last line of content before child i (step 1 for a
// sequence's items, 2 for a mapping's keys) of the block collection coll:
// the end of the child before it, or for the first child the line of the
// key coll is the value of. ok is false when there is no such line to look
// back to (coll is not a mapping's value).
func (e *editor) lastLineBefore(coll *yaml.Node, i, step int) (line int, ok bool) {
	if i >= step {
		pe, err := e.nodeEnd(coll.Content[i-1])
		if err != nil {
			return 0, false
		}
		return e.t.lineOf(pe), true
	}
	pr, found := e.parent[coll]
	if !found || pr.p.Kind != yaml.MappingNode || pr.p.Style&yaml.FlowStyle != 0 || pr.i < 1 {
		return 0, false
	}
	return pr.p.Content[pr.i-1].Line, true
}

// ownComments returns the first line to delete with the child of a block
// collection whose lines are first..last: the comment lines directly above
// it (same indent, after prevEnd, no blank line between) when they belong
// to that child alone, else first itself.
//
// Comment lines head a section when several children follow them: the
// child after this one starts on the very next line (no blank line, no
// comment of its own between them), as "# hosts" heads web1 and web2 in
//
//	# hosts
//	- *web1
//	- *web2
//
// Such a heading stays while any child of its section stays. It belongs to
// the child alone when the child is the last of the collection, or the next
// child is set apart by a blank line or its own comment heading — or when
// every child of its section is removed by this edit. Children are
// numbered from nextIdx to count (stepping by step); removed holds the
// indexes of the removed ones, next gives a child's first and last line.
func (e *editor) ownComments(first, last, prevEnd, nextIdx, count, step int, removed map[int]bool, next func(j int) (start, end int, err error)) (int, error) {
	c := e.ownCommentStart(first, prevEnd, e.t.indent(first))
	if c == first {
		return first, nil
	}
	end := last
	for j := nextIdx; j < count; j += step {
		start, jEnd, err := next(j)
		if err != nil {
			return 0, err
		}
		if start != end+1 {
			break // set apart: the section ends here
		}
		if !removed[j+step-1] {
			return first, nil // a heading of children that stay
		}
		end = jEnd
	}
	return c, nil
}

// removeBlockField deletes the lines of the field whose key is at index ki
// of block mapping m, with its own comment lines (see ownComments); removed
// holds the indexes (of values) of the fields of m this edit removes.
func (e *editor) removeBlockField(m *yaml.Node, ki int, removed map[int]bool) error {
	key, val := m.Content[ki], m.Content[ki+1]
	ks := e.t.nodeStart(key)
	end, err := e.nodeEnd(val)
	if err != nil {
		return err
	}
	if isNull(val) && val.Value == "" {
		end = e.t.lineEnd(key.Line)
	}
	if !e.beforeIsBlank(ks) {
		// "- age: …" as a list item's first key: the next key moves up
		// behind the dash ("- pgp:").
		if ki+2 >= len(m.Content) {
			return &errUnclean{key.Line, fmt.Sprintf("%q is the only key of a list item", keyName(key))}
		}
		next := m.Content[ki+2]
		nks := e.t.nodeStart(next)
		if !e.beforeIsBlank(nks) || e.t.lineOf(end) >= next.Line {
			return &errUnclean{key.Line, fmt.Sprintf("%q is the first key of a list item: remove it by hand", keyName(key))}
		}
		for l := e.t.lineOf(end) + 1; l < next.Line; l++ {
			if strings.TrimSpace(e.t.line(l)) != "" {
				return &errUnclean{l, fmt.Sprintf("a comment between %q and %q: remove it by hand", keyName(key), keyName(next))}
			}
		}
		if !e.restIsComment(end) {
			return &errUnclean{e.t.lineOf(end), "the field is followed by other content on its line"}
		}
		e.splices = append(e.splices, splice{Start: ks, End: nks, Text: ""})
		return nil
	}
	if !e.restIsComment(end) {
		return &errUnclean{e.t.lineOf(end), "the field is followed by other content on its line"}
	}
	first, last := key.Line, e.t.lineOf(end)
	if prevEnd, ok := e.lastLineBefore(m, ki, 2); ok {
		next := func(j int) (start, end int, err error) {
			k, v := m.Content[j], m.Content[j+1]
			en, err := e.nodeEnd(v)
			if isNull(v) && v.Value == "" {
				en, err = e.t.lineEnd(k.Line), nil
			}
			return k.Line, e.t.lineOf(en), err
		}
		first, err = e.ownComments(first, last, prevEnd, ki+2, len(m.Content), 2, removed, next)
		if err != nil {
			return err
		}
	}
	e.splices = append(e.splices, e.t.deleteLines(first, last))
	return nil
}

// removeFlowEntries removes entries of a flow collection with their commas.
func (e *editor) removeFlowEntries(coll *yaml.Node, idx map[int]bool) error {
	step := 1
	if coll.Kind == yaml.MappingNode {
		step = 2
	}
	type entry struct {
		start, end int
		removed    bool
	}
	var entries []entry
	for i := 0; i+step-1 < len(coll.Content); i += step {
		first, last := coll.Content[i], coll.Content[i+step-1]
		end, err := e.nodeEnd(last)
		if err != nil {
			return err
		}
		removed := idx[i+step-1]
		entries = append(entries, entry{e.t.nodeStart(first), end, removed})
	}
	firstKept, kept := -1, 0
	for i, en := range entries {
		if !en.removed {
			if firstKept < 0 {
				firstKept = i
			}
			kept++
		}
	}
	// "age: [*alice,*new]" minus *new is "age: *alice" again, and
	// "[&alice age1…,*new]" is "&alice age1…": the lists Add makes of a
	// single value, told apart from lists the file had by their exact text
	// (see aliasListSep).
	if pr, ok := e.parent[coll]; ok && kept == 1 && len(entries) == 2 && coll.Kind == yaml.SequenceNode && coll.Anchor == "" && coll.Style&yaml.TaggedStyle == 0 &&
		(coll.Content[firstKept].Kind == yaml.AliasNode || coll.Content[firstKept].Anchor != "") && pr.p.Kind == yaml.MappingNode && !e.inFlow[coll] &&
		keyName(pr.p.Content[pr.i-1]) == "age" && len(e.readersOf(pr.p)) > 0 {
		start := e.t.nodeStart(coll)
		end, err := e.nodeEnd(coll)
		if err != nil {
			return err
		}
		made := "[" + string(e.t.data[entries[0].start:entries[0].end]) + aliasListSep + string(e.t.data[entries[1].start:entries[1].end]) + "]"
		if string(e.t.data[start:end]) == made {
			en := entries[firstKept]
			e.splices = append(e.splices, splice{Start: start, End: end, Text: string(e.t.data[en.start:en.end])})
			return nil
		}
	}
	for i, en := range entries {
		if !en.removed {
			continue
		}
		switch {
		case firstKept < 0: // every entry goes: "[a, b]" → "[]"
			if i == 0 {
				e.splices = append(e.splices, splice{Start: entries[0].start, End: entries[len(entries)-1].end, Text: ""})
			}
		case i < firstKept:
			if i == 0 {
				e.splices = append(e.splices, splice{Start: en.start, End: entries[firstKept].start, Text: ""})
			}
		default:
			e.splices = append(e.splices, splice{Start: entries[i-1].end, End: en.end, Text: ""})
		}
	}
	return nil
}

// scalarContent returns the region of a scalar's text that holds its
// value: inside the quotes, below a block header, or the plain text.
func (e *editor) scalarContent(n *yaml.Node) (span, error) {
	sp, err := e.span(n)
	if err != nil {
		return sp, err
	}
	raw := string(e.t.data[sp.start:sp.end])
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		if strings.Contains(raw, `\`) {
			return sp, &errUnclean{n.Line, "a quoted value with escapes"}
		}
		return span{sp.start + 1, sp.end - 1}, nil
	case n.Style&yaml.SingleQuotedStyle != 0:
		if strings.Contains(raw[1:len(raw)-1], "''") {
			return sp, &errUnclean{n.Line, "a quoted value with escapes"}
		}
		return span{sp.start + 1, sp.end - 1}, nil
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		l := e.t.lineOf(sp.start)
		start := e.t.lineStart(l + 1)
		if start > sp.end {
			return span{sp.end, sp.end}, nil
		}
		return span{start, sp.end}, nil
	}
	return sp, nil
}

// rawPieces splits a scalar's text at commas, checking that each raw piece
// is the entry yaml reads there.
func (e *editor) rawPieces(n *yaml.Node) (span, []span, error) {
	ct, err := e.scalarContent(n)
	if err != nil {
		return ct, nil, err
	}
	raw := string(e.t.data[ct.start:ct.end])
	want := strings.Split(n.Value, ",")
	var out []span
	pos := ct.start
	for _, p := range strings.Split(raw, ",") {
		s, t := pos, pos+len(p)
		for s < t && isSpace(e.t.data[s]) {
			s++
		}
		for t > s && isSpace(e.t.data[t-1]) {
			t--
		}
		out = append(out, span{s, t})
		pos += len(p) + 1
	}
	if len(out) != len(want) {
		return ct, nil, &errUnclean{n.Line, "the comma-separated value is written in a way the editor does not follow"}
	}
	for i, sp := range out {
		if string(e.t.data[sp.start:sp.end]) != strings.TrimSpace(want[i]) {
			return ct, nil, &errUnclean{n.Line, "the comma-separated value is written in a way the editor does not follow"}
		}
	}
	return ct, out, nil
}

// removePieces removes entries of a comma-separated scalar, and their
// names from its trailing comment. whole is true when no entry would
// remain: the caller removes the value instead.
func (e *editor) removePieces(n *yaml.Node, drop []int) (whole bool, err error) {
	ct, pieces, err := e.rawPieces(n)
	if err != nil {
		return false, err
	}
	dropSet := map[int]bool{}
	for _, d := range drop {
		dropSet[d] = true
	}
	var entries []span
	dropEntry := map[int]bool{}
	for i, p := range pieces {
		if p.start == p.end {
			continue
		}
		if dropSet[i] {
			dropEntry[len(entries)] = true
		}
		entries = append(entries, p)
	}
	if len(dropEntry) == len(entries) {
		return true, nil
	}
	e.splices = append(e.splices, splice{Start: ct.start, End: ct.end, Text: cutEntries(e.t.data, ct, entries, dropEntry)})
	if region, names := e.commentNames(n, len(entries)); names != nil {
		e.splices = append(e.splices, splice{Start: region.start, End: region.end, Text: cutEntries(e.t.data, region, names, dropEntry)})
	}
	return false, nil
}

// cutEntries returns region's text without the dropped entries: the last
// remaining entry takes its preceding separator along, others their
// following one.
func cutEntries(data []byte, region span, entries []span, drop map[int]bool) string {
	removed := make([]bool, region.end-region.start)
	live := make([]int, len(entries))
	for i := range live {
		live[i] = i
	}
	for d := range entries {
		if !drop[d] {
			continue
		}
		pos := -1
		for j, v := range live {
			if v == d {
				pos = j
			}
		}
		var from, to int
		if pos == len(live)-1 {
			from, to = entries[live[pos-1]].end, entries[d].end
		} else {
			from, to = entries[d].start, entries[live[pos+1]].start
		}
		for i := from; i < to; i++ {
			removed[i-region.start] = true
		}
		live = append(live[:pos], live[pos+1:]...)
	}
	var b strings.Builder
	for i := region.start; i < region.end; i++ {
		if !removed[i-region.start] {
			b.WriteByte(data[i])
		}
	}
	return b.String()
}

// commentNames finds the trailing comment of a single-line scalar that
// names each of its n entries ("age: a,b # alice, bob"): the region after
// "# " and the span of each name. names is nil when there is no such
// comment.
func (e *editor) commentNames(n *yaml.Node, count int) (region span, names []span) {
	sp, err := e.span(n)
	if err != nil || e.t.lineOf(sp.start) != e.t.lineOf(sp.end) || count < 1 {
		return span{}, nil
	}
	l := e.t.lineOf(sp.end)
	lineEnd := e.t.lineEnd(l)
	rest := string(e.t.data[sp.end:lineEnd])
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return span{}, nil
	}
	if e.inFlow[n] {
		return span{}, nil
	}
	h := strings.IndexByte(rest, '#')
	if h < 0 || strings.TrimSpace(rest[:h]) != "" {
		return span{}, nil
	}
	start := sp.end + h + 1
	for start < lineEnd && e.t.data[start] == ' ' {
		start++
	}
	end := lineEnd
	for end > start && (e.t.data[end-1] == ' ' || e.t.data[end-1] == '\t') {
		end--
	}
	pos := start
	for _, p := range strings.Split(string(e.t.data[start:end]), ",") {
		s, t := pos, pos+len(p)
		for s < t && e.t.data[s] == ' ' {
			s++
		}
		for t > s && e.t.data[t-1] == ' ' {
			t--
		}
		if s == t {
			return span{}, nil
		}
		names = append(names, span{s, t})
		pos += len(p) + 1
	}
	if len(names) != count {
		return span{}, nil
	}
	return span{start, end}, names
}
