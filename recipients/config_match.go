package recipients

import (
	"regexp/syntax"
	"strings"
)

// pathFilter is a literal that every path a path_regex matches contains
// (as a prefix when the regex is anchored with ^): checking it first spares
// running the regex on most paths when a config has thousands of rules.
type pathFilter struct {
	lit    string
	prefix bool
}

// newPathFilter derives the filter of a valid path_regex; the zero filter
// (no literal) lets every path through to the regex.
func newPathFilter(expr string) pathFilter {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return pathFilter{}
	}
	re = re.Simplify()
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	literal := func(s *syntax.Regexp) string {
		if s.Op == syntax.OpLiteral && s.Flags&syntax.FoldCase == 0 {
			return string(s.Rune)
		}
		return ""
	}
	if len(subs) > 1 && subs[0].Op == syntax.OpBeginText {
		if lit := literal(subs[1]); lit != "" {
			return pathFilter{lit: lit, prefix: true}
		}
	}
	var f pathFilter
	for _, s := range subs {
		if lit := literal(s); len(lit) > len(f.lit) {
			f.lit = lit
		}
	}
	return f
}

// mayMatch reports whether the regex can match path: false only when the
// literal is missing.
func (f pathFilter) mayMatch(path string) bool {
	switch {
	case f.lit == "":
		return true
	case f.prefix:
		return strings.HasPrefix(path, f.lit)
	}
	return strings.Contains(path, f.lit)
}
