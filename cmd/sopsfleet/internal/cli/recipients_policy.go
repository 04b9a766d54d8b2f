package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/policy"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// checkEditPolicy refuses an edit of .sops.yaml that would break the
// .sopsfleet.yaml next to it, before anything is written: each creation
// rule of the edited config is judged (policy.CheckConfig) through the
// encrypted files below the config's folder, and a broken constraint the
// config did not already break is an error, unless ignore
// (--ignore-policy), which only warns. Without a policy it does nothing.
func checkEditPolicy(g *globalOptions, ed *recipients.Edit, ignore bool) error {
	oldCfg, err := recipients.ParseConfig(ed.Path, ed.Old)
	if err != nil {
		return usageErr(err)
	}
	path := policy.Path(oldCfg)
	cwd, _ := os.Getwd()
	shown := displayPath(cwd, absOr(path))
	// Names resolve against the config as it is: a policy may name the
	// recipient being removed.
	pol, err := policy.Load(path, shown, oldCfg)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return usageErr(err)
	}
	newCfg, err := recipients.ParseConfig(ed.Path, ed.New)
	if err != nil {
		return usageErr(err)
	}
	found, _, err := sopsfile.DiscoverParsed([]string{oldCfg.Dir}, 0)
	if err != nil {
		return failErr(err)
	}
	var files []string
	for _, f := range found {
		if rel, err := filepath.Rel(oldCfg.Dir, absOr(f.Path)); err == nil && !strings.HasPrefix(rel, "..") {
			files = append(files, filepath.ToSlash(rel))
		}
	}
	id := func(v policy.RuleViolation) string {
		return fmt.Sprintf("%d\x00%s", v.CreationRule.Index, v.Message)
	}
	before := map[string]bool{}
	for _, v := range pol.CheckConfig(oldCfg, files) {
		before[id(v)] = true
	}
	cfgShown := displayPath(cwd, absOr(ed.Path))
	broken := 0
	for _, v := range pol.CheckConfig(newCfg, files) {
		if before[id(v)] {
			continue
		}
		broken++
		through := "for " + v.Through
		if v.Sample {
			through = fmt.Sprintf("judged through the sample path %q", v.Through)
		}
		// Nothing is written: the line is the rule's line in the file as it is.
		line := v.CreationRule.Line
		if i := v.CreationRule.Index; i < len(oldCfg.Rules) {
			line = oldCfg.Rules[i].Line
		}
		msg := fmt.Sprintf("%s:%d: creation rule %d (%s): %s [%s]", cfgShown, line, v.CreationRule.Index+1, through, v.Message, v.Code)
		if ignore {
			g.IO.Warnf("%s", msg)
		} else {
			g.IO.Errorf("%s", msg)
		}
	}
	if broken == 0 || ignore {
		return nil
	}
	g.IO.Hintf("nothing was changed; change %s, or run again with --ignore-policy to make the edit anyway", shown)
	return errFindings
}
