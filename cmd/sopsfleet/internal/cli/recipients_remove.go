package cli

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

type recipientsRemoveOptions struct {
	g        *globalOptions
	Target   string // NAME or KEY
	SSHKey   string
	NoRotate bool
	Force    bool
	editOutput
	ownRuleRemoveFlags
}

func newRecipientsRemoveCmd(g *globalOptions) *cobra.Command {
	o := &recipientsRemoveOptions{g: g}
	cmd := &cobra.Command{
		Use:   "remove (NAME | KEY | --ssh-key FILE)",
		Short: "Remove a recipient from every rule of .sops.yaml",
		Long: `remove removes a recipient, given by name, by key (age1…, a PGP fingerprint,
…) or as the ssh-ed25519 public key in FILE, from every creation rule: its
anchor definition and every alias, literal list item and comma-separated
entry, with their own comment lines.

Without --config or SOPS_CONFIG, the key is removed from every other
.sops.yaml of the tree that lists it too (nested configs such as
clusters/prod/.sops.yaml), in the same plan; each file is then updated by
the config that governs it.

It refuses, changing nothing, when a key group would be left with no
recipient, or when an occurrence cannot be removed cleanly (the error names
the line). The result is verified before it is written.

Then every encrypted file that holds the key is updated and its data key
rotated (a removed recipient that saw the old data key could still read it
otherwise): every sops file in the tree — the git top level when there is
one, else the folder of .sops.yaml — whose metadata lists the key, whatever
rule matches it (copies under other paths, drifted files); a file that no
rule matches loses the key and keeps its other recipients (a warning names
it). --no-rotate updates the recipients only (a warning gives the command
that rotates them); --no-updatekeys edits .sops.yaml only.

The change is all-or-nothing: every affected file is prepared first (its
data key opened where needed and its mac verified, the new text built and
checked, its folder writable); if one fails, nothing is written and every
failure is listed. A file where the key is the only member of a key group
is such a failure. Then the files are written and .sops.yaml last, so an
interrupted run (Ctrl-C, or even a kill) is finished by running the same
command again. Removing a key that your own identities hold asks for
--force. --dry-run prints the diff of .sops.yaml and the plan, and writes
nothing.`,
		Example: `  sopsfleet recipients remove bob --dry-run
  sopsfleet recipients remove age1… --no-updatekeys
  sopsfleet recipients remove --ssh-key old-laptop.pub`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Target = args[0]
			}
			o.Rerun = rerunCommand(cmd, args)
			return runRecipientsRemove(o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.SSHKey, "ssh-key", "", "remove the recipient of the ssh-ed25519 public key in `FILE`")
	f.BoolVar(&o.NoRotate, "no-rotate", false, "update the affected files' recipients without rotating their data keys")
	f.BoolVar(&o.DryRun, "dry-run", false, "print the change as a unified diff (and the update plan); write nothing")
	f.BoolVar(&o.Force, "force", false, "remove the key even when this run's identities hold it (you are removing yourself)")
	o.addChainFlags(cmd)
	o.addDropOwnRuleFlag(cmd)
	return cmd
}

func runRecipientsRemove(o *recipientsRemoveOptions) error {
	if (o.Target == "") == (o.SSHKey == "") {
		return usageErrorf("give exactly one of NAME, KEY or --ssh-key FILE")
	}
	c, err := loadRecipientsConfig(o.g)
	if err != nil {
		return err
	}
	var key recipients.Key
	if o.SSHKey != "" {
		sk, err := readOneSSHKey(o.SSHKey)
		if err != nil {
			return err
		}
		// The converted age recipient, else the SSH key written as such,
		// looked up in the tree as a NAME or KEY is.
		fc, k, err := lookupInTree(o.g, c, sk.Age)
		if err != nil {
			fc, k, err = lookupInTree(o.g, c, recipients.NativeSSH(sk.Key))
		}
		if err != nil {
			return usageErrorf("%s: %s %s (%s) is not a recipient", c.Path, sk.SSHType, sk.Fingerprint, sk.Age)
		}
		c, key = fc, k
	} else {
		if c, key, err = lookupInTree(o.g, c, o.Target); err != nil {
			return err
		}
	}
	name := c.NameOf(key)
	ed, err := removeOwn(c, key, o.DropOwnRule)
	if err != nil {
		if errors.Is(err, recipients.ErrUnknownName) {
			return usageErr(err)
		}
		return editErr(err)
	}
	chain := &configChange{Removed: []recipients.Key{key}, Rotate: !o.NoRotate, Force: o.Force}
	// The key goes from every .sops.yaml of the tree that lists it, in one
	// plan, unless --config/SOPS_CONFIG names one config for all.
	if !o.g.fixedConfig() {
		also, err := otherConfigEdits(c, key, o.DropOwnRule)
		if err != nil {
			return err
		}
		chain.Also = also
	}
	if err := writeEdit(o.g, ed, &o.editOutput, chain); err != nil {
		return err
	}
	if !o.DryRun {
		what := key.ID
		if name != "" {
			what = name
		}
		o.g.IO.Infof("removed %s from %s in %s", what, groupList(c, ed.Changed), ed.Path)
		for _, e := range chain.Also {
			o.g.IO.Infof("removed %s from %s in %s", what, groupList(e.Config, e.Changed), ukDisplayPath(e.Path))
		}
	}
	return nil
}

// otherConfigEdits removes key from every other .sops.yaml of the tree of c
// (the git top level, else c's folder) that lists it. An edit that cannot
// be made is an error naming that config: nothing is changed.
func otherConfigEdits(c *recipients.Config, key recipients.Key, drop bool) ([]otherEdit, error) {
	return editOtherConfigs(c, key, func(oc *recipients.Config) (*recipients.Edit, error) { return removeOwn(oc, key, drop) })
}

// editOtherConfigs applies edit to every other .sops.yaml of the tree of c
// (the git top level, else c's folder) that lists key, and returns the
// edits that change something. An edit that cannot be made is an error
// naming that config: nothing is changed.
func editOtherConfigs(c *recipients.Config, key recipients.Key, edit func(*recipients.Config) (*recipients.Edit, error)) ([]otherEdit, error) {
	root, _ := sopsfile.FindTreeRoot(c.Dir)
	paths, err := recipients.FindConfigs(root)
	if err != nil {
		return nil, failErr(err)
	}
	self := absOr(c.Path)
	var out []otherEdit
	for _, p := range paths {
		if p == self {
			continue
		}
		oc, err := recipients.LoadConfig(p)
		if err != nil {
			return nil, usageErr(err)
		}
		if len(oc.Uses(key)) == 0 {
			continue
		}
		ed, err := edit(oc)
		if err != nil {
			return nil, editErr(err)
		}
		if !ed.Unchanged() {
			out = append(out, otherEdit{Edit: ed, Config: oc})
		}
	}
	return out, nil
}

// lookupInTree finds the recipient NAME (or KEY) in c, the config found from
// the working directory, else — unless --config/SOPS_CONFIG names one config
// for everything — in the other .sops.yaml of the tree: removing or
// replacing a key is about that key everywhere, and a host may be named
// only in a nested config. It returns the config to edit first (the others
// that list the key follow, see otherConfigEdits). A name that stands for
// different keys in different configs is an error listing them.
func lookupInTree(g *globalOptions, c *recipients.Config, target string) (*recipients.Config, recipients.Key, error) {
	key, err := c.Lookup(target)
	if err == nil || g.fixedConfig() {
		if err != nil {
			return nil, recipients.Key{}, usageErr(err)
		}
		return c, key, nil
	}
	root, _ := sopsfile.FindTreeRoot(c.Dir)
	paths, ferr := recipients.FindConfigs(root)
	if ferr != nil {
		return nil, recipients.Key{}, failErr(ferr)
	}
	self := absOr(c.Path)
	var found *recipients.Config
	var where []string
	for _, p := range paths {
		if p == self {
			continue
		}
		oc, lerr := recipients.LoadConfig(p)
		if lerr != nil {
			continue // a config that cannot be read is reported by the edit, if it lists the key
		}
		k, lerr := oc.Lookup(target)
		if lerr != nil {
			continue
		}
		if found != nil && k != key {
			return nil, recipients.Key{}, usageErrorf("%q names different keys in %s and %s: give the key itself, or --config", target, ukDisplayPath(found.Path), ukDisplayPath(oc.Path))
		}
		if found == nil {
			found, key = oc, k
		}
		where = append(where, ukDisplayPath(oc.Path))
	}
	if found == nil {
		return nil, recipients.Key{}, usageErr(err)
	}
	g.IO.Infof("%s is not in %s; found in %s", target, ukDisplayPath(c.Path), strings.Join(where, ", "))
	return found, key, nil
}
