package cli

import (
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// Own rules on the command line: add --own-rule/--rule-regex and remove
// --drop-own-rule. The logic is recipients.Config.AddOwn and RemoveOwn;
// this file only wires flags to them, so that add and remove each need
// one call.

// ownRuleFlags are the inputs of add --own-rule.
type ownRuleFlags struct {
	OwnRule   bool
	RuleRegex string
}

func (f *ownRuleFlags) addOwnRuleFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.OwnRule, "own-rule", false, "also create NAME's own creation rule, copied from the --like recipient's own rule")
	fl.StringVar(&f.RuleRegex, "rule-regex", "", "--own-rule: the new rule's path_regex `REGEX` (default: the --like rule's with the name substituted)")
}

// ownRuleRemoveFlags are the inputs of remove --drop-own-rule.
type ownRuleRemoveFlags struct {
	DropOwnRule bool
}

func (f *ownRuleRemoveFlags) addDropOwnRuleFlag(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.DropOwnRule, "drop-own-rule", false, "also delete NAME's own creation rule (refused while encrypted files are governed by it)")
}

// addOwn adds the recipient to targets, leaving the --like recipient's own
// rule out when the targets come from --like alone, and creates NAME's own
// rule with --own-rule.
func (o *recipientsAddOptions) addOwn(c *recipients.Config, rc recipients.Recipient, targets []recipients.GroupRef) (*recipients.Edit, error) {
	return c.AddOwn(recipients.OwnRuleAddOptions{
		AddOptions: recipients.AddOptions{Name: o.Name, Key: rc.Key, Recipient: rc, Targets: targets, Like: o.Like},
		FromLike:   o.Like != "" && len(o.Paths) == 0 && !o.All,
		OwnRule:    o.OwnRule,
		RuleRegex:  o.RuleRegex,
	})
}

// removeOwn removes key, and with --drop-own-rule its own rule, refused
// while encrypted files under the config's folder are governed by it.
func removeOwn(c *recipients.Config, key recipients.Key, drop bool) (*recipients.Edit, error) {
	var files []string
	if drop {
		var err error
		files, _, err = sopsfile.Discover([]string{filepath.Dir(c.Path)})
		if err != nil {
			return nil, err
		}
		for i, f := range files {
			files[i] = ukDisplayPath(f) // named in the refusal
		}
	}
	return c.RemoveOwn(key, recipients.OwnRuleRemoveOptions{Drop: drop, Files: files})
}
