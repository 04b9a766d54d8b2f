// Package textedit applies byte-range replacements to a text: the one
// mechanism behind every in-place edit sopsfleet makes, to .sops.yaml
// (recipients) and to encrypted files' metadata (sopsfile).
package textedit

import (
	"errors"
	"sort"
	"strings"
)

// ErrOverlap reports edits whose ranges overlap or fall outside the text.
var ErrOverlap = errors.New("internal error: overlapping edits")

// Edit replaces Data[Start:End] with Text; Start == End inserts.
type Edit struct {
	Start, End int
	Text       string
}

// Apply returns data with the edits applied. The edits may come in any
// order; an insertion at an offset goes before a replacement that starts
// there, and insertions at the same offset keep their order. Overlapping
// edits are an error and data is not changed.
func Apply(data []byte, edits []Edit) ([]byte, error) {
	sort.SliceStable(edits, func(i, j int) bool {
		if edits[i].Start != edits[j].Start {
			return edits[i].Start < edits[j].Start
		}
		return edits[i].End < edits[j].End
	})
	var b strings.Builder
	grow := len(data)
	for _, e := range edits {
		grow += len(e.Text)
	}
	b.Grow(grow)
	last := 0
	for _, e := range edits {
		if e.Start < last || e.End < e.Start || e.End > len(data) {
			return nil, ErrOverlap
		}
		b.Write(data[last:e.Start])
		b.WriteString(e.Text)
		last = e.End
	}
	b.Write(data[last:])
	return []byte(b.String()), nil
}
