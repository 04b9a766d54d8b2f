package sopsfile

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// fastYAML reads the "sops:" block of a YAML file without yaml.v3, for the
// subset of YAML that sops (yaml.v3) and people editing by hand write there:
// block mappings and sequences (indented or not), plain, single- and
// double-quoted (without escapes) scalars, literal block scalars, empty
// flow collections and comments. Anything else makes it give up (ok false)
// and the caller uses yaml.v3. A differential test checks that both give
// the same tree on every file we have.
type fastYAML struct {
	lines  [][]byte // without newline (and without a trailing \r)
	offset int      // line number of lines[0] minus one
	// open: the last line has no newline.
	open bool
	a    *marena
}

type fastBail struct{}

func parseYAMLBlockFast(block []byte, offset int) (n *mnode, ok bool) {
	return parseYAMLBlockFastIn(block, offset, &marena{})
}

// parseYAMLBlockFastIn is parseYAMLBlockFast building the tree in a.
func parseYAMLBlockFastIn(block []byte, offset int, a *marena) (n *mnode, ok bool) {
	// Printable ASCII and line feeds only; anything else (tabs, CR,
	// control characters, non-ASCII text) is left to yaml.v3.
	if !printableLines(block) {
		return nil, false
	}
	p := &fastYAML{offset: offset, lines: a.lines[:0], a: a}
	defer func() { a.lines = p.lines[:0] }() // kept for the next block
	for len(block) > 0 {
		i := bytes.IndexByte(block, '\n')
		if i < 0 {
			p.lines = append(p.lines, block)
			p.open = true
			break
		}
		p.lines = append(p.lines, block[:i])
		block = block[i+1:]
	}
	defer func() {
		if r := recover(); r != nil {
			if _, isBail := r.(fastBail); !isBail {
				panic(r)
			}
			n, ok = nil, false
		}
	}()
	if len(p.lines) == 0 || !bytes.HasPrefix(p.lines[0], []byte("sops:")) {
		return nil, false
	}
	rest := strings.TrimSpace(string(p.lines[0][5:]))
	v, next := p.value(0, 0, rest)
	if j := p.content(next); j < len(p.lines) {
		p.bail() // something after the block at column 0 (a comment is skipped)
	}
	return v, true
}

func (p *fastYAML) bail() { panic(fastBail{}) }

// printableLines reports whether b holds only printable ASCII and line
// feeds. It tests eight bytes at a time: a word without a byte of 0x80 or
// more, of 0x7f, or below 0x20 passes at once; one that has a byte below
// 0x20 (a line feed, usually) is looked at byte by byte.
func printableLines(b []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		if w&highs != 0 {
			return false // a byte of 0x80 or more
		}
		if x := w ^ (0x7f * ones); (x-ones)&^x&highs != 0 {
			return false // 0x7f
		}
		if (w-0x20*ones)&^w&highs != 0 { // a byte below 0x20
			for _, c := range b[:8] {
				if c < 0x20 && c != '\n' {
					return false
				}
			}
		}
		b = b[8:]
	}
	for _, c := range b {
		if (c < 0x20 && c != '\n') || c >= 0x7f {
			return false
		}
	}
	return true
}

func (p *fastYAML) num(i int) int { return p.offset + i + 1 }

func indentOf(l []byte) int {
	n := 0
	for n < len(l) && l[n] == ' ' {
		n++
	}
	return n
}

// content returns the index of the next line from i that is not blank or a
// comment.
func (p *fastYAML) content(i int) int {
	for ; i < len(p.lines); i++ {
		t := bytes.TrimLeft(p.lines[i], " ")
		if len(t) > 0 && t[0] != '#' {
			return i
		}
	}
	return i
}

func isDash(t []byte) bool { return len(t) > 0 && t[0] == '-' && (len(t) == 1 || t[1] == ' ') }

// value parses the value of a key on line i (whose key is at column col;
// rest is the text after "key:"). It returns the node and the index of the
// line after it.
func (p *fastYAML) value(i, col int, rest string) (*mnode, int) {
	if rest == "" || rest[0] == '#' {
		j := p.content(i + 1)
		if j >= len(p.lines) {
			return p.null(i), i + 1
		}
		ind := indentOf(p.lines[j])
		t := p.lines[j][ind:]
		switch {
		case isDash(t) && ind >= col:
			return p.sequence(j, ind)
		case ind > col:
			return p.mapping(j, ind, nil)
		}
		return p.null(i), i + 1
	}
	if rest[0] == '|' {
		return p.literal(i, col, rest)
	}
	return p.inline(i, rest), i + 1
}

// null is a null value on line i.
func (p *fastYAML) null(i int) *mnode {
	n := p.a.node()
	n.kind, n.line, n.end = kindNull, p.num(i), p.num(i)
	return n
}

// inline parses a scalar (or empty flow collection) on one line.
func (p *fastYAML) inline(i int, s string) *mnode {
	n := p.a.node()
	n.kind, n.line, n.end = kindScalar, p.num(i), p.num(i)
	s = strings.TrimRight(s, " ")
	switch s[0] {
	case '"':
		end := strings.IndexByte(s[1:], '"')
		if end < 0 || strings.IndexByte(s[1:end+1], '\\') >= 0 {
			p.bail()
		}
		p.trailer(s[end+2:])
		n.value = s[1 : end+1]
		return n
	case '\'':
		var b strings.Builder
		j := 1
		for {
			k := strings.IndexByte(s[j:], '\'')
			if k < 0 {
				p.bail()
			}
			b.WriteString(s[j : j+k])
			j += k + 1
			if j < len(s) && s[j] == '\'' {
				b.WriteByte('\'')
				j++
				continue
			}
			break
		}
		p.trailer(s[j:])
		n.value = b.String()
		return n
	case '[', '{':
		if s == "[]" || s == "{}" || strings.HasPrefix(s, "[] #") || strings.HasPrefix(s, "{} #") {
			n.kind = kindList
			if s[0] == '{' {
				n.kind = kindMap
			}
			return n
		}
		p.bail()
	case '&', '*', '!', '%', '@', '`', '|', '>', '?', ',', ']', '}', '#':
		p.bail()
	}
	if i := strings.Index(s, " #"); i >= 0 {
		s = strings.TrimRight(s[:i], " ")
	}
	if strings.Contains(s, ": ") || strings.HasSuffix(s, ":") || (s[0] == '-' && (len(s) == 1 || s[1] == ' ')) {
		p.bail()
	}
	// A plain scalar continued on the next line is not supported.
	if j := i + 1; j < len(p.lines) {
		if nt := bytes.TrimLeft(p.lines[j], " "); len(nt) > 0 && indentOf(p.lines[j]) > 0 && nt[0] != '#' && !isDash(nt) && bytes.IndexByte(nt, ':') < 0 {
			p.bail()
		}
	}
	switch s {
	case "~", "null", "Null", "NULL":
		n.kind = kindNull
		return n
	}
	n.value = s
	return n
}

// trailer checks what follows a quoted scalar: nothing or a comment.
func (p *fastYAML) trailer(s string) {
	s = strings.TrimLeft(s, " ")
	if s != "" && s[0] != '#' {
		p.bail()
	}
}

// literal parses a literal block scalar whose indicator is on line i.
func (p *fastYAML) literal(i, col int, header string) (*mnode, int) {
	if j := strings.Index(header, " #"); j >= 0 {
		header = strings.TrimRight(header[:j], " ")
	}
	chomp := byte(0)
	switch header {
	case "|":
	case "|-":
		chomp = '-'
	case "|+":
		chomp = '+'
	default:
		p.bail()
	}
	// Content indentation: the first non-blank line's.
	j := i + 1
	for j < len(p.lines) && len(bytes.TrimLeft(p.lines[j], " ")) == 0 {
		j++
	}
	if j >= len(p.lines) || indentOf(p.lines[j]) <= col {
		p.bail() // an empty block scalar: rare, let yaml.v3 decide
	}
	ind := indentOf(p.lines[j])
	for k := i + 1; k < j; k++ {
		if len(p.lines[k]) > ind {
			p.bail() // leading blank lines longer than the indentation
		}
	}
	// The content lines, from i+1 up to k: a blank line no longer than
	// the indentation is an empty line of the content; body is the number
	// of lines up to the last that is not empty (the others are trailing
	// line breaks, which only "|+" keeps).
	k := i + 1
	nparts, body, size := 0, 0, 0
	for ; k < len(p.lines); k++ {
		l := p.lines[k]
		if len(bytes.TrimLeft(l, " ")) != 0 && indentOf(l) < ind {
			break
		}
		nparts++
		if len(l) > ind {
			body = nparts
			size += len(l) - ind
		}
	}
	if p.open && k == len(p.lines) {
		// The block ends the text without a final line break.
		if chomp == '+' || body < nparts {
			p.bail()
		}
		chomp = '-'
	}
	var b strings.Builder
	b.Grow(size + nparts + 1)
	for j := range body {
		if j > 0 {
			b.WriteByte('\n')
		}
		if l := p.lines[i+1+j]; len(l) > ind {
			b.Write(l[ind:])
		}
	}
	switch chomp {
	case 0:
		if body > 0 {
			b.WriteByte('\n')
		}
	case '+':
		extra := nparts - body + 1
		if body == 0 {
			extra = nparts
		}
		for range extra {
			b.WriteByte('\n')
		}
	}
	v := b.String()
	n := p.a.node()
	n.kind, n.value, n.line, n.end = kindScalar, v, p.num(i), p.num(i)
	if v != "" {
		n.end += strings.Count(v, "\n")
		if !strings.HasSuffix(v, "\n") {
			n.end++
		}
	}
	next := i + 1 + body
	if chomp == '+' {
		next = k
	}
	return n, next
}

// key splits "key: rest" (or "key:"); ok is false when the line is not a
// plain key.
func splitKey(t []byte) (key, rest string, ok bool) {
	i := bytes.IndexByte(t, ':')
	if i <= 0 || (i+1 < len(t) && t[i+1] != ' ') {
		return "", "", false
	}
	for _, c := range t[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return "", "", false
		}
	}
	return metadataKey(t[:i]), string(bytes.TrimSpace(t[i+1:])), true
}

// mapping parses a block mapping whose keys are at column ind, from line i.
// first, when set, is the text of line i from the key on (an item's first
// key after its dash).
func (p *fastYAML) mapping(i, ind int, first []byte) (*mnode, int) {
	n := p.a.node()
	n.kind = kindMap
	m := p.a.mark()
	for {
		var t []byte
		if first != nil {
			t, first = first, nil
		} else {
			i = p.content(i)
			if i >= len(p.lines) {
				break
			}
			l := p.lines[i]
			li := indentOf(l)
			if li < ind || (li == ind && isDash(l[li:])) {
				break
			}
			if li > ind {
				p.bail()
			}
			t = l[li:]
		}
		k, rest, ok := splitKey(t)
		if !ok {
			p.bail()
		}
		v, next := p.value(i, ind, rest)
		p.a.pushKey(k, p.num(i), 0, v)
		n.end = max(n.end, v.end, p.num(i))
		i = next
	}
	if len(p.a.keys) == m.keys {
		p.bail()
	}
	p.a.finish(n, m, false)
	n.line = n.kline[0]
	return n, i
}

// sequence parses a block sequence whose dashes are at column ind.
func (p *fastYAML) sequence(i, ind int) (*mnode, int) {
	n := p.a.node()
	n.kind, n.line = kindList, p.num(i)
	m := p.a.mark()
	for {
		i = p.content(i)
		if i >= len(p.lines) {
			break
		}
		l := p.lines[i]
		li := indentOf(l)
		if li != ind || !isDash(l[li:]) {
			if li > ind {
				p.bail()
			}
			break
		}
		t := l[li+1:]
		sp := indentOf(t)
		t = t[sp:]
		if len(t) == 0 || t[0] == '#' {
			p.bail() // item content on the following lines
		}
		var item *mnode
		if _, _, ok := splitKey(t); ok {
			item, i = p.mapping(i, li+1+sp, t)
		} else {
			item = p.inline(i, string(t))
			i++
		}
		p.a.pushItem(item)
		n.end = max(n.end, item.end)
	}
	p.a.finish(n, m, false)
	return n, i
}
