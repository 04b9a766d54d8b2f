package cli

import (
	"errors"
	"io/fs"
	"os"

	"github.com/sopsfleet/sopsfleet/audit"
	"github.com/sopsfleet/sopsfleet/policy"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// loadPolicy reads the policy for cfg: file (--policy) when given, which
// must exist, else .sopsfleet.yaml next to the config when there is one.
// It returns nil without a policy. An unreadable or invalid policy is a
// usage error naming file:line.
func loadPolicy(cfg *recipients.Config, file string) (*policy.Policy, error) {
	path := policyFile(cfg, file)
	cwd, _ := os.Getwd()
	shown := displayPath(cwd, absOr(path))
	pol, err := policy.Load(path, shown, cfg)
	switch {
	case err == nil:
		return pol, nil
	case errors.Is(err, fs.ErrNotExist) && file == "":
		return nil, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, usageErrorf("cannot read the policy %q: no such file", file)
	}
	return nil, usageErr(err)
}

// policyFile is the policy check reads: file (--policy), else
// .sopsfleet.yaml next to the config.
func policyFile(cfg *recipients.Config, file string) string {
	if file != "" {
		return file
	}
	return policy.Path(cfg)
}

// policyFindings applies the policies to a scan: pol (found beside the
// working directory's config, or --policy when explicit) to every file when
// there is one config or a policy was named; otherwise each config met gets
// the .sopsfleet.yaml beside it, applied to its own rules and to the files
// it governs, with paths relative to its folder. A nested policy that
// cannot be read is a usage error, as the first one is.
func policyFindings(res *audit.ScanResult, pol *policy.Policy, shown string, explicit bool) ([]audit.Finding, error) {
	if explicit || len(res.Configs) <= 1 {
		if pol == nil {
			return nil, nil
		}
		return audit.CheckPolicy(res, pol, shown), nil
	}
	var out []audit.Finding
	for _, c := range res.Configs {
		p := pol
		if c.Config != res.Config {
			var err error
			if p, err = loadPolicy(c.Config, ""); err != nil {
				return nil, err
			}
		}
		if p == nil {
			continue
		}
		sub := *res
		sub.Config = c.Config
		sub.Files = nil
		for _, r := range res.Files {
			if r.Config == c.Config {
				sub.Files = append(sub.Files, r)
			}
		}
		out = append(out, audit.CheckPolicy(&sub, p, c.Path)...)
	}
	return out, nil
}
