package audit

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/sopsfleet/sopsfleet/policy"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// CheckPolicy applies a policy (.sopsfleet.yaml) twice: to each creation
// rule of the scanned .sops.yaml, judged through the files it governs (or a
// sample path of its path_regex), reported at the rule's line of
// configPath (the config's display path); and to every encrypted file as
// it is, reported at the file. Codes: policy-require, policy-forbid,
// policy-separate, policy-type, policy-max.
func CheckPolicy(res *ScanResult, pol *policy.Policy, configPath string) []Finding {
	cfg := res.Config
	var rels []string
	for _, r := range res.Files {
		if r.Err == nil {
			rels = append(rels, relTo(cfg, r.Abs))
		}
	}
	var out []Finding
	for _, v := range pol.CheckConfig(cfg, rels) {
		n := v.CreationRule.Index + 1
		through := "for " + v.Through
		if v.Sample {
			through = fmt.Sprintf("judged through the sample path %q", v.Through)
		}
		out = append(out, Finding{
			Severity: SeverityError, Code: Code(v.Code), File: configPath, Line: v.CreationRule.Line,
			Message: fmt.Sprintf("creation rule %d (%s): %s", n, through, v.Message),
			Hint:    configPolicyHint(v.Violation, n, pol, cfg),
		})
	}
	for _, r := range res.Files {
		if r.File == nil {
			continue
		}
		var keys []recipients.Key
		for _, g := range r.File.Groups {
			for _, s := range g {
				if s.Key.ID != "" {
					keys = append(keys, s.Key)
				}
			}
		}
		for _, v := range pol.CheckKeys(relTo(cfg, r.Abs), keys) {
			update := "sopsfleet updatekeys --rotate " + shellQuote(r.Path)
			if v.Code == policy.CodeRequire {
				update = "sopsfleet updatekeys " + shellQuote(r.Path)
			}
			out = append(out, Finding{
				Severity: SeverityError, Code: Code(v.Code), File: r.Path, Line: r.File.MetadataLine,
				Message: v.Message,
				Hint:    "re-encrypt it to its rule's recipients: " + update + " (if the rule breaks the policy too, fix .sops.yaml first)",
			})
		}
	}
	return out
}

func configPolicyHint(v policy.Violation, rule int, pol *policy.Policy, cfg *recipients.Config) string {
	at := fmt.Sprintf("%s:%d", pol.Path, v.Line)
	names := make([]string, 0, len(v.Keys))
	for _, k := range v.Keys {
		names = append(names, DisplayName(cfg, k))
	}
	who := strings.Join(names, ", ")
	switch v.Code {
	case policy.CodeRequire:
		if strings.Contains(v.Message, "(require any_of)") && len(names) > 1 {
			who = "one of " + who
		}
		return fmt.Sprintf("add %s to creation rule %d of .sops.yaml, or change %s", who, rule, at)
	case policy.CodeMax:
		return fmt.Sprintf("remove recipients from creation rule %d, or change %s", rule, at)
	default:
		return fmt.Sprintf("remove %s from creation rule %d (then sopsfleet updatekeys --rotate), or change %s", who, rule, at)
	}
}

// relTo is abs relative to the folder of cfg, with forward slashes, as
// path_regex and policy paths see it.
func relTo(cfg *recipients.Config, abs string) string {
	if rel, err := filepath.Rel(cfg.Dir, abs); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(abs)
}
