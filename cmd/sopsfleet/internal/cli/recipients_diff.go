package cli

import (
	"fmt"
	"strings"
)

// unifiedDiff returns a unified diff (3 lines of context) turning a into b,
// with "--- a/NAME" / "+++ b/NAME" headers, or "" when they are equal. With
// color, removed lines are red, added lines green and hunk headers blue.
func unifiedDiff(a, b []byte, name string, color bool) string {
	if string(a) == string(b) {
		return ""
	}
	la, lb := diffLines(a), diffLines(b)
	ops := myers(la, lb)
	st := styles(color)
	var out strings.Builder
	out.WriteString(st.Header.Render("--- a/"+name) + "\n")
	out.WriteString(st.Header.Render("+++ b/"+name) + "\n")
	const context = 3
	// Group edits into hunks with their context.
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-context, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*context {
				end = min(end+context, len(ops))
				break
			}
			end = run
		}
		aStart, aLen, bStart, bLen := 0, 0, 0, 0
		for j := start; j < end; j++ {
			op := ops[j]
			if op.kind != '+' {
				if aLen == 0 {
					aStart = op.ai + 1
				}
				aLen++
			}
			if op.kind != '-' {
				if bLen == 0 {
					bStart = op.bi + 1
				}
				bLen++
			}
		}
		if aLen == 0 {
			aStart = ops[start].ai // insertion: the line before
		}
		if bLen == 0 {
			bStart = ops[start].bi
		}
		out.WriteString(st.Header.Render(fmt.Sprintf("@@ -%s +%s @@", hunkRange(aStart, aLen), hunkRange(bStart, bLen))) + "\n")
		for j := start; j < end; j++ {
			op := ops[j]
			var l diffLine
			if op.kind == '+' {
				l = lb[op.bi]
			} else {
				l = la[op.ai]
			}
			text := string(op.kind) + l.text
			switch op.kind {
			case '-':
				text = st.Removed.Render(text)
			case '+':
				text = st.Added.Render(text)
			}
			out.WriteString(text + "\n")
			if !l.newline {
				out.WriteString("\\ No newline at end of file\n")
			}
		}
		i = end
	}
	return out.String()
}

func hunkRange(start, n int) string {
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// diffLine is one line without its ending; newline is false for a last
// line without one.
type diffLine struct {
	text    string
	newline bool
}

func diffLines(b []byte) []diffLine {
	var out []diffLine
	s := string(b)
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, diffLine{s, false})
			break
		}
		out = append(out, diffLine{strings.TrimSuffix(s[:i], "\r"), true})
		s = s[i+1:]
	}
	return out
}

// diffOp is one line of an edit script: ' ' keep, '-' delete, '+' insert;
// ai and bi are the line indexes in a and b.
type diffOp struct {
	kind   byte
	ai, bi int
}

// myers computes a shortest edit script between a and b (Myers' O(ND)
// algorithm); lines are equal when their text and ending are.
func myers(a, b []diffLine) []diffOp {
	n, m := len(a), len(b)
	maxD := n + m
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int
	for d := 0; d <= maxD; d++ {
		snapshot := make([]int, len(v))
		copy(snapshot, v)
		trace = append(trace, snapshot)
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(trace, v, a, b, d, off)
			}
		}
	}
	return nil
}

func backtrack(trace [][]int, last []int, a, b []diffLine, d, off int) []diffOp {
	x, y := len(a), len(b)
	var ops []diffOp
	for ; d > 0; d-- {
		v := trace[d]
		k := x - y
		var prevK int
		if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := v[off+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			ops = append(ops, diffOp{' ', x, y})
		}
		if x == prevX {
			y--
			ops = append(ops, diffOp{'+', x, y})
		} else {
			x--
			ops = append(ops, diffOp{'-', x, y})
		}
	}
	for x > 0 && y > 0 {
		x--
		y--
		ops = append(ops, diffOp{' ', x, y})
	}
	for i, j := 0, len(ops)-1; i < j; i, j = i+1, j-1 {
		ops[i], ops[j] = ops[j], ops[i]
	}
	return ops
}
