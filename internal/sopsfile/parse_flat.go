package sopsfile

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// flatEntry is one metadata line of a dotenv or INI file.
type flatEntry struct {
	key        string // flattened key without the "sops_" prefix (editing)
	keyb       []byte // the same, in the file's text (Parse)
	value      string // unescaped value
	line       int
	start, end int // byte span of the whole line, newline included
}

// lines calls fn for every line of data with its 1-based number and byte
// span (end includes the newline).
func eachLine(data []byte, fn func(l []byte, line, start, end int) bool) {
	line := 0
	for off := 0; off < len(data); {
		line++
		next := len(data)
		if nl := bytes.IndexByte(data[off:], '\n'); nl >= 0 {
			next = off + nl + 1
		}
		l := data[off:next]
		l = bytes.TrimSuffix(l, []byte{'\n'})
		if !fn(l, line, off, next) {
			return
		}
		off = next
	}
}

// dotenvEntries returns the sops_ lines of a dotenv file, read as sops'
// dotenv store reads them, and the lines it could not read.
func dotenvEntries(data []byte) (entries []flatEntry, bad []int) {
	return dotenvEntriesIn(nil, data, true)
}

// dotenvEntriesIn is dotenvEntries appending to entries; with keys false
// an entry's key is only keyb, in data (Parse makes no string of it).
func dotenvEntriesIn(entries []flatEntry, data []byte, keys bool) ([]flatEntry, []int) {
	var bad []int
	eachLine(data, func(l []byte, line, start, end int) bool {
		if len(l) == 0 || l[0] == '#' {
			return true
		}
		pos := bytes.IndexByte(l, '=')
		if pos < 0 {
			bad = append(bad, line)
			return true
		}
		if !bytes.HasPrefix(l, []byte("sops_")) {
			return true
		}
		e := flatEntry{value: unescapeNL(l[pos+1:]), line: line, start: start, end: end}
		if keys {
			e.key = string(l[len("sops_"):pos])
		} else {
			e.keyb = l[len("sops_"):pos]
		}
		entries = append(entries, e)
		return true
	})
	return entries, bad
}

func parseDotenv(f *File, data []byte, s *parseScratch) (*mnode, error) {
	if !bytes.Contains(data, []byte("sops_")) {
		return nil, nil
	}
	entries, bad := dotenvEntriesIn(s.entries[:0], data, false)
	s.entries = entries
	if len(entries) == 0 {
		return nil, nil
	}
	for _, e := range entries {
		if strings.HasSuffix(e.value, "\r") {
			// sops splits dotenv lines at "\n" only: every metadata
			// value keeps its "\r" and lastmodified no longer parses.
			return nil, fmt.Errorf("line %d: the file has Windows (CRLF) line endings, which sops cannot read in a dotenv file", e.line)
		}
	}
	for _, line := range bad {
		f.problem(line, "line has no = (sops cannot read this dotenv file)")
	}
	root, err := unflatten(entries, s)
	if err != nil {
		return nil, err
	}
	root.keyLine = entries[0].line
	return root, nil
}

// iniSection is a [sops] section of an INI file.
type iniSection struct {
	line       int // line of "[sops]"
	start, end int // byte span from the header to the end of its last line
	entries    []flatEntry
	lastKey    int // byte offset of the end of the last key line
}

// iniSops finds the [sops] sections of an INI file and reads their keys as
// gopkg.in/ini.v1 (which sops uses) does. Only the lines of [sops] sections
// make strings; the others are checked in place.
func iniSops(data []byte) ([]iniSection, error) {
	out, _, err := iniSopsIn(data, nil, true)
	return out, err
}

// iniSopsIn is iniSops keeping the entries of every section in all
// (returned, grown); with keys false an entry's key is only keyb, in data.
func iniSopsIn(data []byte, all []flatEntry, keys bool) ([]iniSection, []flatEntry, error) {
	var out []iniSection
	var cur *iniSection
	first0 := len(all) // where the current section's entries begin in all
	// cut gives the finished section its entries.
	cut := func() {
		if cur != nil && len(all) > first0 {
			cur.entries = all[first0:len(all):len(all)]
		}
	}
	line := 0
	for off := 0; off < len(data); {
		line++
		text, start, end := lineAt(data, off)
		off = end
		l := bytes.TrimSpace(text)
		if len(l) == 0 || l[0] == '#' || l[0] == ';' {
			continue
		}
		if l[0] == '[' {
			cut()
			cur = nil
			closeIdx := bytes.LastIndexByte(l, ']')
			if closeIdx < 0 {
				return nil, all, fmt.Errorf("line %d: unclosed section header (no ]): sops cannot read the file", line)
			}
			if string(bytes.TrimSpace(l[1:closeIdx])) == "sops" {
				out = append(out, iniSection{line: line, start: start, end: end})
				cur = &out[len(out)-1]
				first0 = len(all)
			}
			continue
		}
		key, value, ok := iniKeyValueBytes(l)
		if !ok {
			if cur == nil {
				// gopkg.in/ini.v1 fails the whole file ("key-value
				// delimiter not found"); the line is not quoted, it may
				// be a secret.
				return nil, all, fmt.Errorf("line %d: INI line has no = or : (sops cannot read the file)", line)
			}
			return nil, all, fmt.Errorf("line %d: invalid INI line in [sops]", line)
		}
		first := line
		var multi string // a multi-line quoted value, read whole
		isMulti := false
		if len(value) > 0 && (value[0] == '`' || bytes.HasPrefix(value, []byte(`"""`))) && len(value) > 1 {
			q := []byte("`")
			if value[0] == '"' {
				q = []byte(`"""`)
			}
			rest := value[len(q):]
			if pos := bytes.LastIndex(rest, q); pos >= 0 {
				value = rest[:pos]
			} else {
				// Multi-line quoted value: lines up to the closing quote.
				var b strings.Builder
				b.Write(rest)
				b.WriteByte('\n')
				closed := false
				for off < len(data) {
					line++
					var next []byte
					next, _, end = lineAt(data, off)
					off = end
					if pos := bytes.LastIndex(next, q); pos >= 0 {
						b.Write(next[:pos])
						closed = true
						break
					}
					b.Write(next)
					b.WriteByte('\n')
				}
				if !closed {
					return nil, all, fmt.Errorf("line %d: missing closing %s", first, q)
				}
				multi, isMulti = b.String(), true
			}
		} else {
			if i := bytes.IndexAny(value, "#;"); i >= 0 {
				value = bytes.TrimSpace(value[:i])
			}
			if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
				value = value[1 : len(value)-1]
			}
		}
		if cur == nil {
			continue
		}
		e := flatEntry{line: first, start: start, end: end}
		if keys {
			e.key = string(key)
		} else {
			e.keyb = key
		}
		if isMulti {
			e.value = strings.ReplaceAll(multi, `\n`, "\n")
		} else {
			e.value = unescapeNL(value)
		}
		cur.end = e.end
		cur.lastKey = e.end
		all = append(all, e)
	}
	cut()
	return out, all, nil
}

// lineAt returns the line of data that begins at off, without its newline,
// and its byte span (end includes the newline).
func lineAt(data []byte, off int) (text []byte, start, end int) {
	end = len(data)
	if nl := bytes.IndexByte(data[off:], '\n'); nl >= 0 {
		end = off + nl + 1
	}
	text = data[off:end]
	if len(text) > 0 && text[len(text)-1] == '\n' {
		text = text[:len(text)-1]
	}
	return text, off, end
}

// unescapeNL is strings.ReplaceAll(string(b), `\n`, "\n") with one
// allocation.
func unescapeNL(b []byte) string {
	i := bytes.Index(b, []byte(`\n`))
	if i < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b)-1)
	for i >= 0 {
		out = append(out, b[:i]...)
		out = append(out, '\n')
		b = b[i+2:]
		i = bytes.Index(b, []byte(`\n`))
	}
	out = append(out, b...)
	return string(out)
}

// iniKeyValue splits a trimmed INI line at its first = or :.
func iniKeyValue(l []byte) (key, value string, ok bool) {
	k, v, ok := iniKeyValueBytes(l)
	return string(k), string(v), ok
}

// iniKeyValueBytes is [iniKeyValue] without making strings.
func iniKeyValueBytes(s []byte) (key, value []byte, ok bool) {
	if s[0] == '"' || s[0] == '`' {
		q := s[:1]
		if bytes.HasPrefix(s, []byte(`"""`)) {
			q = s[:3]
		}
		end := bytes.Index(s[len(q):], q)
		if end < 0 {
			return nil, nil, false
		}
		key = s[len(q) : len(q)+end]
		rest := bytes.TrimSpace(s[len(q)+end+len(q):])
		if len(rest) == 0 || (rest[0] != '=' && rest[0] != ':') {
			return nil, nil, false
		}
		return key, bytes.TrimSpace(rest[1:]), true
	}
	i := bytes.IndexAny(s, "=:")
	if i < 0 {
		return nil, nil, false
	}
	return bytes.TrimSpace(s[:i]), bytes.TrimSpace(s[i+1:]), true
}

func parseINI(data []byte, s *parseScratch) (*mnode, error) {
	if !bytes.Contains(data, []byte("[sops]")) && !bytes.Contains(data, []byte("sops")) {
		return nil, nil
	}
	secs, all, err := iniSopsIn(data, s.entries[:0], false)
	s.entries = all
	if err != nil {
		return nil, err
	}
	switch len(secs) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, fmt.Errorf("line %d: duplicate [sops] section", secs[1].line)
	}
	root, err := unflatten(secs[0].entries, s)
	if err != nil {
		return nil, err
	}
	root.keyLine = secs[0].line
	return root, nil
}

// fnode is a node of the tree of flattened keys, in an arena: nodes refer
// to each other by index, children in the order first met.
type fnode struct {
	parent            int32
	first, last, next int32 // first and last child, next sibling; -1: none
	nsub, nidx        int32 // children reached by a map key, by a list index
	leaf              int32 // the entry whose value the node is; -1: none
	list              bool  // reached from its parent by a list index
	key               string
	pos               int
}

// fkey finds a child in [flatTree.big].
type fkey struct {
	parent int32
	list   bool
	key    string
	pos    int
}

// bigNode is the number of children above which a node's children are
// found through a map rather than a scan.
const bigNode = 16

type flatTree struct {
	entries []flatEntry
	nodes   []fnode
	big     map[fkey]int32 // children of nodes with more than bigNode children
	slots   []int32        // stack of the children of lists by index (convert)
}

// child returns the child of parent reached by the token (list, key, pos),
// adding it when new.
func (t *flatTree) child(parent int32, list bool, keyb []byte, pos int) int32 {
	p := &t.nodes[parent]
	same := func(c int32) bool {
		n := &t.nodes[c]
		return n.list == list && (list && n.pos == pos || !list && n.key == string(keyb))
	}
	if p.last >= 0 && same(p.last) {
		return p.last // entries of one item come together
	}
	if p.nsub+p.nidx > bigNode {
		if c, ok := t.big[fkey{parent, list, string(keyb), pos}]; ok {
			return c
		}
	} else {
		for c := p.first; c >= 0; c = t.nodes[c].next {
			if same(c) {
				return c
			}
		}
	}
	c := int32(len(t.nodes))
	key := ""
	if !list {
		key = metadataKey(keyb)
	}
	t.nodes = append(t.nodes, fnode{parent: parent, first: -1, last: -1, next: -1, leaf: -1, list: list, key: key, pos: pos})
	p = &t.nodes[parent]
	if p.last >= 0 {
		t.nodes[p.last].next = c
	} else {
		p.first = c
	}
	p.last = c
	if list {
		p.nidx++
	} else {
		p.nsub++
	}
	switch n := p.nsub + p.nidx; {
	case n == bigNode+1:
		if t.big == nil {
			t.big = map[fkey]int32{}
		}
		for c := p.first; c >= 0; c = t.nodes[c].next {
			n := &t.nodes[c]
			t.big[fkey{parent, n.list, n.key, n.pos}] = c
		}
	case n > bigNode+1:
		t.big[fkey{parent, list, key, pos}] = c
	}
	return c
}

// unflatten rebuilds the metadata tree from flattened keys the way sops'
// stores.unflattenTreeBranch does (a__list_0__map_b = …). Keys (keyb) are
// split as sops' stores.tokenize splits them ([tokenize]). The tree is
// built in s, in memory a later Parse reuses: this runs for every dotenv
// and INI file of a walk.
func unflatten(entries []flatEntry, s *parseScratch) (*mnode, error) {
	t := &s.flat
	t.entries = entries
	t.nodes = append(t.nodes[:0], fnode{first: -1, last: -1, next: -1, leaf: -1, parent: -1})
	clear(t.big)
	for ei, e := range entries {
		n := int32(0)
		splitFlatKey(e.keyb, func(list bool, key []byte, pos int) {
			n = t.child(n, list, key, pos)
		})
		if l := t.nodes[n].leaf; l >= 0 {
			return nil, fmt.Errorf("line %d: duplicate metadata key %q (also on line %d)", e.line, e.keyb, entries[l].line)
		}
		t.nodes[n].leaf = int32(ei)
	}
	t.slots = t.slots[:0]
	return t.convert(0, &s.a)
}

// path is the flattened key of node k, as sops spells it in errors.
func (t *flatTree) path(k int32) string {
	n := &t.nodes[k]
	if n.parent < 0 {
		return ""
	}
	p := t.path(n.parent)
	if n.list {
		return p + "__list_" + strconv.Itoa(n.pos)
	}
	if p == "" {
		return n.key
	}
	return p + "__map_" + n.key
}

// convert turns node k into an mnode from a.
func (t *flatTree) convert(k int32, a *marena) (*mnode, error) {
	n := &t.nodes[k]
	kinds := 0
	for _, b := range []bool{n.leaf >= 0, n.nsub > 0, n.nidx > 0} {
		if b {
			kinds++
		}
	}
	if kinds > 1 {
		return nil, fmt.Errorf("metadata key %q is used both as a value and as a list or map", t.path(k))
	}
	out := a.node()
	if n.leaf >= 0 {
		e := &t.entries[n.leaf]
		out.kind, out.value, out.line, out.end = kindScalar, e.value, e.line, e.line
		return out, nil
	}
	out.line = 1 << 30
	add := func(m *mnode) {
		out.line = min(out.line, m.line)
		out.end = max(out.end, m.end)
	}
	m := a.mark()
	if n.nidx > 0 {
		out.kind = kindList
		// The children by index, on the slots stack (lists nest).
		cnt := int(n.nidx)
		off := len(t.slots)
		for range cnt {
			t.slots = append(t.slots, -1)
		}
		for ch := n.first; ch >= 0; ch = t.nodes[ch].next {
			if pos := t.nodes[ch].pos; pos >= 0 && pos < cnt {
				t.slots[off+pos] = ch
			}
		}
		for i := range cnt {
			ch := t.slots[off+i]
			if ch < 0 {
				return nil, fmt.Errorf("metadata list %q is incomplete: entry %d is missing", t.path(k), i)
			}
			c, err := t.convert(ch, a)
			if err != nil {
				return nil, err
			}
			a.pushItem(c)
			add(c)
		}
		t.slots = t.slots[:off]
		a.finish(out, m, false)
		return out, nil
	}
	out.kind = kindMap
	if n.nsub == 0 {
		out.line = 0
		return out, nil
	}
	for ch := n.first; ch >= 0; ch = t.nodes[ch].next {
		c, err := t.convert(ch, a)
		if err != nil {
			return nil, err
		}
		a.pushKey(t.nodes[ch].key, c.line, 0, c)
		add(c)
	}
	a.finish(out, m, false)
	return out, nil
}

type flatToken struct {
	list bool
	key  string
	pos  int
}

// tokenize splits a flattened key as sops' stores.tokenize does.
func tokenize(path string) []flatToken {
	var tokens []flatToken
	splitFlatKey([]byte(path), func(list bool, key []byte, pos int) {
		tokens = append(tokens, flatToken{list: list, key: string(key), pos: pos})
	})
	return tokens
}

// splitFlatKey splits a flattened key (a__list_0__map_b) as sops'
// stores.tokenize does, calling emit for each part in order: a map key
// (list false, key) or a list index (list true, pos). key is a slice of
// path.
func splitFlatKey(path []byte, emit func(list bool, key []byte, pos int)) {
	mapSep, listSep := []byte("__map_"), []byte("__list_")
	state, last := 0, 0 // the part being read: 0 first, 1 map key, 2 list index; where it begins
	finish := func(i int) {
		switch state {
		case 0:
			emit(false, path[last:i], 0)
		case 1:
			emit(false, path[last+len(mapSep):i], 0)
		case 2:
			pos, _ := strconv.Atoi(string(path[last+len(listSep) : i]))
			emit(true, nil, pos)
		}
		last = i
	}
	for i := 0; i < len(path); {
		j := bytes.Index(path[i:], []byte("__"))
		if j < 0 {
			break
		}
		i += j
		switch {
		case bytes.HasPrefix(path[i:], mapSep):
			finish(i)
			state = 1
			i += len(mapSep)
		case bytes.HasPrefix(path[i:], listSep):
			finish(i)
			state = 2
			i += len(listSep)
		default:
			i++
		}
	}
	finish(len(path))
}
