package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sopsfleet/sopsfleet/audit"
)

// diffOptions are the inputs of sopsfleet diff.
type diffOptions struct {
	g          *globalOptions
	IO         *IOStreams
	Revs       []string
	Format     string
	JSON       bool
	FailOnGain bool
	// Dir is the folder whose repository is read ("" the working directory).
	Dir string
}

func newDiffCmd(g *globalOptions) *cobra.Command {
	opts := &diffOptions{g: g, IO: g.IO}
	cmd := &cobra.Command{
		Use:   "diff [BASE [HEAD]]",
		Short: "Review a change of sops files: who gains and loses access, which values changed",
		Long: `Review what a change does to a repository's sops files and .sops.yaml, from
git history and metadata only: no private key, nothing decrypted.

Revisions are taken as git diff takes them: no argument compares the work
tree with HEAD; one compares the work tree with BASE; two (or BASE..HEAD)
compare two revisions; BASE...HEAD compares HEAD with the merge base, as a
pull request shows (origin/main...HEAD). As with git diff, files git does not
track are not seen: git add them first.

Reported:
  per recipient    the files it newly can decrypt, those it no longer can
                   (and whether their data key was kept, so it still can),
                   and the new files it can read
  per file         recipients added and removed per key group, threshold
                   changes, added, deleted and renamed files, whether the
                   data key was rotated, and which values changed, by name:
                   under the same data key a changed ciphertext is a
                   changed value; after a rotation every value is
                   re-encrypted and no value is named
  per .sops.yaml   per rule the recipients gained and lost, rules added and
                   removed, and files whose wanted recipients changed but
                   that were not updated

--format markdown is ready to post as a pull-request comment.
Exit status: 0; 1 with --fail-on-gain when a recipient can now read a file
of BASE it could not read there (new files do not count), or a file of BASE
is no longer sops-encrypted; 2 usage error.`,
		Example: `  sopsfleet diff
  sopsfleet diff HEAD~1 HEAD
  sopsfleet diff origin/main...HEAD --format markdown | gh pr comment --body-file -
  sopsfleet diff origin/main...HEAD --fail-on-gain
  sopsfleet diff main...feature --json | jq '.access[] | select(.gains != [])'`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Revs = args
			return runDiff(opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Format, "format", "f", "text", "output format: text, markdown, json or github")
	f.BoolVar(&opts.JSON, "json", false, "print JSON (same as --format json)")
	f.BoolVar(&opts.FailOnGain, "fail-on-gain", false, "exit 1 when a recipient gains access to a file of BASE")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(
		[]string{"text", "markdown", "json", "github"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// openRepo opens the git repository of opts' folder (the working directory
// by default).
func openRepo(dir string) (*audit.Repo, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		dir = wd
	}
	r, err := audit.OpenRepo(dir)
	if err != nil {
		return nil, usageErr(withHint(err, "run it inside a git repository"))
	}
	return r, nil
}

func runDiff(opts *diffOptions) error {
	format, err := withJSON(opts.JSON, opts.Format)
	if err != nil {
		return err
	}
	switch format {
	case "md":
		format = "markdown"
	case "text", "markdown", "json", "github":
	default:
		return usageErrorf("invalid --format %q: want text, markdown, json or github", opts.Format)
	}
	repo, err := openRepo(opts.Dir)
	if err != nil {
		return err
	}
	defer repo.Close()
	rg, err := audit.ResolveRange(repo, opts.Revs)
	if err != nil {
		return usageErr(err)
	}
	res, err := audit.Diff(repo, rg)
	if err != nil {
		return failErr(err)
	}
	out := opts.IO.Out
	switch format {
	case "json":
		err = audit.WriteDiffJSON(out, res)
	case "markdown":
		err = audit.WriteDiffMarkdown(out, res)
	case "github":
		err = audit.WriteDiffGitHub(out, res)
	default:
		err = audit.WriteDiffText(out, res)
	}
	if err != nil {
		return failErr(fmt.Errorf("writing the diff: %w", err))
	}
	if opts.FailOnGain && res.Gained() {
		opts.IO.Errorf("a recipient gains access to files it could not read in %s", rg.Label)
		return errFindings
	}
	return nil
}
