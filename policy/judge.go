package policy

import (
	"fmt"
	"regexp/syntax"
	"strings"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// Violation is one broken constraint of the policy.
type Violation struct {
	// Code is CodeRequire, CodeForbid, CodeSeparate, CodeType or CodeMax.
	Code string
	Rule *Rule
	// Line is the policy line of the constraint broken.
	Line int
	// Message names the policy line and what is wrong (no secret values).
	Message string
	// Keys are the recipients concerned: missing (require), present
	// (forbid, separate, types); nil for max_recipients.
	Keys []recipients.Key
}

// TypeName is the type of k as `sopsfleet recipients list` and the types
// rule name it: age, age-plugin (age1NAME1…), age-pq (age1pq1…), ssh, pgp,
// kms, gcp_kms, azure_kv, hc_vault, hckms.
func TypeName(k recipients.Key) string {
	if k.Type == recipients.TypeAge {
		switch {
		case strings.HasPrefix(k.ID, "ssh-"):
			return "ssh"
		case strings.HasPrefix(k.ID, "age1pq1"):
			return "age-pq"
		case strings.LastIndexByte(k.ID, '1') > 3:
			// the human-readable part is "age1NAME": a '1' in the data
			// part is impossible (bech32)
			return "age-plugin"
		}
	}
	return string(k.Type)
}

// CheckKeys judges the recipients of the file at rel (relative to the
// folder of .sops.yaml, forward slashes) against every rule whose paths
// match it.
func (p *Policy) CheckKeys(rel string, keys []recipients.Key) []Violation {
	keys = distinct(keys)
	var out []Violation
	for _, r := range p.Rules {
		if !r.Applies(rel) {
			continue
		}
		out = append(out, p.judge(r, keys)...)
	}
	return out
}

func (p *Policy) at(line int) string { return fmt.Sprintf("%s:%d", p.Path, line) }

func (p *Policy) judge(r *Rule, keys []recipients.Key) []Violation {
	var out []Violation
	has := func(want recipients.Key) bool {
		for _, k := range keys {
			if matches(k, want) {
				return true
			}
		}
		return false
	}
	if len(r.RequireAll) > 0 {
		var missing []string
		var mk []recipients.Key
		for _, ref := range r.RequireAll {
			var lack []recipients.Key
			for _, k := range ref.Keys {
				if !has(k) {
					lack = append(lack, k)
				}
			}
			if len(lack) == 0 {
				continue
			}
			mk = append(mk, lack...)
			if ref.Group != nil {
				missing = append(missing, fmt.Sprintf("group %s (missing %s)", ref.Text, p.names(lack)))
			} else {
				missing = append(missing, p.refName(ref))
			}
		}
		if len(missing) > 0 {
			out = append(out, Violation{Code: CodeRequire, Rule: r, Line: r.RequireLine, Keys: mk,
				Message: fmt.Sprintf("breaks %s (require all_of): %s not among the recipients", p.at(r.RequireLine), andList(missing))})
		}
	}
	if len(r.RequireAny) > 0 {
		found := false
		var all []recipients.Key
		var names []string
		for _, ref := range r.RequireAny {
			names = append(names, p.refName(ref))
			for _, k := range ref.Keys {
				all = append(all, k)
				if has(k) {
					found = true
				}
			}
		}
		if !found {
			what := "none of " + strings.Join(names, ", ") + " is"
			if len(names) == 1 {
				what = names[0] + " is not"
			}
			out = append(out, Violation{Code: CodeRequire, Rule: r, Line: r.RequireLine, Keys: all,
				Message: fmt.Sprintf("breaks %s (require any_of): %s among the recipients", p.at(r.RequireLine), what)})
		}
	}
	if len(r.Forbid) > 0 {
		var bad []string
		var bk []recipients.Key
		for _, ref := range r.Forbid {
			present := presentOf(keys, ref.Keys)
			if len(present) == 0 {
				continue
			}
			bk = append(bk, present...)
			if ref.Group != nil {
				bad = append(bad, fmt.Sprintf("%s (group %s)", p.names(present), ref.Text))
			} else {
				bad = append(bad, p.names(present))
			}
		}
		if len(bad) > 0 {
			out = append(out, Violation{Code: CodeForbid, Rule: r, Line: r.ForbidLine, Keys: distinct(bk),
				Message: fmt.Sprintf("breaks %s (forbid): encrypted to %s", p.at(r.ForbidLine), andList(bad))})
		}
	}
	if len(r.Separate) > 0 {
		var hit []string
		var hk []recipients.Key
		for _, ref := range r.Separate {
			present := presentOf(keys, ref.Keys)
			if len(present) > 0 {
				hit = append(hit, fmt.Sprintf("%s (%s)", ref.Text, p.names(present)))
				hk = append(hk, present...)
			}
		}
		if len(hit) >= 2 {
			out = append(out, Violation{Code: CodeSeparate, Rule: r, Line: r.SeparateLine, Keys: distinct(hk),
				Message: fmt.Sprintf("breaks %s (separate): encrypted to members of %s", p.at(r.SeparateLine), andList(hit))})
		}
	}
	if len(r.Types) > 0 {
		var bad []string
		var bk []recipients.Key
		for _, k := range keys {
			if t := TypeName(k); !contains(r.Types, t) {
				bad = append(bad, t+" recipient "+p.name(k))
				bk = append(bk, k)
			}
		}
		if len(bad) > 0 {
			out = append(out, Violation{Code: CodeType, Rule: r, Line: r.TypesLine, Keys: bk,
				Message: fmt.Sprintf("breaks %s (types: %s): %s not allowed", p.at(r.TypesLine), strings.Join(r.Types, ", "), andList(bad))})
		}
	}
	if r.MaxRecipients > 0 && len(keys) > r.MaxRecipients {
		out = append(out, Violation{Code: CodeMax, Rule: r, Line: r.MaxLine,
			Message: fmt.Sprintf("breaks %s (max_recipients: %d): %d recipients", p.at(r.MaxLine), r.MaxRecipients, len(keys))})
	}
	return out
}

// RuleViolation is a violation by a creation rule of .sops.yaml.
type RuleViolation struct {
	Violation
	// CreationRule is the rule of .sops.yaml that breaks the policy.
	CreationRule *recipients.Rule
	// Through is the path the rule was judged through: a file it governs,
	// or (Sample) a path built from its path_regex.
	Through string
	Sample  bool
}

// CheckConfig judges each creation rule of cfg (a .sops.yaml, perhaps an
// edited one not yet written) against the policy rules whose paths its
// files fall under: files are paths relative to the folder of cfg (forward
// slashes), each judged under the rule cfg gives it; a rule that governs
// none of them is judged through a sample path built from its path_regex.
// Each broken constraint is reported once per creation rule.
func (p *Policy) CheckConfig(cfg *recipients.Config, files []string) []RuleViolation {
	through := map[*recipients.Rule][]string{}
	for _, f := range files {
		if r, err := cfg.RuleForRel(f); err == nil && r != nil {
			through[r] = append(through[r], f)
		}
	}
	var out []RuleViolation
	for _, r := range cfg.Rules {
		paths := through[r]
		sample := false
		if len(paths) == 0 {
			if r.RegexErr != nil {
				continue
			}
			paths, sample = []string{SamplePath(r.PathRegex)}, true
		}
		var keys []recipients.Key
		for _, g := range r.Groups {
			for _, m := range g.Members {
				keys = append(keys, m.Key)
			}
		}
		seen := map[string]bool{}
		for _, path := range paths {
			for _, v := range p.CheckKeys(path, keys) {
				// the constraint: its line and kind ("…:7 (require any_of")
				id := v.Message
				if i := strings.Index(id, "):"); i >= 0 {
					id = id[:i]
				}
				if seen[id] {
					continue
				}
				seen[id] = true
				out = append(out, RuleViolation{Violation: v, CreationRule: r, Through: path, Sample: sample})
			}
		}
	}
	return out
}

// SamplePath builds a short path that regex (a path_regex) matches: the
// first branch of each alternation, the least repetitions, the first
// character of each class. "" for an empty or invalid regex.
func SamplePath(regex string) string {
	re, err := syntax.Parse(regex, syntax.Perl)
	if err != nil {
		return ""
	}
	var b strings.Builder
	var gen func(re *syntax.Regexp)
	gen = func(re *syntax.Regexp) {
		switch re.Op {
		case syntax.OpLiteral:
			b.WriteString(string(re.Rune))
		case syntax.OpCharClass:
			if len(re.Rune) > 0 {
				r := re.Rune[0]
				// prefer a letter when the class allows one
				for i := 0; i+1 < len(re.Rune); i += 2 {
					if re.Rune[i] <= 'a' && 'a' <= re.Rune[i+1] {
						r = 'a'
						break
					}
				}
				if r < ' ' || r == '/' {
					r = 'a'
				}
				b.WriteRune(r)
			}
		case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
			b.WriteByte('a')
		case syntax.OpCapture:
			gen(re.Sub[0])
		case syntax.OpConcat:
			for _, s := range re.Sub {
				gen(s)
			}
		case syntax.OpAlternate:
			gen(re.Sub[0])
		case syntax.OpPlus:
			gen(re.Sub[0])
		case syntax.OpRepeat:
			for i := 0; i < re.Min; i++ {
				gen(re.Sub[0])
			}
		}
	}
	gen(re.Simplify())
	return b.String()
}

// name is how messages show a key: the name .sops.yaml gives it, else a
// shortened key.
func (p *Policy) name(k recipients.Key) string {
	if p.cfg != nil {
		if n := p.cfg.NameOf(k); n != "" {
			return n
		}
	}
	id := k.ID
	if f := strings.Fields(id); len(f) >= 2 && strings.HasPrefix(id, "ssh-") && len(f[1]) > 12 {
		return f[0] + " …" + f[1][len(f[1])-8:]
	}
	if len(id) > 16 {
		id = id[:8] + "…" + id[len(id)-4:]
	}
	if k.Type == recipients.TypeAge {
		return id
	}
	return string(k.Type) + ":" + id
}

func (p *Policy) names(keys []recipients.Key) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = p.name(k)
	}
	return strings.Join(out, ", ")
}

func (p *Policy) refName(ref Ref) string {
	if ref.Literal && len(ref.Keys) == 1 {
		return p.name(ref.Keys[0])
	}
	return ref.Text
}

func andList(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func distinct(keys []recipients.Key) []recipients.Key {
	seen := map[recipients.Key]bool{}
	var out []recipients.Key
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// presentOf returns the recipients among keys that match one of want.
func presentOf(keys, want []recipients.Key) []recipients.Key {
	var out []recipients.Key
	for _, k := range keys {
		for _, w := range want {
			if matches(k, w) {
				out = append(out, k)
				break
			}
		}
	}
	return out
}
