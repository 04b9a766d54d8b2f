package recipients

import (
	"fmt"
	"strings"
	"testing"
)

// manyRulesConfig is a .sops.yaml with n creation rules, one folder each.
func manyRulesConfig(n int) string {
	var b strings.Builder
	b.WriteString("creation_rules:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - path_regex: ^hosts/host%05d/.*\\.yaml$\n    age: age1ntdr2awjrfvm9jsfmrzedh2dy3qg7lrecutz2t4mr0numz3rrdus6nzjt4\n", i)
	}
	return b.String()
}

// BenchmarkRuleFor4000Rules1000Files chooses the rule of 1,000 files among
// 4,000 creation rules (issue 8: well under 2 s), the files spread over the
// whole list so that the average file tries 2,000 regexes. Each regex is
// compiled once, when the config is parsed.
func BenchmarkRuleFor4000Rules1000Files(b *testing.B) {
	cfg, err := ParseConfig("/repo/.sops.yaml", []byte(manyRulesConfig(4000)))
	if err != nil {
		b.Fatal(err)
	}
	files := make([]string, 1000)
	for i := range files {
		files[i] = fmt.Sprintf("/repo/hosts/host%05d/secret.yaml", i*4)
	}
	b.ResetTimer()
	for b.Loop() {
		for i, f := range files {
			r, err := cfg.RuleFor(f)
			if err != nil || r.Index != i*4 {
				b.Fatalf("%s: rule %v, %v", f, r, err)
			}
		}
	}
}
