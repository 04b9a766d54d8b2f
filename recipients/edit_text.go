package recipients

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/sopsfleet/sopsfleet/internal/textedit"
)

// text is the .sops.yaml source with line positions, for byte-exact edits.
type text struct {
	data  []byte
	start []int  // byte offset of each line; start[i] is line i+1
	nl    string // the file's line ending: "\n" or "\r\n"
}

func newText(data []byte) *text {
	t := &text{data: data, start: []int{0}, nl: "\n"}
	for i, b := range data {
		if b == '\n' {
			t.start = append(t.start, i+1)
		}
	}
	if i := strings.IndexByte(string(data), '\n'); i > 0 && data[i-1] == '\r' {
		t.nl = "\r\n"
	}
	return t
}

// lines is the number of lines (a final newline does not start a line).
func (t *text) lines() int {
	n := len(t.start)
	if t.start[n-1] == len(t.data) && n > 1 {
		return n - 1
	}
	return n
}

// lineStart is the offset of line l (1-based).
func (t *text) lineStart(l int) int {
	if l-1 >= len(t.start) {
		return len(t.data)
	}
	return t.start[l-1]
}

// lineEnd is the offset of the end of line l's content (before "\r\n"/"\n").
func (t *text) lineEnd(l int) int {
	end := len(t.data)
	if l < len(t.start) {
		end = t.start[l] - 1
	}
	if end > t.lineStart(l) && t.data[end-1] == '\r' {
		end--
	}
	return end
}

// line is the content of line l.
func (t *text) line(l int) string { return string(t.data[t.lineStart(l):t.lineEnd(l)]) }

// lineOf is the line holding offset off.
func (t *text) lineOf(off int) int {
	return sort.Search(len(t.start), func(i int) bool { return t.start[i] > off })
}

// hasNewline reports whether line l ends with a line break.
func (t *text) hasNewline(l int) bool { return l < len(t.start) && t.start[l] <= len(t.data) }

// offset converts a yaml position (1-based line, 1-based column in
// characters) into a byte offset.
func (t *text) offset(line, col int) int {
	off := t.lineStart(line)
	if line == 1 && strings.HasPrefix(string(t.data), "\uFEFF") {
		off += len("\uFEFF") // yaml does not count a byte order mark
	}
	end := t.lineEnd(line)
	for c := 1; c < col && off < end; c++ {
		_, w := utf8.DecodeRune(t.data[off:end])
		off += w
	}
	return off
}

// indent is the number of leading spaces of line l.
func (t *text) indent(l int) int {
	s := t.line(l)
	return len(s) - len(strings.TrimLeft(s, " "))
}

// blankOrComment reports whether line l holds no YAML content.
func (t *text) blankOrComment(l int) bool {
	s := strings.TrimSpace(t.line(l))
	return s == "" || strings.HasPrefix(s, "#")
}

// insertAfterLine returns the splice that inserts content as a new line
// after line l, keeping the file's line ending and its (missing) final
// newline.
func (t *text) insertAfterLine(l int, content string) splice {
	if t.hasNewline(l) {
		at := t.lineStart(l + 1)
		return splice{Start: at, End: at, Text: content + t.nl}
	}
	return splice{Start: len(t.data), End: len(t.data), Text: t.nl + content}
}

// deleteLines returns the splice that removes lines from..to (inclusive),
// line breaks included.
func (t *text) deleteLines(from, to int) splice {
	if t.hasNewline(to) {
		return splice{Start: t.lineStart(from), End: t.lineStart(to + 1), Text: ""}
	}
	// The last line has no newline: remove the break before the range.
	start := t.lineStart(from)
	if from > 1 {
		start = t.lineEnd(from - 1)
	}
	return splice{Start: start, End: len(t.data), Text: ""}
}

// splice replaces data[Start:End] with Text (see [textedit.Edit]).
type splice = textedit.Edit

// span is the source extent of a node's token: [start, end) without its
// properties (anchor, tag) when value is true.
type span struct{ start, end int }

// nodeStart is the offset where n (with its properties) starts.
func (t *text) nodeStart(n *yaml.Node) int { return t.offset(n.Line, n.Column) }

// skipProps skips "&anchor" and "!tag" properties at off.
func (t *text) skipProps(off int) int {
	for off < len(t.data) && (t.data[off] == '&' || t.data[off] == '!') {
		for off < len(t.data) && !isSpace(t.data[off]) {
			off++
		}
		for off < len(t.data) && (t.data[off] == ' ' || t.data[off] == '\t') {
			off++
		}
	}
	return off
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// isAnchorChar is yaml.v3's set for anchor and alias names.
func isAnchorChar(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '_' || b == '-'
}

// errUnclean reports a value the editor cannot change without touching
// more than its own bytes.
type errUnclean struct {
	line int
	why  string
}

func (e *errUnclean) Error() string { return fmt.Sprintf("%d: %s", e.line, e.why) }

// Line is the line the problem is on.
func (e *errUnclean) Line() int { return e.line }

// valueSpan returns the extent of scalar or alias node n (properties
// excluded). inFlow says whether n is inside a flow collection; indent is the
// indentation of the block n belongs to (continuation lines are deeper).
func (t *text) valueSpan(n *yaml.Node, inFlow bool, indent int) (span, error) {
	off := t.skipProps(t.nodeStart(n))
	if off >= len(t.data) {
		return span{off, off}, nil
	}
	switch {
	case n.Kind == yaml.AliasNode:
		if t.data[off] != '*' {
			return span{}, &errUnclean{n.Line, "cannot find the alias"}
		}
		end := off + 1
		for end < len(t.data) && isAnchorChar(t.data[end]) {
			end++
		}
		return span{off, end}, nil
	case n.Kind != yaml.ScalarNode:
		return span{}, &errUnclean{n.Line, "not a single value"}
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for end := off + 1; end < len(t.data); end++ {
			if t.data[end] == '\\' {
				end++
				continue
			}
			if t.data[end] == '"' {
				return span{off, end + 1}, nil
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0:
		for end := off + 1; end < len(t.data); end++ {
			if t.data[end] == '\'' {
				if end+1 < len(t.data) && t.data[end+1] == '\'' {
					end++
					continue
				}
				return span{off, end + 1}, nil
			}
		}
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return t.blockScalarSpan(n, off, indent)
	default:
		return t.plainSpan(n, off, inFlow, indent)
	}
	return span{}, &errUnclean{n.Line, "unterminated quoted value"}
}

// blockScalarSpan is the extent of a "|" or ">" scalar: header and content
// lines, trailing blank lines excluded.
func (t *text) blockScalarSpan(n *yaml.Node, off, indent int) (span, error) {
	l := t.lineOf(off)
	end := t.lineEnd(l)
	content := -1
	for m := l + 1; m <= t.lines(); m++ {
		s := t.line(m)
		if strings.TrimSpace(s) == "" {
			continue
		}
		ind := t.indent(m)
		if content < 0 {
			if ind <= indent {
				break
			}
			content = ind
		}
		if ind < content {
			break
		}
		end = t.lineEnd(m)
	}
	return span{off, end}, nil
}

// plainSpan is the extent of a plain scalar, which may continue on deeper
// lines in block context.
func (t *text) plainSpan(n *yaml.Node, off int, inFlow bool, indent int) (span, error) {
	l := t.lineOf(off)
	lineEnd := t.lineEnd(l)
	end := off
	for end < lineEnd {
		c := t.data[end]
		if c == '#' && end > off && isSpace(t.data[end-1]) {
			break
		}
		if inFlow && (c == ',' || c == ']' || c == '}') {
			break
		}
		if c == ':' && (end+1 >= lineEnd || isSpace(t.data[end+1]) || (inFlow && strings.IndexByte(",[]{}", t.data[end+1]) >= 0)) {
			break
		}
		end++
	}
	for end > off && (t.data[end-1] == ' ' || t.data[end-1] == '\t') {
		end--
	}
	if string(t.data[off:end]) == n.Value {
		return span{off, end}, nil
	}
	if inFlow {
		return span{}, &errUnclean{n.Line, "a value that spans lines in a flow collection"}
	}
	// Multi-line plain scalar: take deeper lines until the folded text is
	// the value.
	parts := []string{strings.TrimSpace(string(t.data[off:end]))}
	for m := l + 1; m <= t.lines() && m < l+1000; m++ {
		s := strings.TrimSpace(t.line(m))
		if s != "" && (t.indent(m) <= indent || strings.HasPrefix(s, "#")) {
			break
		}
		parts = append(parts, s)
		if foldPlain(parts) == n.Value {
			endOff := t.lineEnd(m)
			if i := strings.Index(t.line(m), " #"); i >= 0 {
				endOff = t.lineStart(m) + i
			}
			for endOff > off && (t.data[endOff-1] == ' ' || t.data[endOff-1] == '\t') {
				endOff--
			}
			return span{off, endOff}, nil
		}
	}
	return span{}, &errUnclean{n.Line, "cannot find the end of the value"}
}

// foldPlain folds the lines of a multi-line plain scalar as YAML does.
func foldPlain(parts []string) string {
	var b strings.Builder
	empties := 0
	for i, p := range parts {
		if p == "" {
			empties++
			continue
		}
		if i > 0 && b.Len() > 0 {
			if empties > 0 {
				b.WriteString(strings.Repeat("\n", empties))
			} else {
				b.WriteByte(' ')
			}
		}
		empties = 0
		b.WriteString(p)
	}
	return b.String()
}
