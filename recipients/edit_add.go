package recipients

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Add adds a recipient named o.Name to the target groups, in the field sops
// reads for its type (see [FieldFor]; the field is created when the group
// has none).
//
// Where the file defines recipients as anchors, the anchor "&NAME key" is
// added to the list where o.Like (else the last anchored recipient) is
// defined, and "*NAME" to each target group. Where it writes literal keys,
// the key is added with a "# NAME" comment. In a comma-separated string the
// key is appended in the string's own style (such a string cannot carry a
// name). A group that already has the key is left alone and noted.
func (c *Config) Add(o AddOptions) (*Edit, error) {
	if !ValidName(o.Name) {
		return nil, fmt.Errorf("invalid recipient name %s: use ASCII letters, digits, '_' and '-', starting with a letter or digit", QuoteInput(o.Name))
	}
	if _, err := o.addRecipient(); err != nil {
		return nil, err
	}
	if len(o.Targets) == 0 {
		return nil, fmt.Errorf("no target group: use --path, --like or --all")
	}
	// The name must not already name another key.
	var existingAnchor *Anchor
	for _, nm := range c.named() {
		if nm.name == o.Name && nm.key != o.Key {
			return nil, fmt.Errorf("%s:%d: the name %q already names another key (%s)", c.Path, nm.line, o.Name, shortKey(nm.key.ID))
		}
	}
	for _, a := range c.Anchors {
		if a.Name == o.Name {
			if a.node.Kind != yaml.ScalarNode || strings.TrimSpace(a.Value) != o.Key.ID {
				return nil, fmt.Errorf("%s:%d: the anchor %q already exists for something else", c.Path, a.Line, o.Name)
			}
			existingAnchor = a
		}
	}
	if cur := c.NameOf(o.Key); cur != "" && cur != o.Name {
		return nil, fmt.Errorf("%s: the key is already in the file as %q: use that name (or rename it first)", c.Path, cur)
	}
	ed := &Edit{Path: c.Path, Old: c.data, Key: o.Key, Name: o.Name}
	var eff []GroupRef
	var already []string
	for _, t := range o.Targets {
		if t.Rule < 0 || t.Rule >= len(c.Rules) || t.Group < 0 || t.Group >= len(c.Rules[t.Rule].Groups) {
			return nil, fmt.Errorf("%s: no %s", c.Path, t)
		}
		g := c.Rules[t.Rule].Groups[t.Group]
		if hasKey(g.Members, o.Key) {
			already = append(already, fmt.Sprintf("%s (line %d)", t, g.Line))
			continue
		}
		eff = append(eff, t)
	}
	if len(already) > 0 {
		ed.Notes = append(ed.Notes, fmt.Sprintf("%s is already in %s: left as is", o.Name, strings.Join(already, ", ")))
	}
	if len(eff) == 0 {
		ed.New = c.data
		return ed, nil
	}
	ed.Changed = eff
	e := c.newEditor()
	return c.finishEdit(ed, e, e.add(o, eff, existingAnchor, ed), c.verifyAdd)
}

func shortKey(id string) string {
	if len(id) > 20 {
		return id[:16] + "…"
	}
	return id
}

// container kinds: where a group's age recipients are written.
const (
	cSeq       = iota // a block or flow sequence
	cString           // a comma-separated string
	cNullField        // "age:" with no value
	cNewField         // no age field: one is added to the mapping
	cAlias            // "age: *alice": becomes the flow list "[*alice,*new]"
)

type container struct {
	kind    int
	field   string     // "age", "pgp", …
	val     addValue   // what is written into it
	node    *yaml.Node // sequence, scalar, null value, or the mapping
	key     *yaml.Node // the field's key (cNullField)
	owner   *yaml.Node // the mapping holding the field (cAlias)
	at      int        // offset where text is inserted, for ordering
	readers []GroupRef
}

// ageContainer finds where group g's age recipients are written.
func (e *editor) ageContainer(g *Group) (*container, error) { return e.fieldContainer(g, "age") }

// fieldContainer finds where group g's recipients of field are written.
func (e *editor) fieldContainer(g *Group, field string) (*container, error) {
	ct, err := e.fieldContainer1(g, field)
	if ct != nil {
		ct.field = field
	}
	return ct, err
}

func (e *editor) fieldContainer1(g *Group, field string) (*container, error) {
	fields := structFields(g.mapping)
	ref, ok := fields[field]
	if !ok {
		return &container{kind: cNewField, node: g.mapping}, nil
	}
	v := deref(ref.val)
	switch {
	case v.Kind == yaml.SequenceNode:
		return &container{kind: cSeq, node: v}, nil
	case isNull(v):
		if ref.val.Kind == yaml.AliasNode || v.Value != "" || e.inFlow[v] {
			return nil, &errUnclean{ref.key.Line, "the " + field + " field is an explicit null"}
		}
		return &container{kind: cNullField, node: v, key: ref.key}, nil
	case v.Kind == yaml.ScalarNode && (ref.val.Kind == yaml.AliasNode || v.Anchor != ""):
		// "age: *alice" becomes "age: [*alice,*new]", and
		// "age: &alice age1…" becomes "age: [&alice age1…,*new]": the
		// anchor keeps naming one key. See aliasListSep.
		if e.inFlow[ref.val] || countEntries(v.Value) != 1 || ref.merged {
			return nil, &errUnclean{ref.key.Line, "the " + field + " field is an anchor or alias that cannot be extended here: write it as a list"}
		}
		return &container{kind: cAlias, node: ref.val, owner: ref.owner}, nil
	case v.Kind == yaml.ScalarNode:
		return &container{kind: cString, node: v}, nil
	}
	return nil, &errUnclean{ref.key.Line, "the " + field + " field is neither a list nor a string"}
}

// readersOf lists the groups built from node n.
func (e *editor) readersOf(n *yaml.Node) []GroupRef {
	var out []GroupRef
	for ri, r := range e.c.Rules {
		for gi, g := range r.Groups {
			if g.reads[n] {
				out = append(out, GroupRef{ri, gi})
			}
		}
	}
	return out
}

func (e *editor) add(o AddOptions, targets []GroupRef, existing *Anchor, ed *Edit) error {
	isTarget := map[GroupRef]bool{}
	for _, t := range targets {
		isTarget[t] = true
	}
	rc, err := o.addRecipient()
	if err != nil {
		return err
	}
	// One container per distinct node.
	var conts []*container
	byNode := map[*yaml.Node]*container{}
	objects := false // some value is a mapping: no anchors then
	field := ""      // the field of the first target (for the anchor's list)
	for _, t := range targets {
		g := &e.c.Rules[t.Rule].Groups[t.Group]
		val, err := valueFor(rc, e.c.Rules[t.Rule])
		if err != nil {
			return err
		}
		if val.lines != nil {
			objects = true
		}
		if field == "" {
			field = val.field
		}
		ct, err := e.fieldContainer(g, val.field)
		if err != nil {
			return err
		}
		ct.val = val
		if prev := byNode[ct.node]; prev != nil {
			continue
		}
		ct.readers = e.readersOf(ct.node)
		if ct.kind == cAlias {
			ct.readers = e.readersOf(ct.owner)
		}
		for _, rd := range ct.readers {
			if !isTarget[rd] && !hasKey(e.c.Rules[rd.Rule].Groups[rd.Group].Members, o.Key) {
				return &errUnclean{ct.node.Line, fmt.Sprintf("the %s recipients of %s are shared with %s (rule line %d): target it too (--like, --path, --all) or edit by hand", ct.field, t, rd, e.c.Rules[rd.Rule].Line)}
			}
		}
		at, err := e.insertPoint(ct)
		if err != nil {
			return err
		}
		ct.at = at
		byNode[ct.node] = ct
		conts = append(conts, ct)
	}
	sort.SliceStable(conts, func(i, j int) bool { return conts[i].at < conts[j].at })

	// Choose how the key is written.
	anchored := !objects && (existing != nil || e.usesAnchors())
	if objects && existing != nil {
		return &errUnclean{existing.Line, fmt.Sprintf("the anchor &%s names a string; a %s key is written as a mapping", o.Name, rc.Kind)}
	}
	var def, defAfter *yaml.Node // the list that gets "&NAME key" (nil: none needed)
	if anchored && existing == nil {
		def, defAfter = e.definitionList(o.Like, isTarget, field)
		if def != nil && byNode[def] != nil {
			// The list is itself a target: it must come before the others.
			for _, ct := range conts {
				if ct.kind != cString {
					if ct.node != def {
						def = nil
					}
					break
				}
			}
		}
		if def != nil && byNode[def] == nil {
			// A definitions-only list below a target group cannot be used:
			// an alias must come after its anchor.
			end, err := e.nodeEnd(def)
			if err != nil {
				def = nil
			}
			for _, ct := range conts {
				if def != nil && ct.kind != cString && ct.at < end {
					def = nil
				}
			}
		}
		if def == nil {
			for _, ct := range conts {
				if ct.kind != cString {
					def = ct.node
					break
				}
			}
		}
	}
	if existing != nil {
		for _, ct := range conts {
			if ct.at < e.t.nodeStart(existing.node) {
				return &errUnclean{e.t.lineOf(ct.at), fmt.Sprintf("the anchor &%s is defined below this group (line %d)", o.Name, existing.Line)}
			}
		}
	}
	defDone := false
	if def != nil && byNode[def] == nil {
		// A definitions-only list (e.g. a top-level keys: list).
		if err := e.insertDefinition(def, defAfter, o, conts[0].val.scalar); err != nil {
			return err
		}
		defAt := e.splices[len(e.splices)-1].Start
		for _, ct := range conts {
			if ct.at < defAt {
				return &errUnclean{e.t.lineOf(ct.at), "the anchors list comes after this group"}
			}
		}
		defDone = true
	}
	unnamed := false
	for _, ct := range conts {
		var value string
		comment := ""
		switch {
		case ct.kind == cString:
			named, err := e.appendPiece(ct.node, ct.val.scalar, o.Name)
			if err != nil {
				return err
			}
			if existing == nil && def == nil && !named {
				unnamed = true
			}
			continue
		case anchored && (existing != nil || defDone || ct.node != def):
			value = "*" + o.Name
		case anchored:
			value = "&" + o.Name + " " + e.literal(ct, ct.val.scalar)
			defDone = true
		case ct.val.lines != nil:
			value = strings.Join(ct.val.lines, "\n")
			comment = o.Name
		default:
			value = e.literal(ct, ct.val.scalar)
			comment = o.Name
		}
		if err := e.insertValue(ct, value, comment); err != nil {
			return err
		}
		if comment != "" && (ct.kind == cAlias || ((ct.kind == cSeq || ct.kind == cNewField) && (ct.node.Style&yaml.FlowStyle != 0 || e.inFlow[ct.node]))) {
			unnamed = true
		}
	}
	ed.unnamed = unnamed
	if unnamed {
		ed.Notes = append(ed.Notes, fmt.Sprintf("%s is written without its name where the file lists keys in a comma-separated string or a flow list", o.Name))
	}
	return nil
}

// usesAnchors reports whether the file defines recipients as anchors.
func (e *editor) usesAnchors() bool {
	for _, a := range e.c.Anchors {
		if a.node.Kind != yaml.ScalarNode {
			continue
		}
		v := strings.TrimSpace(a.Value)
		if strings.HasPrefix(v, "age1") || strings.HasPrefix(v, "ssh-") {
			return true
		}
		for _, m := range e.c.Members() {
			if valueIsKey(v, m.Key) {
				return true
			}
		}
	}
	return false
}

// definitionList picks the list for the new anchor: the one where like (else
// the last anchored recipient) is defined, if adding to it changes no group
// that is not a target. nil means: define it in the first target list. For
// a mapping, after is the anchored value the new entry follows.
func (e *editor) definitionList(like string, isTarget map[GroupRef]bool, field string) (list, after *yaml.Node) {
	var anchor *Anchor
	for _, a := range e.c.Anchors {
		if a.node.Kind != yaml.ScalarNode {
			continue
		}
		v := strings.TrimSpace(a.Value)
		isRecipient := strings.HasPrefix(v, "age1") || strings.HasPrefix(v, "ssh-")
		if like != "" && a.Name == like {
			anchor = a
			break
		}
		if isRecipient {
			anchor = a
		}
	}
	if anchor == nil {
		return nil, nil
	}
	pr, ok := e.parent[anchor.node]
	if !ok {
		return nil, nil
	}
	list = pr.p
	switch {
	case list.Kind == yaml.SequenceNode:
	case list.Kind == yaml.MappingNode && pr.i%2 == 1:
		// "name: &name key" entries in a mapping no group is built from.
		if len(e.readersOf(list)) > 0 {
			return nil, nil
		}
		return list, anchor.node
	default:
		return nil, nil
	}
	// A list some group is built from may take the definition only when it
	// is that group's own age list and every such group is a target.
	readers := e.readersOf(list)
	for _, rd := range readers {
		if !isTarget[rd] {
			return nil, nil
		}
		ct, err := e.fieldContainer(&e.c.Rules[rd.Rule].Groups[rd.Group], field)
		if err != nil || ct.node != list {
			return nil, nil
		}
	}
	return list, nil
}

// insertPoint is where text for ct goes (for ordering against anchors).
func (e *editor) insertPoint(ct *container) (int, error) {
	switch ct.kind {
	case cNullField:
		return e.t.lineEnd(ct.key.Line), nil
	case cString, cAlias:
		sp, err := e.span(ct.node)
		return sp.end, err
	}
	return e.nodeEnd(ct.node)
}

// literal writes key as the container's items are written (quoted or not).
func (e *editor) literal(ct *container, key string) string {
	if ct.kind == cSeq && len(ct.node.Content) > 0 {
		last := ct.node.Content[len(ct.node.Content)-1]
		switch {
		case last.Kind == yaml.ScalarNode && last.Style&yaml.DoubleQuotedStyle != 0:
			return `"` + key + `"`
		case last.Kind == yaml.ScalarNode && last.Style&yaml.SingleQuotedStyle != 0:
			return "'" + key + "'"
		}
	}
	if yamlReadsAsNumber(key) {
		// An all-digit PGP fingerprint: sops wants a string.
		return `"` + key + `"`
	}
	return key
}

// insertValue adds value (with an optional "# comment") to container ct.
//
// A value of several lines (a kms, gcp_kms, azure_keyvault or hckms mapping,
// lines separated by "\n") is written as a block list item, or as ct.val.flow
// in a flow list.
func (e *editor) insertValue(ct *container, value, comment string) error {
	field := ct.field
	if field == "" {
		field = "age"
	}
	isFlow := (ct.kind == cSeq || ct.kind == cNewField) && (ct.node.Style&yaml.FlowStyle != 0 || e.inFlow[ct.node])
	if ct.val.lines != nil && isFlow {
		value = ct.val.flow
	}
	switch ct.kind {
	case cSeq:
		if isFlow {
			return e.appendFlow(ct.node, value)
		}
		return e.appendBlockItem(ct.node, value, comment)
	case cNullField:
		ks := e.t.nodeStart(ct.key)
		after := ks + len(ct.key.Value)
		if ct.key.Style != 0 || after >= len(e.t.data) || e.t.data[after] != ':' || !e.restIsComment(after+1) {
			return &errUnclean{ct.key.Line, "unexpected content after the " + field + " field"}
		}
		keyIndent := len([]rune(string(e.t.data[e.t.lineStart(ct.key.Line):ks])))
		off, gap := e.seqStyle()
		line := e.blockItem(strings.Repeat(" ", keyIndent+off), gap, value, commentText(" ", comment))
		e.splices = append(e.splices, e.t.insertAfterLine(ct.key.Line, line))
		return nil
	case cNewField:
		if ct.node.Style&yaml.FlowStyle != 0 || e.inFlow[ct.node] {
			comment = "" // no room for a name inside a flow mapping
		}
		return e.addField(ct.node, field, value, comment)
	case cAlias:
		if ct.val.lines != nil {
			return &errUnclean{ct.node.Line, "the " + field + " field is an alias: write it as a list"}
		}
		sp, err := e.span(ct.node)
		if err != nil {
			return err
		}
		start := e.t.nodeStart(ct.node) // with the anchor
		if e.t.lineOf(start) != e.t.lineOf(sp.end) || !e.restIsComment(sp.end) {
			return &errUnclean{ct.node.Line, "the " + field + " value spans lines"}
		}
		text := string(e.t.data[start:sp.end])
		e.splices = append(e.splices, splice{Start: start, End: sp.end, Text: "[" + text + aliasListSep + value + "]"})
		return nil
	}
	return fmt.Errorf("internal error: bad container")
}

// aliasListSep separates the two items of the flow list Add makes of a
// single alias or anchored value ("age: *alice" → "age: [*alice,*new]").
// It is a bare comma so that Remove can tell that list from one the file
// already had: appending to a one-item flow list ("[*alice]") always writes
// ", " (appendFlow), so "[A,B]" never comes from such a list, and Remove
// collapses only a two-item list written exactly "[A,B]" back to the item
// that stays. Both "age: *alice" and "age: [*alice]" therefore survive an
// add and a remove byte for byte.
const aliasListSep = ","

func commentText(gap, name string) string {
	if name == "" {
		return ""
	}
	return gap + "# " + name
}

// appendBlockItem adds "- value" after the last item of block sequence seq.
func (e *editor) appendBlockItem(seq *yaml.Node, value, comment string) error {
	last := seq.Content[len(seq.Content)-1]
	dash, clean := e.dashOf(last)
	if dash < 0 {
		return &errUnclean{last.Line, "cannot find the list item's dash"}
	}
	end, err := e.nodeEnd(last)
	if err != nil {
		return err
	}
	endLine := e.t.lineOf(end)
	if !e.restIsComment(end) {
		return &errUnclean{endLine, "the last list item is followed by other content on its line"}
	}
	dl := e.t.lineOf(dash)
	prefix := string(e.t.data[e.t.lineStart(dl):dash])
	if !clean {
		prefix = strings.Repeat(" ", len([]rune(prefix)))
	}
	gap := string(e.t.data[dash+1 : e.t.nodeStart(last)])
	if strings.ContainsAny(gap, "\r\n") || gap == "" {
		gap = " "
	}
	cgap := " "
	if comment != "" {
		rest := string(e.t.data[end:e.t.lineEnd(endLine)])
		if i := strings.IndexByte(rest, '#'); i > 0 {
			cgap = rest[:i]
		}
	}
	e.splices = append(e.splices, e.t.insertAfterLine(endLine, e.blockItem(prefix, gap, value, commentText(cgap, comment))))
	return nil
}

// blockItem is the text of a block list item: prefix, "-", gap, the value's
// first line and comment; the value's further lines ("\n"-separated) follow
// aligned under the first.
func (e *editor) blockItem(prefix, gap, value, comment string) string {
	lines := strings.Split(value, "\n")
	out := prefix + "-" + gap + lines[0] + comment
	cont := strings.Repeat(" ", len([]rune(prefix))+1+len(gap))
	for _, l := range lines[1:] {
		out += e.t.nl + cont + l
	}
	return out
}

// appendFlow adds value as the last entry of flow sequence seq.
func (e *editor) appendFlow(seq *yaml.Node, value string) error {
	closeEnd, err := e.flowEnd(seq)
	if err != nil {
		return err
	}
	closeAt := closeEnd - 1
	if len(seq.Content) == 0 {
		open := e.t.skipProps(e.t.nodeStart(seq))
		e.splices = append(e.splices, splice{Start: open + 1, End: open + 1, Text: value})
		return nil
	}
	n := len(seq.Content)
	last := seq.Content[n-1]
	end, err := e.nodeEnd(last)
	if err != nil {
		return err
	}
	between := string(e.t.data[end:closeAt])
	if strings.Contains(between, "#") {
		return &errUnclean{e.t.lineOf(end), "a comment inside a flow list"}
	}
	sep := ", "
	if n >= 2 {
		pend, err := e.nodeEnd(seq.Content[n-2])
		if err != nil {
			return err
		}
		sep = string(e.t.data[pend:e.t.nodeStart(last)])
		if strings.Count(sep, ",") != 1 || strings.Contains(sep, "#") {
			sep = ", "
		}
	} else if e.t.lineOf(end) != e.t.lineOf(e.t.nodeStart(seq)) {
		// "[\n  a\n]": one item per line.
		l := e.t.lineOf(end)
		sep = "," + e.t.nl + e.t.line(l)[:e.t.indent(l)]
	}
	if strings.HasPrefix(strings.TrimLeft(between, " \t\r\n"), ",") {
		// A trailing comma: "[a, b,]" → "[a, b, c,]".
		comma := end + strings.IndexByte(between, ',')
		e.splices = append(e.splices, splice{Start: comma + 1, End: comma + 1, Text: strings.TrimPrefix(sep, ",") + value + ","})
		return nil
	}
	e.splices = append(e.splices, splice{Start: end, End: end, Text: sep + value})
	return nil
}

// appendPiece appends key to a comma-separated scalar in its own style, and
// name to its trailing comment when that names every entry. named reports
// whether the key got its name.
func (e *editor) appendPiece(n *yaml.Node, key, name string) (named bool, err error) {
	if e.inFlow[n] && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 {
		return false, &errUnclean{n.Line, "an unquoted age value inside a flow mapping cannot hold a comma: quote it, or write a list"}
	}
	ct, pieces, err := e.rawPieces(n)
	if err != nil {
		return false, err
	}
	var nonEmpty []span
	for _, p := range pieces {
		if p.start < p.end {
			nonEmpty = append(nonEmpty, p)
		}
	}
	if len(nonEmpty) == 0 {
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 {
			return false, &errUnclean{n.Line, "an empty unquoted age value"}
		}
		e.splices = append(e.splices, splice{Start: ct.start, End: ct.start, Text: key})
		return false, nil
	}
	sep := ","
	if k := len(nonEmpty); k >= 2 {
		sep = string(e.t.data[nonEmpty[k-2].end:nonEmpty[k-1].start])
	} else if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		// One key per line below ">-".
		l := e.t.lineOf(nonEmpty[0].start)
		sep = "," + e.t.nl + e.t.line(l)[:e.t.indent(l)]
	}
	at := nonEmpty[len(nonEmpty)-1].end
	e.splices = append(e.splices, splice{Start: at, End: at, Text: sep + key})
	_, names := e.commentNames(n, len(nonEmpty))
	if names == nil {
		if len(nonEmpty) == 1 && commentName(n.LineComment) != "" && n.Anchor == "" {
			return false, &errUnclean{n.Line, "the comment naming this key would no longer name it: write the keys as a list, or name them \"# name1, name2\""}
		}
		return false, nil
	}
	nsep := ", "
	if k := len(names); k >= 2 {
		nsep = string(e.t.data[names[k-2].end:names[k-1].start])
	}
	end := names[len(names)-1].end
	e.splices = append(e.splices, splice{Start: end, End: end, Text: nsep + name})
	return true, nil
}

// seqStyle returns how the file indents block sequences under a key: the
// extra indentation of the dash (0 for indentless) and the gap after it.
func (e *editor) seqStyle() (int, string) {
	off, gap := -1, " "
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if off >= 0 || n == nil || n.Kind == yaml.AliasNode {
			return
		}
		if n.Kind == yaml.MappingNode && n.Style&yaml.FlowStyle == 0 {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 && v.Line > k.Line {
					dash, clean := e.dashOf(v.Content[0])
					if dash >= 0 && clean {
						off = (dash - e.t.lineStart(e.t.lineOf(dash))) - (k.Column - 1)
						gap = string(e.t.data[dash+1 : e.t.nodeStart(v.Content[0])])
						if off < 0 || strings.ContainsAny(gap, "\r\n") || gap == "" {
							off, gap = -1, " "
							continue
						}
						return
					}
				}
			}
		}
		for _, ch := range n.Content {
			walk(ch)
		}
	}
	if rules := e.rulesNode(); rules != nil {
		walk(rules)
	}
	if off < 0 {
		walk(e.c.doc)
	}
	if off < 0 {
		off = 2
	}
	return off, gap
}

// addField adds field ("age:", "pgp:", …) with one item to mapping m,
// after its last field.
func (e *editor) addField(m *yaml.Node, field, value, comment string) error {
	if m.Style&yaml.FlowStyle != 0 || e.inFlow[m] {
		// "{pgp: [...]}" → "{pgp: [...], age: [value]}".
		end, err := e.flowEnd(m)
		if err != nil {
			return err
		}
		at, sep := end-1, ", "
		if len(m.Content) == 0 {
			at, sep = e.t.skipProps(e.t.nodeStart(m))+1, ""
		} else if at, err = e.nodeEnd(m.Content[len(m.Content)-1]); err != nil {
			return err
		}
		if strings.Contains(string(e.t.data[at:end]), "#") {
			return &errUnclean{e.t.lineOf(at), "a comment inside a flow mapping"}
		}
		e.splices = append(e.splices, splice{Start: at, End: at, Text: sep + field + ": [" + value + "]"})
		return nil
	}
	end, err := e.nodeEnd(m)
	if err != nil {
		return err
	}
	endLine := e.t.lineOf(end)
	if !e.restIsComment(end) {
		return &errUnclean{endLine, "the mapping's last field is followed by other content on its line"}
	}
	first := m.Content[0]
	keyIndent := first.Column - 1
	off, gap := e.seqStyle()
	nl := e.t.nl
	text := strings.Repeat(" ", keyIndent) + field + ":" + nl + e.blockItem(strings.Repeat(" ", keyIndent+off), gap, value, commentText(" ", comment))
	e.splices = append(e.splices, e.t.insertAfterLine(endLine, text))
	return nil
}

// insertDefinition adds "&NAME key" to a definitions-only list, or
// "NAME: &NAME key" to a mapping after the entry whose value is after.
func (e *editor) insertDefinition(list, after *yaml.Node, o AddOptions, value string) error {
	if list.Kind == yaml.SequenceNode {
		ct := &container{kind: cSeq, node: list}
		return e.insertValue(ct, "&"+o.Name+" "+e.literal(ct, value), "")
	}
	vi := len(list.Content) - 1
	for i := 1; i < len(list.Content); i += 2 {
		if list.Content[i] == after {
			vi = i
		}
	}
	lastKey, lastVal := list.Content[vi-1], list.Content[vi]
	end, err := e.nodeEnd(lastVal)
	if err != nil {
		return err
	}
	lit := value
	switch {
	case lastVal.Kind == yaml.ScalarNode && lastVal.Style&yaml.DoubleQuotedStyle != 0:
		lit = `"` + lit + `"`
	case lastVal.Kind == yaml.ScalarNode && lastVal.Style&yaml.SingleQuotedStyle != 0:
		lit = "'" + lit + "'"
	}
	ks, vs := e.t.nodeStart(lastKey), e.t.nodeStart(lastVal)
	kvSep := ": "
	if lastKey.Style == 0 && ks+len(lastKey.Value) <= vs && !strings.ContainsAny(string(e.t.data[ks+len(lastKey.Value):vs]), "\r\n#") {
		kvSep = string(e.t.data[ks+len(lastKey.Value) : vs])
	}
	if list.Style&yaml.FlowStyle != 0 || e.inFlow[list] {
		sep := ", "
		if vi >= 3 {
			pend, err := e.nodeEnd(list.Content[vi-2])
			if err != nil {
				return err
			}
			if s := string(e.t.data[pend:ks]); strings.Count(s, ",") == 1 && !strings.ContainsAny(s, "#") {
				sep = s
			}
		}
		e.splices = append(e.splices, splice{Start: end, End: end, Text: sep + o.Name + kvSep + "&" + o.Name + " " + lit})
		return nil
	}
	if !e.restIsComment(end) || !e.beforeIsBlank(ks) {
		return &errUnclean{lastKey.Line, "cannot follow this mapping's layout"}
	}
	prefix := string(e.t.data[e.t.lineStart(lastKey.Line):ks])
	line := prefix + o.Name + kvSep + "&" + o.Name + " " + lit
	e.splices = append(e.splices, e.t.insertAfterLine(e.t.lineOf(end), line))
	return nil
}
