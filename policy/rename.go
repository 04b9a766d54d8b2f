package policy

import (
	"bytes"
	"sort"
	"strings"
	"unicode/utf8"
)

// Rename returns the policy text with every reference to the .sops.yaml
// name old (in groups, require, forbid) changed to new, and nothing else
// changed: only the bytes of each occurrence. It returns the text as it is
// and 0 when no reference names old. References to a policy group, and
// keys written as such, are left alone.
func (p *Policy) Rename(old, new string) ([]byte, int) {
	var refs []Ref
	for _, g := range p.Groups {
		refs = append(refs, g.Members...)
	}
	for _, r := range p.Rules {
		refs = append(refs, r.RequireAll...)
		refs = append(refs, r.RequireAny...)
		refs = append(refs, r.Forbid...)
	}
	type span struct{ start, end int }
	var spans []span
	lines := lineStarts(p.data)
	for _, ref := range refs {
		if ref.Group != nil || ref.Literal || ref.Text != old || ref.node == nil {
			continue
		}
		n := ref.node
		if n.Line < 1 || n.Line > len(lines) {
			continue
		}
		// yaml.v3 columns count characters from 1.
		off := lines[n.Line-1]
		for i := 1; i < n.Column && off < len(p.data); i++ {
			_, size := utf8.DecodeRune(p.data[off:])
			off += size
		}
		if off < len(p.data) && (p.data[off] == '"' || p.data[off] == '\'') {
			off++
		}
		if !bytes.HasPrefix(p.data[off:], []byte(old)) {
			continue // written with escapes: not renamed in place
		}
		spans = append(spans, span{off, off + len(old)})
	}
	if len(spans) == 0 {
		return p.data, 0
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var b strings.Builder
	last := 0
	n := 0
	for _, s := range spans {
		if s.start < last {
			continue
		}
		b.Write(p.data[last:s.start])
		b.WriteString(new)
		last = s.end
		n++
	}
	b.Write(p.data[last:])
	return []byte(b.String()), n
}

func lineStarts(data []byte) []int {
	out := []int{0}
	for i, c := range data {
		if c == '\n' {
			out = append(out, i+1)
		}
	}
	return out
}
