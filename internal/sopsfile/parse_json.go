package sopsfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonParser is a small JSON reader: it skips the data section without
// building anything and builds an mnode tree (with byte offsets turned into
// lines) only for the "sops" value.
type jsonParser struct {
	data []byte
	pos  int
	// line bookkeeping: lines are counted lazily and only forward.
	lineOff, line int
	a             *marena
}

type jsonSyntaxError struct {
	off int
	msg string
}

func (e *jsonSyntaxError) Error() string { return e.msg }

func (p *jsonParser) fail(format string, args ...any) error {
	return &jsonSyntaxError{off: p.pos, msg: fmt.Sprintf(format, args...)}
}

// lineAt returns the 1-based line of offset off; offsets must not go
// backwards between calls.
func (p *jsonParser) lineAt(off int) int {
	if off < p.lineOff {
		p.lineOff, p.line = 0, 1
	}
	p.line += bytes.Count(p.data[p.lineOff:off], []byte{'\n'})
	p.lineOff = off
	return p.line
}

func (p *jsonParser) ws() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// parseJSON returns the tree of the top-level "sops" value, nil when there
// is none.
func parseJSON(data []byte) (root *mnode, err error) {
	return parseJSONIn(data, &marena{})
}

// parseJSONIn is parseJSON building the tree in a.
func parseJSONIn(data []byte, a *marena) (root *mnode, err error) {
	p := &jsonParser{data: data, line: 1, a: a}
	defer func() {
		var se *jsonSyntaxError
		if errors.As(err, &se) {
			err = fmt.Errorf("invalid JSON at line %d: %s", p.lineAt(min(se.off, len(data))), se.msg)
		}
	}()
	p.ws()
	if p.pos >= len(data) || data[p.pos] != '{' {
		// sops only reads top-level objects: not a sops file.
		return nil, nil
	}
	p.pos++
	first := true
	for {
		p.ws()
		if p.pos >= len(data) {
			return nil, p.fail("unexpected end of input")
		}
		if data[p.pos] == '}' {
			p.pos++
			break
		}
		if !first {
			if data[p.pos] != ',' {
				return nil, p.fail("expected , or }")
			}
			p.pos++
			p.ws()
		}
		first = false
		keyOff := p.pos
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.pos >= len(data) || data[p.pos] != ':' {
			return nil, p.fail("expected :")
		}
		p.pos++
		p.ws()
		if key == "sops" {
			if root != nil {
				return nil, fmt.Errorf("line %d: duplicate sops entry", p.lineAt(keyOff))
			}
			line := p.lineAt(keyOff)
			root, err = p.tree()
			if err != nil {
				return nil, err
			}
			if root.kind != kindMap {
				return nil, fmt.Errorf("line %d: sops entry is not an object", line)
			}
			root.keyLine = line
			continue
		}
		if err := p.skip(0); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// str reads a string token and returns its value.
func (p *jsonParser) str() (string, error) { return p.strAs(false) }

// strAs is str; key says the string is a key, which for the keys of
// sops metadata makes no new string.
func (p *jsonParser) strAs(key bool) (string, error) {
	if p.pos >= len(p.data) || p.data[p.pos] != '"' {
		return "", p.fail("expected string")
	}
	start := p.pos
	esc := false
	// The string ends at the first quote not escaped; a newline before it
	// (not escaped) is an error. Quotes, backslashes and newlines are found
	// with IndexByte, not byte by byte: enc values are long.
	for i := p.pos + 1; i < len(p.data); {
		rest := p.data[i:]
		seg := rest
		q := bytes.IndexByte(rest, '"')
		if q >= 0 {
			seg = rest[:q]
		}
		b := bytes.IndexByte(seg, '\\')
		if b < 0 {
			b = len(seg)
		}
		if bytes.IndexByte(seg[:b], '\n') >= 0 {
			return "", p.fail("newline in string")
		}
		if b < len(seg) {
			esc = true
			i += b + 2 // the backslash and the character it escapes
			continue
		}
		if q < 0 {
			break
		}
		end := i + q
		p.pos = end + 1
		if !esc {
			if key {
				return metadataKey(p.data[start+1 : end]), nil
			}
			return string(p.data[start+1 : end]), nil
		}
		s, ok := unescapeJSON(p.data[start+1 : end])
		if !ok {
			p.pos = start
			return "", p.fail("invalid string")
		}
		return s, nil
	}
	return "", p.fail("unterminated string")
}

// skip passes over one value.
func (p *jsonParser) skip(depth int) error {
	if depth > 10000 {
		return p.fail("nesting too deep")
	}
	if p.pos >= len(p.data) {
		return p.fail("unexpected end of input")
	}
	switch c := p.data[p.pos]; c {
	case '"':
		// Fast path: find the closing quote, honouring escapes.
		for i := p.pos + 1; i < len(p.data); i++ {
			j := bytes.IndexAny(p.data[i:], "\"\\")
			if j < 0 {
				break
			}
			i += j
			if p.data[i] == '\\' {
				i++
				continue
			}
			p.pos = i + 1
			return nil
		}
		return p.fail("unterminated string")
	case '{', '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		p.pos++
		first := true
		for {
			p.ws()
			if p.pos >= len(p.data) {
				return p.fail("unexpected end of input")
			}
			if p.data[p.pos] == end {
				p.pos++
				return nil
			}
			if !first {
				if p.data[p.pos] != ',' {
					return p.fail("expected , or %c", end)
				}
				p.pos++
				p.ws()
			}
			first = false
			if c == '{' {
				if err := p.skip(depth + 1); err != nil { // key
					return err
				}
				p.ws()
				if p.pos >= len(p.data) || p.data[p.pos] != ':' {
					return p.fail("expected :")
				}
				p.pos++
				p.ws()
			}
			if err := p.skip(depth + 1); err != nil {
				return err
			}
		}
	default:
		start := p.pos
		for p.pos < len(p.data) {
			switch p.data[p.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				goto done
			}
			p.pos++
		}
	done:
		if !json.Valid(p.data[start:p.pos]) {
			// The text is not quoted: it may be a plaintext secret.
			return p.fail("invalid JSON value (%d bytes, not a string, number, true, false or null)", p.pos-start)
		}
		return nil
	}
}

// tree reads one value into an mnode.
func (p *jsonParser) tree() (*mnode, error) {
	if p.pos >= len(p.data) {
		return nil, p.fail("unexpected end of input")
	}
	n := p.a.node()
	n.line, n.start = p.lineAt(p.pos), p.pos
	switch c := p.data[p.pos]; c {
	case '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		n.kind, n.value = kindScalar, s
	case '{', '[':
		end := byte('}')
		n.kind = kindMap
		if c == '[' {
			end = ']'
			n.kind = kindList
		}
		p.pos++
		first := true
		m := p.a.mark()
		for {
			p.ws()
			if p.pos >= len(p.data) {
				return nil, p.fail("unexpected end of input")
			}
			if p.data[p.pos] == end {
				p.pos++
				break
			}
			if !first {
				if p.data[p.pos] != ',' {
					return nil, p.fail("expected , or %c", end)
				}
				p.pos++
				p.ws()
			}
			first = false
			if c == '{' {
				kOff := p.pos
				k, err := p.strAs(true)
				if err != nil {
					return nil, err
				}
				p.ws()
				if p.pos >= len(p.data) || p.data[p.pos] != ':' {
					return nil, p.fail("expected :")
				}
				p.pos++
				p.ws()
				kLine := p.lineAt(kOff)
				v, err := p.tree()
				if err != nil {
					return nil, err
				}
				p.a.pushKey(k, kLine, kOff, v)
				continue
			}
			v, err := p.tree()
			if err != nil {
				return nil, err
			}
			p.a.pushItem(v)
		}
		p.a.finish(n, m, true)
		if c == '{' && len(n.kline) > 0 {
			n.line = n.kline[0]
		}
	default:
		start := p.pos
		if err := p.skip(0); err != nil {
			return nil, err
		}
		raw := string(p.data[start:p.pos])
		if raw == "null" {
			n.kind = kindNull
		} else {
			n.kind, n.value = kindScalar, raw
		}
	}
	n.stop = p.pos
	n.end = p.lineAt(p.pos)
	return n, nil
}

// unescapeJSON decodes the body of a JSON string with escapes. The runs
// between escapes are copied whole, into the string returned.
func unescapeJSON(b []byte) (string, bool) {
	var out strings.Builder
	out.Grow(len(b))
	for i := 0; i < len(b); i++ {
		j := i
		for j < len(b) && b[j] != '\\' && b[j] >= 0x20 {
			j++
		}
		out.Write(b[i:j])
		if i = j; i >= len(b) {
			break
		}
		if b[i] < 0x20 {
			return "", false
		}
		i++
		if i >= len(b) {
			return "", false
		}
		switch b[i] {
		case '"', '\\', '/':
			out.WriteByte(b[i])
		case 'n':
			out.WriteByte('\n')
		case 't':
			out.WriteByte('\t')
		case 'r':
			out.WriteByte('\r')
		case 'b':
			out.WriteByte('\b')
		case 'f':
			out.WriteByte('\f')
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
							out.WriteRune(d)
							i += 6
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			out.WriteRune(r)
		default:
			return "", false
		}
	}
	s := out.String()
	if !utf8.ValidString(s) {
		// encoding/json replaces invalid UTF-8; let it decide.
		var s string
		if err := json.Unmarshal(append(append([]byte{'"'}, b...), '"'), &s); err != nil {
			return "", false
		}
		return s, true
	}
	return s, true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
