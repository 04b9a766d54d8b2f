package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
	"github.com/sopsfleet/sopsfleet/policy"
	"github.com/sopsfleet/sopsfleet/recipients"
)

type recipientsRenameOptions struct {
	g        *globalOptions
	Old, New string
	editOutput
}

func newRecipientsRenameCmd(g *globalOptions) *cobra.Command {
	o := &recipientsRenameOptions{g: g}
	cmd := &cobra.Command{
		Use:   "rename OLD NEW",
		Short: "Rename a recipient in .sops.yaml (and .sopsfleet.yaml)",
		Long: `rename renames a recipient: its anchor and every alias to it, or the
trailing comments that name it. Recipients and rules do not change, so no
encrypted file is touched. A .sopsfleet.yaml policy next to .sops.yaml that
names the recipient is renamed too, changing only the bytes of the name; both
files are written together. --dry-run prints the diff and writes nothing.`,
		Example: `  sopsfleet recipients rename bob robert
  sopsfleet recipients rename web1 web1-old --dry-run`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Old, o.New = args[0], args[1]
			return runRecipientsRename(o)
		},
	}
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "print the change as a unified diff; write nothing")
	return cmd
}

func runRecipientsRename(o *recipientsRenameOptions) error {
	c, err := loadRecipientsConfig(o.g)
	if err != nil {
		return err
	}
	ed, err := c.Rename(o.Old, o.New)
	if err != nil {
		return editErr(err)
	}
	polPath, polOld, polNew, err := renameInPolicy(c, ed, o.Old, o.New)
	if err != nil {
		return err
	}
	if polNew == nil {
		if err := writeEdit(o.g, ed, &o.editOutput, nil); err != nil {
			return err
		}
		if !o.DryRun {
			o.g.IO.Infof("renamed %s to %s in %s", o.Old, o.New, ed.Path)
		}
		return nil
	}
	ios := o.g.IO
	if o.DryRun {
		for _, d := range [][3]any{{ed.Old, ed.New, ed.Path}, {polOld, polNew, polPath}} {
			if _, err := fmt.Fprint(ios.Out, unifiedDiff(d[0].([]byte), d[1].([]byte), filepath.Base(d[2].(string)), ios.OutColor())); err != nil {
				return failErr(err)
			}
		}
		ios.Infof("dry run: %s and %s not written", ed.Path, polPath)
		return nil
	}
	// Both files or neither: the policy must never name a recipient the
	// config no longer has.
	st := atomicfile.NewStaged(nil)
	if err := st.Stage(polPath, polNew, atomicfile.Options{Expect: polOld}); err != nil {
		st.Abort()
		return failErr(fmt.Errorf("cannot write %s: %w", polPath, err))
	}
	if err := st.Stage(ed.Path, ed.New, atomicfile.Options{Expect: ed.Old, Last: true}); err != nil {
		st.Abort()
		return failErr(fmt.Errorf("cannot write %s: %w", ed.Path, err))
	}
	if err := st.Commit(context.Background(), nil); err != nil {
		return failErr(fmt.Errorf("cannot write %s and %s: %w", polPath, ed.Path, err))
	}
	ios.Infof("renamed %s to %s in %s and %s", o.Old, o.New, ed.Path, polPath)
	return nil
}

// renameInPolicy returns the new text of the policy next to the config
// when it names old; nil polNew when there is no policy or it does not name
// old. A policy that cannot be read, or that the rename would break, is a
// usage error and nothing is written.
func renameInPolicy(c *recipients.Config, ed *recipients.Edit, old, new string) (path string, before, after []byte, err error) {
	path = policy.Path(c)
	pol, err := policy.Load(path, path, c)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil, nil, nil
	}
	if err != nil {
		return path, nil, nil, usageErrorf("cannot rename in the policy: %v", err)
	}
	text, n := pol.Rename(old, new)
	if n == 0 {
		return path, nil, nil, nil
	}
	newCfg, err := recipients.ParseConfig(ed.Path, ed.New)
	if err == nil {
		_, err = policy.Parse(path, text, newCfg)
	}
	if err != nil {
		return path, nil, nil, usageErrorf("renaming %s to %s would break the policy: %v", old, new, err)
	}
	return path, pol.Data(), text, nil
}
