package cli

import (
	"errors"
	"io/fs"
	"os"

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
