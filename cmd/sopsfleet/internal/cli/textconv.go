package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sopsfleet/sopsfleet/audit"
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// textconvOptions are the inputs of sopsfleet textconv.
type textconvOptions struct {
	g    *globalOptions
	IO   *IOStreams
	File string
}

func newTextconvCmd(g *globalOptions) *cobra.Command {
	opts := &textconvOptions{g: g, IO: g.IO}
	cmd := &cobra.Command{
		Use:   "textconv FILE",
		Short: "Show a sops file as git diff should: value digests and a metadata summary",
		Long: `Print a sops-encrypted file for reading in 'git diff', as a git textconv
driver: every encrypted value is replaced by a short stable digest of its
ciphertext ("sha:…"), so the diff shows exactly which keys changed, and the
sops metadata by a compact sorted summary: the recipients of each key group
by name (from .sops.yaml) and type with a digest of each one's entry (it
changes when the entry is re-wrapped or the data key rotated), the Shamir
threshold and a digest of the mac. Nothing is decrypted and no ciphertext is
printed.

Git hands the driver a temporary file, so the format (YAML, JSON, dotenv,
INI, binary) is detected from the content. A file that is not sops-encrypted
is printed unchanged. FILE "-" reads standard input.

Set up once per clone:
  git config diff.sopsfleet.textconv "sopsfleet textconv"
and name the files in .gitattributes, for example:
  *.sops.* diff=sopsfleet
  secrets/*.yaml diff=sopsfleet`,
		Example: `  git config diff.sopsfleet.textconv "sopsfleet textconv"
  echo '*.sops.* diff=sopsfleet' >> .gitattributes
  git diff HEAD~1 -- secrets/
  sopsfleet textconv secrets/db.sops.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return runTextconv(opts)
		},
	}
	return cmd
}

// maxTextconvInput bounds what textconv reads: sops files are small.
const maxTextconvInput = 64 << 20

func runTextconv(opts *textconvOptions) error {
	var r io.Reader
	name := opts.File
	if name == "-" {
		r, name = opts.IO.In, "standard input"
	} else {
		f, err := os.Open(opts.File)
		if err != nil {
			return usageErr(err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxTextconvInput+1))
	if err != nil {
		return usageErrorf("reading %s: %v", name, err)
	}
	if len(data) > maxTextconvInput {
		return usageErrorf("%s is larger than 64 MiB: not a sops file sopsfleet reads", name)
	}
	out, err := audit.Textconv(data, textconvNamer(opts))
	switch {
	case errors.Is(err, sopsfile.ErrNotEncrypted):
		out = data
	case err != nil:
		// A diff driver that fails makes git diff fail: show the file as it is.
		opts.IO.Warnf("%s: cannot read the sops metadata (%v): shown unchanged", name, err)
		out = data
	}
	if _, err := opts.IO.Out.Write(out); err != nil {
		return failErr(fmt.Errorf("writing: %w", err))
	}
	return nil
}

// textconvVersions is how many committed versions of .sops.yaml name
// recipients besides the work tree's: a recipient removed by the change
// under review is named only in older ones.
const textconvVersions = 20

// textconvNamer names recipients from the .sops.yaml found as sops finds it
// (git runs the driver at the top of the work tree), then from its last
// committed versions; without one, keys are shown shortened only.
func textconvNamer(opts *textconvOptions) *audit.Namer {
	path, err := opts.g.ConfigPath()
	if err != nil {
		return audit.NewNamer()
	}
	cfg, err := recipients.LoadConfig(path)
	if err != nil {
		opts.IO.Warnf("recipients are not named: %v", err)
		return audit.NewNamer()
	}
	cfgs := []*recipients.Config{cfg}
	if repo, err := audit.OpenRepo(filepath.Dir(path)); err == nil {
		defer repo.Close()
		abs := absOr(path)
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		if rel, err := filepath.Rel(repo.Dir, abs); err == nil && !strings.HasPrefix(rel, "..") {
			versions, _ := repo.Versions(filepath.ToSlash(rel), textconvVersions)
			for _, v := range versions {
				if c, err := recipients.ParseConfig(path, v); err == nil {
					cfgs = append(cfgs, c)
				}
			}
		}
	}
	return audit.NewNamer(cfgs...)
}
