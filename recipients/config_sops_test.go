package recipients

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sopsconfig "github.com/getsops/sops/v3/config"
)

// probePaths are file paths (relative to the config's folder) every fixture
// is resolved for, by sops and by us.
var probePaths = []string{
	"a.yaml", "x/secret.yaml", "y/secret.yaml", "prod/db.yaml", "prod/db.json",
	"dev/app.yaml", "common/a.yaml", "team/b.yaml", "solo/c.yaml",
	"secrets/s.yaml", "other/o.yaml", "a/1.yaml", "b/2.yaml", "c/3.yaml",
	"d/4.yaml", "plain/p.yaml", "spaced/s.yaml", "double/d.yaml",
	"single/s.yaml", "folded/f.yaml", "pgp/p.yaml", "trailing/t.yaml",
	"vault/v.yaml", "admin/a.yaml", "hosts/web/h.yaml", "hosts/db/h.yaml",
	"hosts/x.yaml", "k8s/deploy.yaml", "groups/g.yaml", "aws/a.yaml",
	"gcp/g.yaml", "azure/a.yaml", "hc/h.yaml", "web/w.yaml", "bad/b.yaml",
	"ok/o.yaml", "deep/nested/dir/file.env", "z",
}

// fixtureFiles lists every .sops.yaml fixture.
func fixtureFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "config", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	return files
}

// TestResolutionMatchesSops compares our resolution with sops' own
// config.LoadCreationRuleForFile for every fixture and probe path.
func TestResolutionMatchesSops(t *testing.T) {
	for _, f := range fixtureFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			compareWithSops(t, data, probePaths)
		})
	}
}

// compareWithSops writes data as .sops.yaml in a temporary folder and checks
// that, for each path, our rule and groups are the ones sops builds.
func compareWithSops(t *testing.T, data []byte, paths []string) {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, ".sops.yaml")
	if err := os.WriteFile(conf, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ours, ourErr := ParseConfig(conf, data)
	for _, p := range paths {
		abs := filepath.Join(dir, p)
		want, sopsErr := sopsconfig.LoadCreationRuleForFile(conf, abs, nil)
		if ourErr != nil {
			if sopsErr == nil && want != nil {
				t.Errorf("%s: we fail to parse (%v) but sops loads it", p, ourErr)
			}
			continue
		}
		rule, err := ours.RuleFor(abs)
		if sopsErr != nil {
			if err == nil && !ruleHasErr(rule) {
				t.Errorf("%s: sops fails (%v) but we resolve rule %d without error", p, sopsErr, rule.Index)
			}
			continue
		}
		if want == nil {
			if !errors.Is(err, ErrNoRule) || ours.HasCreationRules() {
				t.Errorf("%s: sops has no creation rules, we got rule %v, err %v", p, rule, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: sops resolves, we fail: %v", p, err)
			continue
		}
		if ruleHasErr(rule) {
			t.Errorf("%s: sops resolves, our rule %d has an error: %v", p, rule.Index, firstErr(rule))
			continue
		}
		if rule.ShamirThreshold != want.ShamirThreshold {
			t.Errorf("%s: shamir %d, sops %d", p, rule.ShamirThreshold, want.ShamirThreshold)
		}
		if rule.EncryptedRegex != want.EncryptedRegex || rule.UnencryptedSuffix != want.UnencryptedSuffix ||
			rule.EncryptedSuffix != want.EncryptedSuffix || rule.UnencryptedRegex != want.UnencryptedRegex ||
			rule.MACOnlyEncrypted != want.MACOnlyEncrypted {
			t.Errorf("%s: encryption settings differ from sops", p)
		}
		if len(rule.Groups) != len(want.KeyGroups) {
			t.Errorf("%s: %d groups, sops %d", p, len(rule.Groups), len(want.KeyGroups))
			continue
		}
		for gi, g := range want.KeyGroups {
			var sopsKeys, ourKeys []string
			for _, k := range g {
				sopsKeys = append(sopsKeys, k.TypeToIdentifier()+":"+k.ToString())
			}
			for _, m := range rule.Groups[gi].Members {
				ourKeys = append(ourKeys, m.Key.String())
			}
			if strings.Join(sopsKeys, "\n") != strings.Join(ourKeys, "\n") {
				t.Errorf("%s: group %d:\n ours %q\n sops %q", p, gi, ourKeys, sopsKeys)
			}
		}
	}
}

func ruleHasErr(r *Rule) bool { return firstErr(r) != nil }

func firstErr(r *Rule) error {
	if r.RegexErr != nil {
		return r.RegexErr
	}
	if r.SettingsErr != nil {
		return r.SettingsErr
	}
	for _, g := range r.Groups {
		for _, list := range [][]Member{g.Members, g.Duplicates} {
			for _, m := range list {
				if m.Err != nil {
					return m.Err
				}
			}
		}
	}
	return nil
}
