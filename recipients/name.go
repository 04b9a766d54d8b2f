package recipients

import (
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Names: a recipient is named by its anchor (`- &shinji age1…` or the alias
// `- *shinji`), else by a trailing comment on the line of its value
// (`- age1… # shinji`), else it has no name. A value that holds several
// comma-separated keys is named by a comment listing one name per key
// (`age: age1…,age1… # shinji, asuka`), else not at all.

// memberName returns the name of the value at src.
func memberName(src *source) string {
	if n := countEntries(src.val.Value); src.piece >= 0 && n != 1 {
		if src.item.Kind == yaml.AliasNode || src.val.Anchor != "" || src.val.Kind != yaml.ScalarNode {
			return ""
		}
		// "age: a,b # alice, bob" names each entry.
		names := strings.Split(commentName(src.item.LineComment), ",")
		if len(names) != n {
			return ""
		}
		idx := 0
		for j, p := range strings.Split(src.val.Value, ",") {
			if j == src.piece {
				break
			}
			if strings.TrimSpace(p) != "" {
				idx++
			}
		}
		if strings.TrimSpace(strings.Split(src.val.Value, ",")[src.piece]) == "" {
			return ""
		}
		return strings.TrimSpace(names[idx])
	}
	if src.item.Kind == yaml.AliasNode {
		return src.item.Value
	}
	if src.val.Anchor != "" {
		return src.val.Anchor
	}
	if src.val.Kind == yaml.MappingNode && len(src.val.Content) >= 2 && src.val.Content[1].Kind == yaml.ScalarNode {
		// "- arn: arn:aws:kms:… # ops" (kms, gcp_kms, azure_keyvault,
		// hckms objects): the comment on the first field's line.
		return commentName(src.val.Content[1].LineComment)
	}
	if src.val.Kind != yaml.ScalarNode {
		return ""
	}
	return commentName(src.item.LineComment)
}

// countEntries counts the non-empty comma-separated entries of s.
func countEntries(s string) int {
	n := 0
	for _, p := range strings.Split(s, ",") {
		if strings.TrimSpace(p) != "" {
			n++
		}
	}
	return n
}

// commentName turns "# shinji" into "shinji".
func commentName(c string) string {
	if c == "" || strings.Contains(c, "\n") {
		return ""
	}
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c), "#"))
}

// nameRe is what a new recipient name may be: yaml.v3 accepts only
// [A-Za-z0-9_-] in anchor names.
var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// ValidName reports whether name can name a recipient (it becomes a YAML
// anchor): ASCII letters, digits, '_' and '-', starting with a letter or digit.
// An age secret key is never a valid name (it would be written into the
// file).
func ValidName(name string) bool {
	return nameRe.MatchString(name) && len(name) <= 128 && !LooksSecret(name)
}

// LooksSecret reports whether s holds what looks like private key material:
// an age secret key ("AGE-SECRET-KEY-1…"), an age plugin identity
// ("AGE-PLUGIN-…-1…") or a PEM/OpenSSH private key. Such input is refused
// and never repeated in a message.
func LooksSecret(s string) bool {
	u := strings.ToUpper(s)
	return strings.Contains(u, "AGE-SECRET-KEY-") || strings.Contains(u, "AGE-PLUGIN-") || strings.Contains(u, "PRIVATE KEY")
}

// QuoteInput quotes user input for a message (%q), except input that
// [LooksSecret], which is described instead of repeated.
func QuoteInput(s string) string {
	if LooksSecret(s) {
		return "(a secret key, not repeated here)"
	}
	return strconv.Quote(s)
}

// EditDistance is the Levenshtein distance between a and b, counted in
// runes: the number of single-character insertions, deletions and
// substitutions that turn one into the other. "Did you mean" suggestions
// (unknown recipient names, lint's misspelled keys) use it.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}
