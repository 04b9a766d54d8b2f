package sopsfile

// The readers of dotenv and INI metadata, and the JSON string decoder, as
// they were before they were made to allocate less (parse_flat.go,
// parse_json.go): the reference the fast ones are compared with
// (TestFlatMatchesReference, FuzzFlatReference, FuzzUnescapeJSON).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// lines calls fn for every line of data with its 1-based number and byte
// span (end includes the newline).
func refEachLine(data []byte, fn func(l []byte, line, start, end int) bool) {
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

// refDotenvEntries returns the sops_ lines of a dotenv file, read as sops'
// dotenv store reads them, and the lines it could not read.
func refDotenvEntries(data []byte) (entries []flatEntry, bad []int) {
	refEachLine(data, func(l []byte, line, start, end int) bool {
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
		entries = append(entries, flatEntry{
			key:   string(l[len("sops_"):pos]),
			value: strings.ReplaceAll(string(l[pos+1:]), `\n`, "\n"),
			line:  line, start: start, end: end,
		})
		return true
	})
	return entries, bad
}

func refParseDotenv(f *File, data []byte) (*mnode, error) {
	if !bytes.Contains(data, []byte("sops_")) {
		return nil, nil
	}
	entries, bad := refDotenvEntries(data)
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
	root, err := refUnflatten(entries)
	if err != nil {
		return nil, err
	}
	root.keyLine = entries[0].line
	return root, nil
}

// refIniSection is a [sops] section of an INI file.
type refIniSection struct {
	line       int // line of "[sops]"
	start, end int // byte span from the header to the end of its last line
	entries    []flatEntry
	lastKey    int // byte offset of the end of the last key line
}

// refIniSops finds the [sops] sections of an INI file and reads their keys as
// gopkg.in/ini.v1 (which sops uses) does.
func refIniSops(data []byte) ([]refIniSection, error) {
	type rawLine struct {
		text       []byte // without the newline
		start, end int
	}
	var lines []rawLine
	refEachLine(data, func(l []byte, _, start, end int) bool {
		lines = append(lines, rawLine{l, start, end})
		return true
	})
	var out []refIniSection
	var cur *refIniSection
	for i := 0; i < len(lines); i++ {
		line := i + 1
		l := bytes.TrimSpace(lines[i].text)
		if len(l) == 0 || l[0] == '#' || l[0] == ';' {
			continue
		}
		if l[0] == '[' {
			cur = nil
			closeIdx := bytes.LastIndexByte(l, ']')
			if closeIdx < 0 {
				return nil, fmt.Errorf("line %d: unclosed section header (no ]): sops cannot read the file", line)
			}
			if strings.TrimSpace(string(l[1:closeIdx])) == "sops" {
				out = append(out, refIniSection{line: line, start: lines[i].start, end: lines[i].end})
				cur = &out[len(out)-1]
			}
			continue
		}
		key, value, ok := refIniKeyValue(l)
		if !ok {
			if cur == nil {
				// gopkg.in/ini.v1 fails the whole file ("key-value
				// delimiter not found"); the line is not quoted, it may
				// be a secret.
				return nil, fmt.Errorf("line %d: INI line has no = or : (sops cannot read the file)", line)
			}
			return nil, fmt.Errorf("line %d: invalid INI line in [sops]", line)
		}
		e := flatEntry{key: key, line: line, start: lines[i].start}
		if len(value) > 0 && (value[0] == '`' || strings.HasPrefix(value, `"""`)) && len(value) > 1 {
			q := "`"
			if value[0] == '"' {
				q = `"""`
			}
			rest := value[len(q):]
			if pos := strings.LastIndex(rest, q); pos >= 0 {
				value = rest[:pos]
			} else {
				// Multi-line quoted value: lines up to the closing quote.
				var b strings.Builder
				b.WriteString(rest)
				b.WriteByte('\n')
				closed := false
				for i+1 < len(lines) {
					i++
					next := string(lines[i].text)
					if pos := strings.LastIndex(next, q); pos >= 0 {
						b.WriteString(next[:pos])
						closed = true
						break
					}
					b.WriteString(next)
					b.WriteByte('\n')
				}
				if !closed {
					return nil, fmt.Errorf("line %d: missing closing %s", line, q)
				}
				value = b.String()
			}
		} else {
			if i := strings.IndexAny(value, "#;"); i >= 0 {
				value = strings.TrimSpace(value[:i])
			}
			if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
				value = value[1 : len(value)-1]
			}
		}
		if cur == nil {
			continue
		}
		e.value = strings.ReplaceAll(value, `\n`, "\n")
		e.end = lines[i].end
		cur.end = e.end
		cur.lastKey = e.end
		cur.entries = append(cur.entries, e)
	}
	return out, nil
}

// refIniKeyValue splits a trimmed INI line at its first = or :.
func refIniKeyValue(l []byte) (key, value string, ok bool) {
	s := string(l)
	if s[0] == '"' || s[0] == '`' {
		q := s[:1]
		if strings.HasPrefix(s, `"""`) {
			q = `"""`
		}
		end := strings.Index(s[len(q):], q)
		if end < 0 {
			return "", "", false
		}
		key = s[len(q) : len(q)+end]
		rest := strings.TrimSpace(s[len(q)+end+len(q):])
		if rest == "" || (rest[0] != '=' && rest[0] != ':') {
			return "", "", false
		}
		return key, strings.TrimSpace(rest[1:]), true
	}
	i := strings.IndexAny(s, "=:")
	if i < 0 {
		return "", "", false
	}
	return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:]), true
}

func refParseINI(data []byte) (*mnode, error) {
	if !bytes.Contains(data, []byte("[sops]")) && !bytes.Contains(data, []byte("sops")) {
		return nil, nil
	}
	secs, err := refIniSops(data)
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
	root, err := refUnflatten(secs[0].entries)
	if err != nil {
		return nil, err
	}
	root.keyLine = secs[0].line
	return root, nil
}

// refFnode builds the tree of flattened keys.
type refFnode struct {
	leaf  *mnode
	keys  []string
	sub   map[string]*refFnode
	index map[int]*refFnode
}

// refUnflatten rebuilds the metadata tree from flattened keys the way sops'
// stores.unflattenTreeBranch does (a__list_0__map_b = …).
func refUnflatten(entries []flatEntry) (*mnode, error) {
	root := &refFnode{}
	for _, e := range entries {
		n := root
		for _, t := range refTokenize(e.key) {
			if t.list {
				if n.index == nil {
					n.index = map[int]*refFnode{}
				}
				next := n.index[t.pos]
				if next == nil {
					next = &refFnode{}
					n.index[t.pos] = next
				}
				n = next
				continue
			}
			if n.sub == nil {
				n.sub = map[string]*refFnode{}
			}
			next := n.sub[t.key]
			if next == nil {
				next = &refFnode{}
				n.sub[t.key] = next
				n.keys = append(n.keys, t.key)
			}
			n = next
		}
		if n.leaf != nil {
			return nil, fmt.Errorf("line %d: duplicate metadata key %q (also on line %d)", e.line, e.key, n.leaf.line)
		}
		n.leaf = &mnode{kind: kindScalar, value: e.value, line: e.line, end: e.line}
	}
	return root.convert("")
}

func (n *refFnode) convert(path string) (*mnode, error) {
	kinds := 0
	for _, b := range []bool{n.leaf != nil, len(n.sub) > 0, len(n.index) > 0} {
		if b {
			kinds++
		}
	}
	if kinds > 1 {
		return nil, fmt.Errorf("metadata key %q is used both as a value and as a list or map", path)
	}
	if n.leaf != nil {
		return n.leaf, nil
	}
	out := &mnode{line: 1 << 30}
	add := func(c *mnode) {
		out.items = append(out.items, c)
		out.line = min(out.line, c.line)
		out.end = max(out.end, c.end)
	}
	if len(n.index) > 0 {
		out.kind = kindList
		for i := range len(n.index) {
			c, ok := n.index[i]
			if !ok {
				return nil, fmt.Errorf("metadata list %q is incomplete: entry %d is missing", path, i)
			}
			m, err := c.convert(path + "__list_" + strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			add(m)
		}
		return out, nil
	}
	out.kind = kindMap
	for _, k := range n.keys {
		p := k
		if path != "" {
			p = path + "__map_" + k
		}
		m, err := n.sub[k].convert(p)
		if err != nil {
			return nil, err
		}
		out.keys = append(out.keys, k)
		out.kline = append(out.kline, m.line)
		add(m)
	}
	if len(n.keys) == 0 {
		out.line = 0
	}
	return out, nil
}

type refFlatToken struct {
	list bool
	key  string
	pos  int
}

// refTokenize splits a flattened key as sops' stores.refTokenize does.
func refTokenize(path string) []refFlatToken {
	const mapSep, listSep = "__map_", "__list_"
	var tokens []refFlatToken
	state := 0 // 0 normal, 1 map, 2 list
	last := 0
	finish := func(i int) {
		switch state {
		case 0:
			tokens = append(tokens, refFlatToken{key: path[last:i]})
		case 1:
			tokens = append(tokens, refFlatToken{key: path[last+len(mapSep) : i]})
		case 2:
			pos, _ := strconv.Atoi(path[last+len(listSep) : i])
			tokens = append(tokens, refFlatToken{list: true, pos: pos})
		}
		last = i
	}
	for i := 0; i < len(path); {
		switch {
		case strings.HasPrefix(path[i:], mapSep):
			finish(i)
			state = 1
			i += len(mapSep)
		case strings.HasPrefix(path[i:], listSep):
			finish(i)
			state = 2
			i += len(listSep)
		default:
			i++
		}
	}
	finish(len(path))
	return tokens
}

// refParse is Parse with the reference readers for dotenv and INI files.
func refParse(path string, data []byte) (*File, error) {
	f := &File{Path: path, Format: FormatFor(path), Documents: 1}
	var root *mnode
	var err error
	switch f.Format {
	case FormatDotenv:
		root, err = refParseDotenv(f, data)
	case FormatINI:
		root, err = refParseINI(data)
	default:
		panic("refParse: not a flat format")
	}
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, ErrNotEncrypted
	}
	if f.MetadataLine == 0 {
		f.MetadataLine = root.keyLine
	}
	if err := f.fromTree(root); err != nil {
		return nil, err
	}
	if err := truncated(f, data); err != nil {
		return nil, err
	}
	return f, nil
}

// refUnescapeJSON is unescapeJSON as it was before it copied runs whole
// (compared in FuzzUnescapeJSON).
func refUnescapeJSON(b []byte) (string, bool) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			if c < 0x20 {
				return "", false
			}
			out = append(out, c)
			continue
		}
		i++
		if i >= len(b) {
			return "", false
		}
		switch b[i] {
		case '"', '\\', '/':
			out = append(out, b[i])
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'u':
			r, ok := hex4(b[i+1:])
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
					if r2, ok := hex4(b[i+3:]); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							out = utf8.AppendRune(out, d)
							i += 6
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", false
		}
	}
	if !utf8.Valid(out) {
		// encoding/json replaces invalid UTF-8; let it decide.
		var s string
		if err := json.Unmarshal(append(append([]byte{'"'}, b...), '"'), &s); err != nil {
			return "", false
		}
		return s, true
	}
	return string(out), true
}

// refStr is jsonParser.str as it was before it searched with IndexByte:
// the value, the error and where the parser stands after it.
func refStr(data []byte, pos int) (string, error, int) {
	p := &jsonParser{data: data, pos: pos, line: 1, a: &marena{}}
	if p.pos >= len(p.data) || p.data[p.pos] != '"' {
		return "", p.fail("expected string"), p.pos
	}
	start := p.pos
	esc := false
	for i := p.pos + 1; i < len(p.data); i++ {
		switch p.data[i] {
		case '\\':
			esc = true
			i++
		case '"':
			p.pos = i + 1
			if !esc {
				return string(p.data[start+1 : i]), nil, p.pos
			}
			s, ok := unescapeJSON(p.data[start+1 : i])
			if !ok {
				p.pos = start
				return "", p.fail("invalid string"), p.pos
			}
			return s, nil, p.pos
		case '\n':
			return "", p.fail("newline in string"), p.pos
		}
	}
	return "", p.fail("unterminated string"), p.pos
}

// refPrintableLines is the byte loop printableLines replaced.
func refPrintableLines(block []byte) bool {
	for _, c := range block {
		if (c < 0x20 && c != '\n') || c >= 0x7f {
			return false
		}
	}
	return true
}
