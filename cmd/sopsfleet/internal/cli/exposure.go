package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sopsfleet/sopsfleet/audit"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// exposureOptions are the inputs of sopsfleet exposure.
type exposureOptions struct {
	g             *globalOptions
	IO            *IOStreams
	Name          string
	All           bool
	Since         string
	Identities    []string
	Keyless       bool
	JSON          bool
	FailIfExposed bool
	// Dir is the folder whose repository is read ("" the working directory).
	Dir string
}

func newExposureCmd(g *globalOptions) *cobra.Command {
	opts := &exposureOptions{g: g, IO: g.IO}
	cmd := &cobra.Command{
		Use:   "exposure NAME|KEY",
		Short: "List what a retired key could read in git history, and what is still exposed",
		Long: `List, from the git history of HEAD (--all: every ref), what a key could read:
per sops file, the revisions where it was a recipient and every other
revision that kept a data key it held (a removal without rotation leaves
every later value readable to it, even values added later), the secret names
in them, and whether each value has changed since.

NAME is looked up in every version of .sops.yaml in the history, so a retired
name still works; after a replace it stands for the old key and the new one
(both are reported). A key (age1…, ssh-…, a PGP fingerprint) works too.

Status of each secret name:
  still-exposed  the value it could read is the value today (the current
                 file still uses a data key it held, or, with an identity,
                 the plaintext is the same)
  changed        with an identity: today's value differs
  unknown        keyless, and the data key was rotated since
  removed        the name or the file is gone from the current revision

With an identity (-i, or the usual sops sources) that opens both revisions,
plaintext is compared in memory only; values are never printed or written.
--keyless skips loading identities.

Exit status: 0; 1 with --fail-if-exposed when a secret is still exposed;
2 usage error (an unknown name, not a git repository).`,
		Example: `  sopsfleet exposure marvin
  sopsfleet exposure marvin --all --json
  sopsfleet exposure age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq
  sopsfleet exposure old-laptop --since v1.0 --fail-if-exposed`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runExposure(opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.All, "all", false, "walk the history of every ref, not only HEAD")
	f.StringVar(&opts.Since, "since", "", "walk only the commits after `REV`")
	f.StringArrayVarP(&opts.Identities, "identity", "i", nil, "age identity file or SSH private key to compare values with (repeatable)")
	f.BoolVar(&opts.Keyless, "keyless", false, "do not load any identity: compare metadata only")
	f.BoolVar(&opts.JSON, "json", false, "print JSON")
	f.BoolVar(&opts.FailIfExposed, "fail-if-exposed", false, "exit 1 when a secret is still exposed")
	return cmd
}

func runExposure(opts *exposureOptions) error {
	if recipients.LooksSecret(opts.Name) {
		return usageErrorf("the argument is a secret key (not repeated here): give the recipient's name or its public key")
	}
	if opts.Keyless && len(opts.Identities) > 0 {
		return usageErrorf("--keyless and -i/--identity cannot be used together")
	}
	repo, err := openRepo(opts.Dir)
	if err != nil {
		return err
	}
	defer repo.Close()
	eo := audit.ExposureOptions{Since: opts.Since}
	if opts.All {
		eo.Revs = []string{"--all"}
	}
	if !opts.Keyless {
		op, err := newIdentitySource(opts.g, opts.Identities, false).opener()
		if err != nil {
			return usageErr(err)
		}
		eo.Opener = op
	}
	res, err := audit.Exposure(repo, opts.Name, eo)
	if errors.Is(err, audit.ErrUnknownRecipient) {
		return usageErr(withHint(err, "give a name some version of .sops.yaml uses, or the key itself"))
	}
	if err != nil {
		return failErr(err)
	}
	if opts.JSON {
		err = audit.WriteExposureJSON(opts.IO.Out, res)
	} else {
		err = audit.WriteExposureText(opts.IO.Out, res)
	}
	if err != nil {
		return failErr(fmt.Errorf("writing the report: %w", err))
	}
	if opts.FailIfExposed && res.StillExposed > 0 {
		n := fmt.Sprintf("%d secrets are", res.StillExposed)
		if res.StillExposed == 1 {
			n = "1 secret is"
		}
		opts.IO.Errorf("%s still exposed to %s: change them", n, recipients.QuoteInput(opts.Name))
		return errFindings
	}
	return nil
}
