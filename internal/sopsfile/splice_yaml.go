package sopsfile

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// yamlEditor edits one YAML document's "sops:" block by whole lines.
type yamlEditor struct {
	data  []byte
	ls    []int // byte offset of the start of each line (index 0 is line 1), plus len(data)
	root  *yaml.Node
	last  int // last line of the block
	nl    string
	style yamlStyle
}

type yamlStyle struct {
	step       int // indentation of the sops mapping's keys
	listOff    int // dash indentation relative to the parent mapping (sops keys, or a key group item's dash)
	keyOff     int // key column relative to the dash
	contentOff int // block scalar content relative to the item's dash
}

func yamlEditors(data []byte) ([]editor, error) {
	blocks, _ := scanYAML(data)
	if len(blocks) == 0 {
		return nil, fmt.Errorf("no top-level sops block found in the YAML text")
	}
	ls := lineStarts(data)
	var out []editor
	for _, b := range blocks {
		var doc yaml.Node
		if err := yaml.Unmarshal(data[b.start:b.end], &doc); err != nil {
			return nil, fmt.Errorf("line %d: cannot read the sops block: %v", b.line, err)
		}
		shiftLines(&doc, b.line-1)
		if len(doc.Content) != 1 || len(doc.Content[0].Content) != 2 {
			return nil, fmt.Errorf("line %d: unexpected sops block", b.line)
		}
		root := doc.Content[0].Content[1]
		if root.Kind != yaml.MappingNode || root.Style&yaml.FlowStyle != 0 || len(root.Content) == 0 {
			return nil, fmt.Errorf("line %d: the sops metadata is not a block mapping; cannot edit it in place", b.line)
		}
		e := &yamlEditor{data: data, ls: ls, root: root, nl: "\n"}
		e.last = lineOf(ls, b.end-1)
		for e.last > b.line && e.blank(e.last) {
			e.last--
		}
		if bytes.Contains(data[b.start:b.end], []byte("\r\n")) {
			e.nl = "\r\n"
		}
		e.measure()
		out = append(out, e)
	}
	return out, nil
}

func lineStarts(data []byte) []int {
	ls := []int{0}
	for i, c := range data {
		if c == '\n' {
			ls = append(ls, i+1)
		}
	}
	if ls[len(ls)-1] != len(data) {
		ls = append(ls, len(data))
	}
	return ls
}

// lineOf returns the 1-based line holding offset off.
func lineOf(ls []int, off int) int {
	return sort.Search(len(ls), func(i int) bool { return ls[i] > off })
}

func shiftLines(n *yaml.Node, by int) {
	n.Line += by
	for _, c := range n.Content {
		shiftLines(c, by)
	}
}

func (e *yamlEditor) text(line int) []byte {
	if line < 1 || line >= len(e.ls) {
		return nil
	}
	t := e.data[e.ls[line-1]:e.ls[line]]
	t = bytes.TrimSuffix(t, []byte{'\n'})
	return bytes.TrimSuffix(t, []byte{'\r'})
}

func (e *yamlEditor) blank(line int) bool { return len(bytes.TrimSpace(e.text(line))) == 0 }

func (e *yamlEditor) indent(line int) int {
	t := e.text(line)
	return len(t) - len(bytes.TrimLeft(t, " "))
}

func (e *yamlEditor) start(line int) int { return e.ls[line-1] }
func (e *yamlEditor) end(line int) int   { return e.ls[line] } // after the newline

// entryEnd returns the last line of a mapping entry whose key is on line
// keyLine at column col (0-based): following lines indented deeper, or
// "- " items at the same indentation (an indentless sequence).
func (e *yamlEditor) entryEnd(keyLine, col int) int {
	last := keyLine
	for l := keyLine + 1; l <= e.last; l++ {
		if e.blank(l) {
			continue
		}
		ind := e.indent(l)
		t := e.text(l)
		if ind > col || (ind == col && t[ind] == '-' && (len(t) == ind+1 || t[ind+1] == ' ')) {
			last = l
			continue
		}
		break
	}
	return last
}

// item returns the first and last line of a sequence item and its dash
// indentation.
func (e *yamlEditor) item(it *yaml.Node) (first, last, dash int, err error) {
	first = it.Line
	for {
		t := e.text(first)
		col := min(it.Column-1, len(t))
		if first < it.Line {
			col = len(t)
		}
		pre := bytes.TrimRight(t[:col], " ")
		if i := bytes.LastIndexByte(pre, '-'); i >= 0 && len(bytes.TrimSpace(pre[:i])) == 0 {
			dash = i
			break
		}
		if first < it.Line && !e.blank(first) && bytes.TrimSpace(t)[0] != '#' {
			return 0, 0, 0, fmt.Errorf("line %d: unexpected sequence layout", it.Line)
		}
		first--
		if first < 1 || first < it.Line-20 {
			return 0, 0, 0, fmt.Errorf("line %d: unexpected sequence layout", it.Line)
		}
	}
	last = first
	for l := first + 1; l <= e.last; l++ {
		if e.blank(l) {
			continue
		}
		if e.indent(l) <= dash {
			break
		}
		last = l
	}
	return first, last, dash, nil
}

// measure reads the file's indentation style from the block.
func (e *yamlEditor) measure() {
	e.style = yamlStyle{step: e.root.Content[0].Column - 1, keyOff: 2}
	e.style.listOff = e.style.step
	e.style.contentOff = -1
	found, foundContent := false, false
	defer func() {
		// Block scalar content must be deeper than the item's keys; yaml.v3
		// puts it two columns in from them.
		if e.style.contentOff <= e.style.keyOff {
			e.style.contentOff = e.style.keyOff + 2
		}
	}()
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if n == e.root && v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 && !found {
					if _, _, dash, err := e.item(v.Content[0]); err == nil {
						e.style.listOff = dash - (k.Column - 1)
						if it := v.Content[0]; it.Kind == yaml.MappingNode && it.Line == e.lineOfDash(it) {
							e.style.keyOff = it.Column - 1 - dash
						}
						found = true
					}
				}
				walk(v)
			}
		}
		if n.Kind == yaml.SequenceNode && n.Style&yaml.FlowStyle == 0 {
			for _, it := range n.Content {
				if it.Kind != yaml.MappingNode || foundContent {
					walk(it)
					continue
				}
				_, _, dash, err := e.item(it)
				if err != nil {
					continue
				}
				for i := 1; i < len(it.Content); i += 2 {
					v := it.Content[i]
					if v.Kind == yaml.ScalarNode && v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 && !e.blank(v.Line+1) {
						e.style.contentOff = e.indent(v.Line+1) - dash
						foundContent = true
						break
					}
				}
				walk(it)
			}
		}
	}
	walk(e.root)
}

func (e *yamlEditor) lineOfDash(it *yaml.Node) int {
	first, _, _, err := e.item(it)
	if err != nil {
		return 0
	}
	return first
}

func get(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// parentFor returns the mapping holding group g's lists.
func (e *yamlEditor) parentFor(g int) (*yaml.Node, error) {
	if hasFlatKeys(e.root) {
		if g != 0 {
			return nil, fmt.Errorf("key group %d does not exist", g+1)
		}
		return e.root, nil
	}
	_, kg := get(e.root, "key_groups")
	if kg == nil || kg.Kind != yaml.SequenceNode || len(kg.Content) == 0 {
		if g == 0 {
			return e.root, nil
		}
		return nil, fmt.Errorf("key group %d does not exist", g+1)
	}
	if g >= len(kg.Content) || kg.Content[g].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("key group %d does not exist", g+1)
	}
	return kg.Content[g], nil
}

func hasFlatKeys(root *yaml.Node) bool {
	for _, t := range stanzaTypes {
		if _, v := get(root, string(t)); v != nil && v.Kind == yaml.SequenceNode && len(v.Content) > 0 {
			return true
		}
	}
	return false
}

func (e *yamlEditor) apply(c change) ([]edit, error) {
	var edits []edit
	for _, g := range changedGroups(c) {
		parent, err := e.parentFor(g)
		if err != nil {
			return nil, err
		}
		for _, t := range stanzaTypes {
			drop, add := c.drop[g][t], c.add[g][t]
			if len(drop) == 0 && len(add) == 0 {
				continue
			}
			es, err := e.editList(parent, t, drop, add)
			if err != nil {
				return nil, err
			}
			edits = append(edits, es...)
		}
	}
	return edits, nil
}

func changedGroups(c change) []int {
	seen := map[int]bool{}
	var out []int
	for g := range c.drop {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	for g := range c.add {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	sort.Ints(out)
	return out
}

func (e *yamlEditor) editList(parent *yaml.Node, t recipients.KeyType, drop []int, add [][]Field) ([]edit, error) {
	k, seq := get(parent, string(t))
	items := 0
	if seq != nil && seq.Kind == yaml.SequenceNode {
		items = len(seq.Content)
	}
	if items > 0 && seq.Style&yaml.FlowStyle != 0 {
		return nil, fmt.Errorf("line %d: flow-style %s list; cannot edit it in place", seq.Line, t)
	}
	dropSet := map[int]bool{}
	for _, i := range drop {
		if i < 0 || i >= items {
			return nil, fmt.Errorf("%s entry %d not found in the YAML text", t, i)
		}
		dropSet[i] = true
	}
	var edits []edit
	if items > 0 && len(dropSet) == items && len(add) == 0 {
		// The list goes away with its key.
		return e.dropEntry(k)
	}
	for i := range dropSet {
		first, last, _, err := e.item(seq.Content[i])
		if err != nil {
			return nil, err
		}
		edits = append(edits, edit{Start: e.start(first), End: e.end(last), Text: ""})
	}
	if len(add) == 0 {
		return edits, nil
	}
	if items > 0 {
		// Append after the last item, in the style of the first.
		_, _, dash, err := e.item(seq.Content[0])
		if err != nil {
			return nil, err
		}
		_, last, _, err := e.item(seq.Content[items-1])
		if err != nil {
			return nil, err
		}
		first := seq.Content[0]
		keyOff := e.style.keyOff
		var like []string
		if first.Kind == yaml.MappingNode {
			if first.Line == e.lineOfDash(first) {
				keyOff = first.Column - 1 - dash
			}
			for i := 0; i < len(first.Content); i += 2 {
				like = append(like, first.Content[i].Value)
			}
		}
		var b strings.Builder
		for _, fs := range add {
			e.renderItem(&b, orderFields(fs, like), dash, keyOff)
		}
		at := e.end(last)
		if last == len(e.ls)-1 && !bytes.HasSuffix(e.data, []byte("\n")) {
			return append(edits, edit{Start: at, End: at, Text: e.nl + strings.TrimSuffix(b.String(), e.nl)}), nil
		}
		return append(edits, edit{Start: at, End: at, Text: b.String()}), nil
	}
	// A new list, or an empty one ("age: []", "age:"). Its dash goes one
	// step in from the parent mapping's indentation (the dash of a
	// key_groups item, or the sops keys' column), as yaml.v3 writes it.
	keyCol := parent.Content[0].Column - 1
	dash := keyCol + e.style.listOff
	if parent != e.root {
		if _, _, itemDash, err := e.item(parent); err == nil {
			dash = max(keyCol, itemDash+e.style.listOff)
		}
	}
	var b strings.Builder
	b.WriteString(string(t) + ":" + e.nl)
	for _, fs := range add {
		e.renderItem(&b, sortFields(append([]Field(nil), fs...)), dash, e.style.keyOff)
	}
	if k != nil {
		last := e.entryEnd(k.Line, k.Column-1)
		prefix := string(e.text(k.Line)[:k.Column-1])
		return append(edits, edit{Start: e.start(k.Line), End: e.end(last), Text: prefix + b.String()}), nil
	}
	ed, err := e.insertEntry(parent, string(t), strings.Repeat(" ", keyCol)+b.String())
	if err != nil {
		return nil, err
	}
	return append(edits, ed), nil
}

// dropEntry deletes a whole mapping entry (key and value). When the key
// shares its line with the dash of its group's item, the value becomes [].
func (e *yamlEditor) dropEntry(k *yaml.Node) ([]edit, error) {
	last := e.entryEnd(k.Line, k.Column-1)
	if e.indent(k.Line) != k.Column-1 {
		prefix := string(e.text(k.Line)[:k.Column-1])
		return []edit{{Start: e.start(k.Line), End: e.end(last), Text: prefix + k.Value + ": []" + e.nl}}, nil
	}
	return []edit{{Start: e.start(k.Line), End: e.end(last), Text: ""}}, nil
}

// insertEntry returns an edit inserting text (whole lines) as entry name
// of mapping m, where sops' alphabetical order puts it.
func (e *yamlEditor) insertEntry(m *yaml.Node, name, text string) (edit, error) {
	n := len(m.Content) / 2
	p := n
	for i := 0; i < n; i++ {
		if m.Content[2*i].Value > name {
			p = i
			break
		}
	}
	if p < n {
		k := m.Content[2*p]
		if e.indent(k.Line) == k.Column-1 {
			return edit{Start: e.start(k.Line), End: e.start(k.Line), Text: text}, nil
		}
		p = 1 // the first key shares the item's dash line: go after it
		if p > n {
			p = n
		}
	}
	k := m.Content[2*(p-1)]
	last := e.entryEnd(k.Line, k.Column-1)
	at := e.end(last)
	if at == len(e.data) && !bytes.HasSuffix(e.data, []byte("\n")) {
		return edit{Start: at, End: at, Text: e.nl + strings.TrimSuffix(text, e.nl)}, nil
	}
	return edit{Start: at, End: at, Text: text}, nil
}

// renderItem writes one sequence item (a mapping of fields) with its dash
// at column dash and its keys keyOff further.
func (e *yamlEditor) renderItem(b *strings.Builder, fs []Field, dash, keyOff int) {
	keyOff = max(keyOff, 2)
	for i, f := range fs {
		if i == 0 {
			b.WriteString(strings.Repeat(" ", dash) + "-" + strings.Repeat(" ", keyOff-1))
		} else {
			b.WriteString(strings.Repeat(" ", dash+keyOff))
		}
		b.WriteString(yamlKey(f.Name) + ":")
		if f.Map != nil {
			b.WriteString(e.nl)
			for _, sf := range f.Map {
				b.WriteString(strings.Repeat(" ", dash+keyOff+e.style.step) + yamlKey(sf.Name) + ": " + yamlScalar(sf.Value) + e.nl)
			}
			continue
		}
		e.renderValue(b, f.Value, dash+e.style.contentOff)
	}
}

// renderValue writes " value\n", using a literal block for multi-line
// strings as yaml.v3 (sops' encoder) does.
func (e *yamlEditor) renderValue(b *strings.Builder, v string, indent int) {
	if !strings.Contains(v, "\n") || strings.ContainsAny(v, "\r\t") || strings.HasPrefix(v, " ") {
		b.WriteString(" " + yamlScalar(v) + e.nl)
		return
	}
	body := strings.TrimRight(v, "\n")
	trailing := len(v) - len(body)
	switch trailing {
	case 0:
		b.WriteString(" |-")
	case 1:
		b.WriteString(" |")
	default:
		b.WriteString(" |+")
	}
	b.WriteString(e.nl)
	for _, l := range strings.Split(body, "\n") {
		if l != "" {
			b.WriteString(strings.Repeat(" ", indent) + l)
		}
		b.WriteString(e.nl)
	}
	for i := 1; i < trailing; i++ {
		b.WriteString(e.nl)
	}
}

func yamlScalar(s string) string {
	out, err := yaml.Marshal(s)
	if err != nil {
		return fmt.Sprintf("%q", s)
	}
	return strings.TrimSuffix(string(out), "\n")
}

func yamlKey(s string) string { return yamlScalar(s) }

// keyEntries are the metadata keys ReplaceKeyGroups rewrites.
var keyEntries = map[string]bool{"key_groups": true, "shamir_threshold": true}

func init() {
	for _, t := range stanzaTypes {
		keyEntries[string(t)] = true
	}
}

func (e *yamlEditor) replace(groups [][]NewStanza, threshold int) ([]edit, error) {
	var edits []edit
	var keep []*yaml.Node // remaining root keys
	for i := 0; i+1 < len(e.root.Content); i += 2 {
		k := e.root.Content[i]
		if !keyEntries[k.Value] {
			keep = append(keep, k)
			continue
		}
		last := e.entryEnd(k.Line, k.Column-1)
		edits = append(edits, edit{Start: e.start(k.Line), End: e.end(last), Text: ""})
	}
	step := e.style.step
	type entry struct{ name, text string }
	var entries []entry
	if len(groups) == 1 {
		for _, t := range sortedTypes(groups[0]) {
			var b strings.Builder
			b.WriteString(strings.Repeat(" ", step) + string(t) + ":" + e.nl)
			for _, s := range groups[0] {
				if s.Key.Type == t {
					e.renderItem(&b, sortFields(append([]Field(nil), s.Fields...)), step+e.style.listOff, e.style.keyOff)
				}
			}
			entries = append(entries, entry{string(t), b.String()})
		}
	} else {
		var b strings.Builder
		b.WriteString(strings.Repeat(" ", step) + "key_groups:" + e.nl)
		dash := step + e.style.listOff
		keyCol := dash + max(e.style.keyOff, 2)
		for _, g := range groups {
			for ti, t := range keyGroupTypes(g) {
				if ti == 0 {
					b.WriteString(strings.Repeat(" ", dash) + "-" + strings.Repeat(" ", keyCol-dash-1))
				} else {
					b.WriteString(strings.Repeat(" ", keyCol))
				}
				if !hasType(g, t) {
					b.WriteString(string(t) + ": []" + e.nl)
					continue
				}
				b.WriteString(string(t) + ":" + e.nl)
				for _, s := range g {
					if s.Key.Type == t {
						e.renderItem(&b, sortFields(append([]Field(nil), s.Fields...)), max(keyCol, dash+e.style.listOff), e.style.keyOff)
					}
				}
			}
		}
		entries = append(entries, entry{"key_groups", b.String()})
		entries = append(entries, entry{"shamir_threshold", fmt.Sprintf("%sshamir_threshold: %d%s", strings.Repeat(" ", step), threshold, e.nl)})
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	for _, en := range entries {
		var at int
		pos := -1
		for i, k := range keep {
			if k.Value > en.name {
				pos = i
				break
			}
		}
		text := en.text
		if pos >= 0 {
			at = e.start(keep[pos].Line)
		} else if len(keep) > 0 {
			k := keep[len(keep)-1]
			at = e.end(e.entryEnd(k.Line, k.Column-1))
		} else {
			at = e.end(e.last)
		}
		if at == len(e.data) && !bytes.HasSuffix(e.data, []byte("\n")) {
			text = e.nl + strings.TrimSuffix(text, e.nl)
		}
		edits = append(edits, edit{Start: at, End: at, Text: text})
	}
	return edits, nil
}

// keyGroupTypes is sortedTypes with age and hc_vault, which sops writes in
// every key group of a Shamir file even when empty ("hc_vault: []"): a
// re-split that dropped them would be churned back by the next sops write.
func keyGroupTypes(g []NewStanza) []recipients.KeyType {
	ts := sortedTypes(g)
	for _, t := range []recipients.KeyType{recipients.TypeAge, recipients.TypeVault} {
		if !hasType(g, t) {
			ts = append(ts, t)
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts
}

func hasType(g []NewStanza, t recipients.KeyType) bool {
	for _, s := range g {
		if s.Key.Type == t {
			return true
		}
	}
	return false
}

// sortedTypes returns the types present in g, alphabetically as sops writes
// them.
func sortedTypes(g []NewStanza) []recipients.KeyType {
	seen := map[recipients.KeyType]bool{}
	var ts []recipients.KeyType
	for _, s := range g {
		if !seen[s.Key.Type] {
			seen[s.Key.Type] = true
			ts = append(ts, s.Key.Type)
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts
}

// verifyYAMLCopies checks that every document's metadata has the same key
// groups as the first.
func verifyYAMLCopies(data []byte) error {
	blocks, _ := scanYAML(data)
	var first string
	for i, b := range blocks {
		n, err := parseYAMLBlock(data[b.start:b.end], b.line-1)
		if err != nil {
			return fmt.Errorf("internal error: document %d's metadata does not read back: %v", b.doc+1, err)
		}
		f := &File{}
		if err := f.fromTree(n); err != nil {
			return err
		}
		got := fmt.Sprint(sortedGroupKeys(f.Groups))
		if i == 0 {
			first = got
		} else if got != first {
			return fmt.Errorf("internal error: document %d's key groups differ from the first document's", b.doc+1)
		}
	}
	return nil
}

func sortedGroupKeys(groups [][]Stanza) [][]string {
	out := groupKeys(groups)
	for _, g := range out {
		sort.Strings(g)
	}
	return out
}
