package cli

import "github.com/spf13/cobra"

// STUB: replaced by the issue that owns this command.
func newReportCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "report",
		Short: "(not yet implemented)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return failErr(errNotImplemented)
		},
	}
}
