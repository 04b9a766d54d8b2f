package recipients

import (
	"fmt"
	"strings"
)

// A recipient's own rule: in a repository that gives every host its own
// creation rule ("hosts/web1/…" readable by the admins and web1), the rule
// of web1 is the one rule whose path_regex contains "web1" as a whole token
// (web1 does not match web10 or web1-db) and whose key groups hold web1's
// key. [Config.OwnRule] finds it; add --own-rule copies it, add --like
// leaves it alone, remove --drop-own-rule deletes it, and verify --keyscan
// takes a recipient with an own rule for a host.

// ContainsToken reports whether s contains name as a whole token: not
// preceded or followed by a letter, digit, '_' or '-'. A letter that is
// part of a regexp escape before it ("\bweb1") does not count.
func ContainsToken(s, name string) bool {
	return len(tokenIndexes(s, name)) > 0
}

// tokenIndexes returns the offsets of name as a whole token in s.
func tokenIndexes(s, name string) []int {
	if name == "" {
		return nil
	}
	var out []int
	for from := 0; from <= len(s)-len(name); {
		i := strings.Index(s[from:], name)
		if i < 0 {
			break
		}
		i += from
		end := i + len(name)
		before := i == 0 || !isTokenChar(s[i-1]) || (i >= 2 && s[i-2] == '\\' && (i < 3 || s[i-3] != '\\'))
		after := end == len(s) || !isTokenChar(s[end])
		if before && after {
			out = append(out, i)
		}
		from = i + 1
	}
	return out
}

func isTokenChar(b byte) bool {
	return b == '_' || b == '-' || (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')
}

// replaceToken replaces every whole-token occurrence of name in s.
func replaceToken(s, name, with string) string {
	idx := tokenIndexes(s, name)
	if len(idx) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, i := range idx {
		b.WriteString(s[last:i])
		b.WriteString(with)
		last = i + len(name)
	}
	b.WriteString(s[last:])
	return b.String()
}

// OwnRules returns the rules that are name's own: their path_regex holds
// name as a whole token and one of their key groups holds k.
func (c *Config) OwnRules(name string, k Key) []*Rule {
	var out []*Rule
	for _, r := range c.Rules {
		if !r.HasPathRegex || !ContainsToken(r.PathRegex, name) {
			continue
		}
		for _, g := range r.Groups {
			if hasKey(g.Members, k) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// OwnRule returns name's own rule (see [Config.OwnRules]), nil when it has
// none, and an error listing them when it has several.
func (c *Config) OwnRule(name string) (*Rule, error) {
	k, err := c.Lookup(name)
	if err != nil {
		return nil, err
	}
	rs := c.OwnRules(name, k)
	switch len(rs) {
	case 0:
		return nil, nil
	case 1:
		return rs[0], nil
	}
	var parts []string
	for _, r := range rs {
		parts = append(parts, RuleLabel(c, r))
	}
	return nil, fmt.Errorf("%s: %d creation rules could be %s's own (their path_regex names it and their keys include it): %s", c.Path, len(rs), name, strings.Join(parts, ", "))
}

// RuleLabel names a rule for messages: "rule 2 (hosts/web1/) at line 7".
func RuleLabel(c *Config, r *Rule) string {
	s := fmt.Sprintf("rule %d", r.Index+1)
	if r.HasPathRegex {
		s += fmt.Sprintf(" (%s)", r.PathRegex)
	}
	return s + fmt.Sprintf(" at line %d", r.Line)
}
