package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sopsfleet/sopsfleet/recipients"
)

func newRecipientsCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "recipients",
		Short: "List, add, remove and rename the recipients in .sops.yaml",
		Long: `recipients reads and edits the creation rules of .sops.yaml.

The file is edited the way a careful person would: only the lines (or the
comma-separated entries) that change are touched, in the file's own style
— anchors or literal keys, indentation, flow or block lists, quoting, line
endings. Every edit is checked before it is written: the new text is read
again and must resolve, as sops resolves it, to the old recipients plus (or
minus) exactly the intended change. --dry-run shows the change as a
unified diff and writes nothing.

A recipient's name is its YAML anchor (&alice), else the trailing comment
on its line (- age1… # alice). Names are what these commands show and take.

add and remove then update the encrypted files whose recipients changed
(as 'sopsfleet updatekeys' does; remove also rotates their data keys),
unless --no-updatekeys. replace changes a recipient's key (a reinstalled
host) in .sops.yaml and in every file that holds it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErr(withHint(errors.New("missing subcommand: list, add, remove or rename"), "see 'sopsfleet recipients --help'"))
		},
	}
	cmd.AddCommand(
		newRecipientsListCmd(g),
		newRecipientsAddCmd(g),
		newRecipientsRemoveCmd(g),
		newRecipientsRenameCmd(g),
		newRecipientsReplaceCmd(g),
		newRecipientsVerifyCmd(g),
	)
	return cmd
}

// loadRecipientsConfig finds and parses .sops.yaml. Every failure is bad
// input (exit 2) and names the file (and line).
func loadRecipientsConfig(g *globalOptions) (*recipients.Config, error) {
	path, err := g.ConfigPath()
	if err != nil {
		return nil, usageErr(err)
	}
	c, err := recipients.LoadConfig(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usageErrorf("%s: no such file", path)
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, usageErrorf("%s: %v", path, pe.Err)
		}
		return nil, usageErr(err)
	}
	return c, nil
}

// editErr classifies an error of the editor: a refused edit is bad input
// (exit 2, nothing changed); an edit that failed its verification is a
// failure (exit 1).
func editErr(err error) error {
	if errors.Is(err, recipients.ErrNotVerified) {
		return failErr(err)
	}
	return usageErr(err)
}

// editOutput are the flags every editing subcommand shares.
type editOutput struct {
	DryRun bool
	// Chaining to updatekeys (add and remove).
	NoUpdatekeys bool
	Identities   []string
	Jobs         int
	// Rerun is the command as given, for "run it again to finish".
	Rerun string
	// IgnorePolicy is --ignore-policy: make an edit that breaks
	// .sopsfleet.yaml anyway (add and remove).
	IgnorePolicy bool
	// JSON is --json: the per-file results (and a dry run's diff) as JSON
	// on standard output instead of the summary lines.
	JSON bool
}

func (o *editOutput) addChainFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.NoUpdatekeys, "no-updatekeys", false, "edit .sops.yaml only; do not update the encrypted files")
	f.BoolVar(&o.JSON, "json", false, "print the per-file results as JSON on standard output (the JSON of updatekeys --json; with --dry-run the diff of .sops.yaml as config_diff)")
	f.StringArrayVarP(&o.Identities, "identity", "i", nil, "age identity file or SSH private key to open files with (repeatable)")
	f.IntVarP(&o.Jobs, "jobs", "j", 0, "number of files to update at once (default: number of CPUs)")
	f.BoolVar(&o.IgnorePolicy, "ignore-policy", false, "make the edit even if it breaks .sopsfleet.yaml")
}

// writeEdit shows or writes a verified edit. chain, when not nil, is the
// change of the encrypted files that goes with it (add, remove): planned
// and prepared whole before anything is written, .sops.yaml written last.
func writeEdit(g *globalOptions, ed *recipients.Edit, o *editOutput, chain *configChange) error {
	ios := g.IO
	for _, n := range ed.Notes {
		ios.Infof("%s", n)
	}
	if ed.Unchanged() {
		ios.Infof("nothing to change in %s", ed.Path)
		return nil
	}
	if o.Jobs < 0 {
		return usageErrorf("-j/--jobs must be at least 1, got %d", o.Jobs)
	}
	if chain != nil {
		if err := checkEditPolicy(g, ed, o.IgnorePolicy); err != nil {
			return err
		}
	}
	if chain == nil || o.NoUpdatekeys {
		return writeConfigOnly(g, ed, o, chain)
	}
	return runConfigChange(g, ed, o, chain)
}

// groupList describes groups for messages: "rule 1 (^prod/) group 2, …" (numbered from 1).
// Past maxListedGroups groups the rest are counted, not named.
func groupList(c *recipients.Config, gs []recipients.GroupRef) string {
	var parts []string
	for i, g := range gs {
		if i == maxListedGroups && len(gs) > maxListedGroups+1 {
			parts = append(parts, fmt.Sprintf("and %d more", len(gs)-i))
			break
		}
		parts = append(parts, groupLabel(c, g))
	}
	return strings.Join(parts, ", ")
}

const maxListedGroups = 8

// groupLabel names one group: "rule 2 (^prod/)" or "rule 2 (^prod/) group 1".
func groupLabel(c *recipients.Config, g recipients.GroupRef) string {
	r := c.Rules[g.Rule]
	s := fmt.Sprintf("rule %d", g.Rule+1)
	if r.HasPathRegex {
		s += fmt.Sprintf(" (%s)", r.PathRegex)
	}
	if len(r.Groups) > 1 {
		s += fmt.Sprintf(" group %d", g.Group+1)
	}
	return s
}

// readOneSSHKey reads the single ssh-ed25519 key of FILE for --ssh-key.
func readOneSSHKey(path string) (recipients.SSHKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return recipients.SSHKey{}, usageErrorf("--ssh-key %s: %v", path, pe.Err)
		}
		return recipients.SSHKey{}, usageErr(err)
	}
	keys, skipped, err := recipients.ParseSSHKeys(data)
	if err != nil {
		// One line per bad line of the file would leave all but the first
		// without the "sopsfleet: error:" prefix and the file name.
		var bad []string
		for _, e := range lineErrors(err) {
			bad = append(bad, e.Error())
		}
		return recipients.SSHKey{}, usageErrorf("--ssh-key %s: %s", path, strings.Join(bad, "; "))
	}
	switch len(keys) {
	case 1:
		return keys[0], nil
	case 0:
		why := "no ssh-ed25519 public key"
		if len(skipped) > 0 {
			why += fmt.Sprintf(" (%v)", skipped[0])
		}
		return recipients.SSHKey{}, usageErrorf("--ssh-key %s: %s", path, why)
	default:
		return recipients.SSHKey{}, usageErrorf("--ssh-key %s: holds %d ssh-ed25519 keys (lines %d and %d…): give a file with one key", path, len(keys), keys[0].Line, keys[1].Line)
	}
}
