package cli

import "github.com/spf13/cobra"

type recipientsRenameOptions struct {
	g        *globalOptions
	Old, New string
	editOutput
}

func newRecipientsRenameCmd(g *globalOptions) *cobra.Command {
	o := &recipientsRenameOptions{g: g}
	cmd := &cobra.Command{
		Use:   "rename OLD NEW",
		Short: "Rename a recipient in .sops.yaml",
		Long: `rename renames a recipient: its anchor and every alias to it, or the
trailing comments that name it. Recipients and rules do not change, so no
encrypted file is touched. --dry-run prints the diff and writes nothing.`,
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
	if err := writeEdit(o.g, ed, &o.editOutput, nil); err != nil {
		return err
	}
	if !o.DryRun {
		o.g.IO.Infof("renamed %s to %s in %s", o.Old, o.New, ed.Path)
	}
	return nil
}
