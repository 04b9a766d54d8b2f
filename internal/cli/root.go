// Package cli is the sopsfleet command line: one file per command, each a
// newXCmd constructor with an options struct, reaching the terminal only
// through [IOStreams]. The libraries (recipients, rekey) never print.
package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sopsfleet/sopsfleet/internal/version"
)

// globalOptions are the persistent flags every command sees.
type globalOptions struct {
	IO      *IOStreams
	Config  string // --config; empty: found as sops finds it
	NoColor bool
}

// ConfigPath returns the .sops.yaml to use (see findConfig).
func (g *globalOptions) ConfigPath() (string, error) {
	return findConfig(g.Config, g.IO.Getenv, g.IO.Warnf)
}

// Main runs the command line with args and returns the exit code.
func Main(args []string) int {
	return Run(SystemIO(), args)
}

// Run runs the command line on the given streams; tests call it directly.
func Run(ios *IOStreams, args []string) int {
	if ios.Getenv != nil && ios.Getenv("NO_COLOR") != "" {
		ios.Color = false
	}
	root := newRootCmd(ios)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	if strings.HasPrefix(err.Error(), "unknown command ") {
		err = usageErr(withHint(err, "see 'sopsfleet --help'"))
	}
	if msg := printable(err); msg != "" {
		ios.Errorf("%s", msg)
	}
	for _, h := range hintsOf(err) {
		ios.Hintf("%s", h)
	}
	return exitCode(err)
}

func newRootCmd(ios *IOStreams) *cobra.Command {
	g := &globalOptions{IO: ios}
	quiet := false
	root := &cobra.Command{
		Use:   "sopsfleet",
		Short: "Manage who can decrypt a repository's sops secrets",
		Long: `sopsfleet manages the recipients of a repository's sops-encrypted files:
convert SSH host keys to age, add and remove recipients in .sops.yaml without
disturbing it, re-encrypt only what must change, and prove in CI that every
file is encrypted to exactly the recipients .sops.yaml asks for.`,
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			if g.NoColor {
				ios.Color = false
			}
			ios.Quiet = quiet
		},
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.SetVersionTemplate("sopsfleet {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&g.Config, "config", "", "path of .sops.yaml (default: found like sops does; $SOPS_CONFIG)")
	pf.BoolVar(&g.NoColor, "no-color", false, "disable colour and styling (also: NO_COLOR)")
	pf.BoolVarP(&quiet, "quiet", "q", false, "print only errors and data")

	// Usage is printed only for flag errors, as a usage error (exit 2).
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageErr(withHint(err, fmt.Sprintf("see '%s --help'", cmd.CommandPath())))
	})

	root.AddCommand(
		newConvertCmd(g),
		newKeyscanCmd(g),
		newRecipientsCmd(g),
		newUpdatekeysCmd(g),
		newReportCmd(g),
		newCheckCmd(g),
		newTextconvCmd(g),
		newDiffCmd(g),
		newExposureCmd(g),
	)
	// Arguments errors from cobra validators are usage errors too.
	for _, c := range root.Commands() {
		wrapArgs(c)
	}
	return root
}

// wrapArgs turns positional-argument validation failures into usage errors.
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		orig := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := orig(cmd, args); err != nil {
				var ee *exitError
				if errors.As(err, &ee) {
					return err
				}
				return usageErr(withHint(err, fmt.Sprintf("see '%s --help'", cmd.CommandPath())))
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}
