package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sopsfleet/sopsfleet/audit"
)

// reportOptions are the inputs of sopsfleet report.
type reportOptions struct {
	g         *globalOptions
	IO        *IOStreams
	Paths     []string
	By        string
	Recipient string
	JSON      bool
	Format    string
}

func newReportCmd(g *globalOptions) *cobra.Command {
	opts := &reportOptions{g: g, IO: g.IO}
	cmd := &cobra.Command{
		Use:   "report [PATH...]",
		Short: "Show who can decrypt which file: the access matrix",
		Long: `Show who can decrypt which sops-encrypted file, from metadata only: no private
key, no network, nothing decrypted. All five sops formats are read.

Rows are files, columns recipients, named as .sops.yaml names them (anchor or
comment), else by a shortened key. A cell is
  ✓  the recipient can decrypt the file, as .sops.yaml wants
  ✗  missing: .sops.yaml wants the recipient, the file is not encrypted to it
  +  extra: the recipient can decrypt the file, .sops.yaml does not want it
  •  the recipient can decrypt the file; no creation rule matches it
With Shamir key groups, the group number follows the mark and the GROUPS
column shows threshold/groups.

On a terminal the matrix is a table; piped, plain aligned text. When there
are more recipients than fit, columns are numbered; if that does not fit,
the matrix is transposed (a row per recipient, a column per file); and if
even that does not fit, the report is shown per recipient.

--by recipient lists, for each recipient, the files it can decrypt;
--recipient NAME answers "what can this machine read?" before retiring it.`,
		Example: `  sopsfleet report
  sopsfleet report secrets/
  sopsfleet report --by recipient
  sopsfleet report --recipient old-laptop
  sopsfleet report --format markdown > access.md
  sopsfleet report --json | jq '.files[] | select(.access[].state == "extra") | .path'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			return runReport(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.By, "by", "file", "rows of the report: file or recipient")
	f.StringVar(&opts.Recipient, "recipient", "", "show only what the recipient `NAME` (name, key or key prefix) can decrypt")
	f.BoolVar(&opts.JSON, "json", false, "print JSON (same as --format json)")
	f.StringVarP(&opts.Format, "format", "f", "text", "output format: text, markdown or json")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(
		[]string{"text", "markdown", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("by", cobra.FixedCompletions(
		[]string{"file", "recipient"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runReport(opts *reportOptions) error {
	format, err := withJSON(opts.JSON, opts.Format)
	if err != nil {
		return err
	}
	switch format {
	case "text", "markdown", "json":
	case "md":
		format = "markdown"
	default:
		return usageErrorf("invalid --format %q: want text, markdown or json", opts.Format)
	}
	if opts.By != "file" && opts.By != "recipient" {
		return usageErrorf("invalid --by %q: want file or recipient", opts.By)
	}
	sc, err := scanRepo(opts.g, opts.Paths, false, true)
	if err != nil {
		return err
	}
	warnSkippedLinks(opts.g, sc.Result.Root, sc.Result.SkippedLinks)
	rep := audit.BuildReport(sc.Result)
	out := opts.IO.Out

	if opts.Recipient != "" {
		i, close := rep.Find(opts.Recipient)
		switch {
		case i == -2:
			return usageErrorf("--recipient %q matches several keys: give more of the key", opts.Recipient)
		case i < 0:
			opts.IO.Errorf("no recipient %q in .sops.yaml or in the files", opts.Recipient)
			if len(close) > 0 {
				opts.IO.Hintf("did you mean %s?", quoteList(close))
			} else {
				opts.IO.Hintf("list the recipients with: sopsfleet report --by recipient")
			}
			return errSilentUsage
		}
		one := rep.ByRecipient()[i : i+1]
		return writeOut(writeByRecipient(out, format, one))
	}
	if opts.By == "recipient" {
		list := rep.ByRecipient()
		if format == "text" && opts.IO.OutTTY && len(list) > 0 {
			writeByRecipientTable(opts.IO, list)
			return nil
		}
		return writeOut(writeByRecipient(out, format, list))
	}
	switch format {
	case "json":
		return writeOut(audit.WriteReportJSON(out, rep))
	case "markdown":
		return writeOut(audit.WriteReportMarkdown(out, rep))
	}
	return writeOut(writeMatrix(opts.IO, rep))
}

func writeByRecipient(w io.Writer, format string, list []audit.RecipientFiles) error {
	switch format {
	case "json":
		return audit.WriteByRecipientJSON(w, list)
	case "markdown":
		return audit.WriteByRecipientMarkdown(w, list)
	}
	return audit.WriteByRecipientText(w, list)
}

func writeOut(err error) error {
	if err != nil {
		return failErr(fmt.Errorf("writing the report: %w", err))
	}
	return nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, " or ")
}
