// Package cli is the sopsfleet command line: one file per command, each a
// newXCmd constructor with an options struct, reaching the terminal only
// through [IOStreams]. The libraries (recipients, rekey) never print.
package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sopsfleet/sopsfleet/internal/secretguard"
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
//
// Every argument is checked by the secret guard before cobra parses it: an
// argument that looks like a private key is refused before any file or
// network use, for every command present and future. Every message printed
// goes through [IOStreams], which redacts private key material; so does
// everything else written to standard error, and standard output (line by
// line) except for convert, whose data it is.
func Run(ios *IOStreams, args []string) int {
	if ios.Getenv != nil && ios.Getenv("NO_COLOR") != "" {
		ios.Color = false
	}
	root := newRootCmd(ios)
	err := guardArgs(root, args)
	if err == nil {
		errOut := ios.ErrOut
		ios.ErrOut = redactEachWrite{w: errOut}
		root.SetErr(ios.ErrOut)
		defer func() { ios.ErrOut = errOut }()
		defer routeSopsLogs(ios)()
		if cmd, _, _ := root.Find(args); cmd == nil || !printsKeys(cmd.Name()) {
			out := ios.Out
			rw := &redactingWriter{w: out}
			ios.Out = rw
			root.SetOut(rw)
			defer func() {
				rw.flush()
				ios.Out = out
			}()
		}
		root.SetArgs(args)
		err = root.Execute()
	}
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
	quiet, verbose := false, false
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
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := guardFlagValues(cmd); err != nil {
				return err
			}
			if g.NoColor {
				ios.Color = false
			}
			// A command may still declare -v/--verbose itself: its value
			// counts the same as the global one.
			ios.Quiet = quiet || flagOn(cmd, "quiet")
			ios.Verbose = verbose || flagOn(cmd, "verbose")
			if ios.Quiet && ios.Verbose {
				ios.Quiet, ios.Verbose = false, false
				return usageErrorf("-q/--quiet and -v/--verbose cannot be used together")
			}
			return nil
		},
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.SetVersionTemplate("sopsfleet {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&g.Config, "config", "", "path of .sops.yaml (default: found like sops does; $SOPS_CONFIG)")
	pf.BoolVar(&g.NoColor, "no-color", false, "disable colour and styling (also: NO_COLOR)")
	pf.BoolVarP(&quiet, "quiet", "q", false, "print only data, errors and the warnings that must not be missed")
	pf.BoolVarP(&verbose, "verbose", "v", false, "print more detail (e.g. files skipped or left unchanged)")

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

// guardArgs refuses an argument that looks like private key material, before
// cobra parses anything: cobra's own errors ("bad flag syntax: …", "unknown
// command …") would repeat it, and a command would use it as a path or a host
// name. The message names the flag or the argument's position, never the
// value.
func guardArgs(root *cobra.Command, args []string) error {
	for i, a := range args {
		if !secretguard.LooksPrivate(a) {
			continue
		}
		return usageErr(withHint(
			fmt.Errorf("%s: %s", argLabel(root, args, i), secretguard.Refusal),
			"give the path of a key file, never the key itself"))
	}
	return nil
}

// argLabel names args[i] for a message: the flag it is the value of
// ("-i/--identity"), or its position ("argument 3").
func argLabel(root *cobra.Command, args []string, i int) string {
	position := fmt.Sprintf("argument %d", i+1)
	cmd, _, _ := root.Find(args)
	if cmd == nil {
		cmd = root
	}
	a := args[i]
	switch {
	case strings.HasPrefix(a, "--"):
		// --flag=VALUE
		if name, _, ok := strings.Cut(a[2:], "="); ok && !secretguard.LooksPrivate(name) {
			if f := cmd.Flag(name); f != nil {
				return flagLabel(f)
			}
		}
	case strings.HasPrefix(a, "-") && len(a) > 2:
		// -iVALUE
		if f := shorthandFlag(cmd, a[1:2]); f != nil && takesValue(f) {
			return flagLabel(f)
		}
	}
	if i > 0 {
		prev := args[i-1]
		var f *pflag.Flag
		switch {
		case strings.HasPrefix(prev, "--") && !strings.Contains(prev, "="):
			f = cmd.Flag(prev[2:])
		case strings.HasPrefix(prev, "-") && len(prev) == 2:
			f = shorthandFlag(cmd, prev[1:])
		}
		if f != nil && takesValue(f) {
			return flagLabel(f)
		}
	}
	return position
}

func shorthandFlag(cmd *cobra.Command, short string) *pflag.Flag {
	if f := cmd.Flags().ShorthandLookup(short); f != nil {
		return f
	}
	return cmd.InheritedFlags().ShorthandLookup(short)
}

func takesValue(f *pflag.Flag) bool { return f.NoOptDefVal == "" }

// flagLabel is "-i/--identity", or "--name" for a flag without shorthand.
func flagLabel(f *pflag.Flag) string {
	if f.Shorthand != "" {
		return "-" + f.Shorthand + "/--" + f.Name
	}
	return "--" + f.Name
}

// guardFlagValues refuses a flag value that looks like private key material
// however it was set; guardArgs has seen the command line, this sees the
// parsed values.
func guardFlagValues(cmd *cobra.Command) error {
	var bad *pflag.Flag
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if bad == nil && secretguard.LooksPrivate(f.Value.String()) {
			bad = f
		}
	})
	if bad != nil {
		return usageErrorf("%s: %s", flagLabel(bad), secretguard.Refusal)
	}
	return nil
}

// flagOn reports whether cmd has a boolean flag name that is set.
func flagOn(cmd *cobra.Command, name string) bool {
	f := cmd.Flags().Lookup(name)
	return f != nil && f.Value.Type() == "bool" && f.Value.String() == "true"
}
