package cli

import (
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

func TestUnifiedDiffFormat(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
	b := "a\nb\nc\nd\nE\nf\ng\nh\ni\nj\nk\n"
	want := `--- a/x
+++ b/x
@@ -2,9 +2,10 @@
 b
 c
 d
-e
+E
 f
 g
 h
 i
 j
+k
`
	if got := unifiedDiff([]byte(a), []byte(b), "x", false); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// Far apart changes make two hunks; a missing final newline is marked.
	a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12"
	b = "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13"
	want = `--- a/x
+++ b/x
@@ -1,3 +1,4 @@
+0
 1
 2
 3
@@ -9,4 +10,5 @@
 9
 10
 11
-12
\ No newline at end of file
+12
+13
\ No newline at end of file
`
	if got := unifiedDiff([]byte(a), []byte(b), "x", false); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if unifiedDiff([]byte(a), []byte(a), "x", false) != "" {
		t.Errorf("equal texts give a diff")
	}
	if got := unifiedDiff([]byte("a\n"), []byte("b\n"), "x", true); !strings.Contains(got, "\x1b[") {
		t.Errorf("no colour: %q", got)
	}
}

// applyUnified applies a diff made by unifiedDiff to a (lines only).
func applyUnified(t *testing.T, a []string, diff string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(diff, "\n"), "\n")
	var out []string
	pos := 0 // next line of a to copy
	for i := 2; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "@@") {
			f := strings.Fields(l)
			start, _ := strconv.Atoi(strings.Split(strings.TrimPrefix(f[1], "-"), ",")[0])
			n := 1
			if p := strings.Split(f[1], ","); len(p) == 2 {
				n, _ = strconv.Atoi(p[1])
			}
			if n == 0 {
				start++ // insertion after line start
			}
			for pos < start-1 {
				out = append(out, a[pos])
				pos++
			}
			continue
		}
		switch {
		case strings.HasPrefix(l, `\`):
		case strings.HasPrefix(l, " "):
			if a[pos] != l[1:] {
				t.Fatalf("context %q does not match %q", l[1:], a[pos])
			}
			out = append(out, a[pos])
			pos++
		case strings.HasPrefix(l, "-"):
			if a[pos] != l[1:] {
				t.Fatalf("deleted %q does not match %q", l[1:], a[pos])
			}
			pos++
		case strings.HasPrefix(l, "+"):
			out = append(out, l[1:])
		}
	}
	return append(out, a[pos:]...)
}

func TestUnifiedDiffApplies(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for iter := 0; iter < 300; iter++ {
		var a []string
		for i := 0; i < rng.Intn(30); i++ {
			a = append(a, fmt.Sprint(rng.Intn(6)))
		}
		b := append([]string(nil), a...)
		for e := 0; e < rng.Intn(5); e++ {
			switch p := rng.Intn(len(b) + 1); rng.Intn(3) {
			case 0:
				b = append(b[:p], append([]string{"new" + fmt.Sprint(e)}, b[p:]...)...)
			case 1:
				if p < len(b) {
					b = append(b[:p], b[p+1:]...)
				}
			case 2:
				if p < len(b) {
					b[p] = "changed"
				}
			}
		}
		join := func(l []string) []byte {
			if len(l) == 0 {
				return nil
			}
			return []byte(strings.Join(l, "\n") + "\n")
		}
		d := unifiedDiff(join(a), join(b), "x", false)
		got := applyUnified(t, a, d)
		if strings.Join(got, "\n") != strings.Join(b, "\n") {
			t.Fatalf("a=%q b=%q\n%s\ngot %q", a, b, d, got)
		}
	}
}
