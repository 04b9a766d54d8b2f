package recipients

import (
	"regexp"
	"testing"
)

// TestPathFilterNeverRejectsAMatch: the literal filter only ever skips
// paths the regex does not match.
func TestPathFilterNeverRejectsAMatch(t *testing.T) {
	exprs := []string{
		`^secrets/`, `secrets/`, `\.enc\.yaml$`, `^hosts/web1/.*\.yaml$`, `(?i)^SECRETS/`, `^a|^b`,
		`^(prod|staging)/db\.yaml$`, `(?:hosts/a|hosts/b)`, `x*`, ``, `^$`, `(?m)^secrets/`, `^sec(rets)?/`,
		`.*`, `^\Qa.b\E/`, `[ab]c/`, `^hosts/web[0-9]+/`,
	}
	paths := []string{"secrets/db.yaml", "SECRETS/db.yaml", "a/secrets/x", "hosts/web1/x.yaml", "hosts/web12/y",
		"prod/db.yaml", "staging/db.yaml", "hosts/a", "hosts/b", "", "a", "b", "sec/", "a.b/c", "bc/", "x.enc.yaml",
		"/abs/outside/secrets/db.yaml"}
	for _, e := range exprs {
		re := regexp.MustCompile(e)
		f := newPathFilter(e)
		for _, p := range paths {
			if re.MatchString(p) && !f.mayMatch(p) {
				t.Errorf("%q matches %q, but the filter %+v rejects it", e, p, f)
			}
		}
	}
	if f := newPathFilter(`^hosts/web1/.*\.yaml$`); f.lit != "hosts/web1/" || !f.prefix {
		t.Errorf("anchored filter %+v, want prefix hosts/web1/", f)
	}
}
