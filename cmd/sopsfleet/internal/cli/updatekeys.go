package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
	"github.com/sopsfleet/sopsfleet/rekey"
)

// updatekeysOptions are the inputs of `sopsfleet updatekeys`.
type updatekeysOptions struct {
	g          *globalOptions
	Paths      []string
	Identities []string
	Rotate     bool
	DryRun     bool
	JSON       bool
	Verbose    bool
	Jobs       int

	// ApplySelector: with --rotate, re-encrypt under the rule's selector.
	ApplySelector bool
}

func newUpdatekeysCmd(g *globalOptions) *cobra.Command {
	o := &updatekeysOptions{g: g}
	cmd := &cobra.Command{
		Use:     "updatekeys [PATH...]",
		Aliases: []string{"rekey"},
		Short:   "Re-encrypt files to exactly the recipients .sops.yaml asks for",
		Long: `updatekeys makes every sops-encrypted file under PATH (files or folders; default:
the folder of .sops.yaml, recursively, skipping .git) encrypted to exactly the
key groups .sops.yaml asks for — as 'sops updatekeys -y' would, in one process,
touching only what must change.

Each file is governed by the nearest .sops.yaml in its folder or a folder
above it, the config sops uses when run from there (a catch-all rule of a root
config never overrides clusters/prod/.sops.yaml), unless --config or
SOPS_CONFIG names one config for every file. With no .sops.yaml at or above the
working directory, the working directory is walked.

Files of all five sops formats (YAML, JSON, dotenv, INI, binary) are found by
their metadata; other files are ignored (-v lists them). A file that already
matches is not rewritten. For a file with one key group, the data key is
decrypted once and encrypted only for the added recipients; removed entries
are dropped; everything else — the other recipients' entries, the values, mac
and lastmodified — stays byte-identical. Removing recipients needs no identity.
Files with several key groups (Shamir) get their data key split again, as
sops does, so all of their entries change. --rotate gives every file a new
data key instead, as 'sops rotate' does.

Identities are loaded once, from the places sops v3.13 reads
(SOPS_AGE_SSH_PRIVATE_KEY_FILE, SOPS_AGE_SSH_PRIVATE_KEY_CMD, ~/.ssh/id_ed25519,
~/.ssh/id_rsa, SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD,
<config dir>/sops/age/keys.txt), plus every -i/--identity FILE: an age
identity file or an SSH private key. An ed25519 SSH key also opens entries of
its ssh-to-age recipient. PGP, KMS, GCP KMS, Azure Key Vault and Vault keys
work through sops' key service wherever their credentials are set up.

Writes are atomic, keep the file mode, go through symbolic links, and refuse a
file that changed on disk since it was read. A file that fails is left
untouched and the others go on; the exit status is then 1. One run writes a
repository at a time: while another sopsfleet run changes it (an flock on
its top folder, whichever folder or config it runs from), updatekeys stops at
once and says so.

A removed recipient that saw a file's data key can still read the file
until the data key is rotated: whenever a recipient is removed without
--rotate, a warning says so and prints the exact 'sopsfleet updatekeys
--rotate PATH…' command, even with -q (a folder stands for its files when
every sops file in it needs rotating).

The summary lists every changed or failed file and the totals (-v: every
file; -q: failed files only); --json prints it as JSON.`,
		Example: `  # see what would change, without any key
  sopsfleet updatekeys --dry-run

  # re-encrypt everything, opening files with a host's SSH key
  sopsfleet updatekeys -i /etc/ssh/ssh_host_ed25519_key

  # new data keys for the secrets of one folder
  sopsfleet updatekeys --rotate secrets/prod`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Paths = args
			return runUpdatekeys(o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.Identities, "identity", "i", nil, "age identity file or SSH private key to open files with (repeatable)")
	f.BoolVar(&o.Rotate, "rotate", false, "give every file a new data key (all values re-encrypted)")
	f.BoolVar(&o.ApplySelector, "apply-selector", false, "with --rotate: re-encrypt values under the rule's encrypted_regex/suffix selector (fixes selector-drift)")
	f.BoolVar(&o.DryRun, "dry-run", false, "print the plan only: decrypt nothing, write nothing")
	f.BoolVar(&o.JSON, "json", false, "print the summary as JSON")
	f.IntVarP(&o.Jobs, "jobs", "j", 0, "number of files to work on at once (0: one per CPU)")
	return cmd
}

func runUpdatekeys(o *updatekeysOptions) error {
	g := o.g
	if o.ApplySelector && !o.Rotate {
		return usageErrorf("--apply-selector needs --rotate: a new selector re-encrypts every value with a new data key")
	}
	// -v/--verbose is the global flag: it also lists unchanged files,
	// ignored files and identity sources here.
	o.Verbose = o.Verbose || g.IO.Verbose
	if o.Jobs < 0 {
		return usageErrorf("-j/--jobs must be 0 (one per CPU) or more, got %d", o.Jobs)
	}
	if o.Jobs == 0 {
		o.Jobs = runtime.NumCPU()
	}
	// Each file is governed by the nearest .sops.yaml at or above its
	// folder, unless --config or SOPS_CONFIG names one for all.
	tc, err := g.treeConfigs(recipients.LoadConfig)
	if err != nil {
		return usageErr(err)
	}
	configPath, cfg := tc.Path, tc.Config
	roots := o.Paths
	if len(roots) == 0 {
		roots = []string{tc.DefaultRoot()}
	}
	for _, r := range roots {
		if _, err := os.Stat(r); err != nil {
			return usageErrorf("cannot read %q: %v", r, ukUnwrapPathErr(err))
		}
	}
	var ids *identitySource
	if !o.DryRun {
		ids = newIdentitySource(g, o.Identities, o.Verbose)
		if len(o.Identities) > 0 {
			// Files named on the command line are checked before anything
			// happens: a wrong path is a usage error.
			if _, err := ids.opener(); err != nil {
				return usageErr(err)
			}
		}
	}
	bar := newProgressBar(g.IO, 0, "files")
	if ids != nil {
		ids.bar = bar
	}
	opts := rekey.Options{
		Config:     cfg,
		ConfigPath: configPath,
		Configs:    tc.PerFile(),
		Rotate:     o.Rotate,
		DryRun:     o.DryRun,
		Jobs:       o.Jobs,
		Progress:   func(done, total int, r *rekey.Result) { bar.SetOf(done, total) },
	}
	opts.ApplySelector = o.ApplySelector
	if ids != nil {
		opts.Opener = ids.opener
	}
	// On Ctrl-C the files already staged are not written and their
	// temporary files removed (or, once the renames have begun, the renames
	// stop between files); the others are skipped and reported. A second
	// Ctrl-C stops at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	defer tuneGC(g.IO.Getenv)()
	// A symbolic link to a file outside the repository is never written
	// through: a one-line link in a pull request must not make updatekeys
	// re-encrypt a file elsewhere on the machine.
	treeRoot := sopsfile.TreeRoot(tc.DefaultRoot())
	run, err := rekey.RunTree(ctx, roots, sopsfile.DiscoverOptions{Jobs: o.Jobs, Root: treeRoot}, opts)
	bar.Done()
	if err != nil {
		return failErr(err)
	}
	results := run.Results
	warnSkippedLinks(g, treeRoot, run.Tree.SkippedLinks)
	sayLeftovers(g.IO, run.Leftovers)
	for _, p := range run.ReadOnly {
		g.IO.Warnf("%s is read-only: it is replaced anyway, keeping its mode", ukDisplayPath(p))
	}
	named := map[string]bool{}
	for _, r := range o.Paths {
		if st, err := os.Stat(r); err == nil && !st.IsDir() {
			named[filepath.Clean(r)] = true
		}
	}
	for _, p := range run.Ignored {
		switch {
		case named[filepath.Clean(p)]:
			g.IO.Warnf("%s is not a sops-encrypted file: skipped", ukDisplayPath(p))
		case o.Verbose:
			g.IO.Infof("ignored %s (not sops-encrypted)", ukDisplayPath(p))
		}
	}
	if len(results) == 0 {
		if o.JSON {
			return writeUpdatekeysJSON(g, configPath, o, nil)
		}
		g.IO.Infof("no sops-encrypted files found under %s", strings.Join(ukQuoteAll(roots), ", "))
		return nil
	}
	if o.Verbose && !o.DryRun {
		g.IO.Verbosef("%d fsyncs and %d syncfs for %d files written", run.Syncs-run.SyncFS, run.SyncFS, rekey.Totals(results)[rekey.StatusUpdated]+rekey.Totals(results)[rekey.StatusRotated])
	}
	if o.JSON {
		if err := writeUpdatekeysJSON(g, configPath, o, results); err != nil {
			return err
		}
	} else {
		printUpdatekeysSummary(g, results, o.Verbose)
	}
	if !o.Rotate && !o.DryRun {
		warnUnrotated(g, cfg, results, roots)
	}
	return finishUpdatekeys(g, results, ids)
}

// warnUnrotated warns, even with -q, about files that lost recipients
// without a new data key: the removed recipients still hold it. It gives
// the exact command that rotates them: the files, or their folders where
// a folder holds no other sops file (roots are the folders searched).
func warnUnrotated(g *globalOptions, cfg *recipients.Config, results []rekey.Result, roots []string) {
	var paths, who, found []string
	shares := 0
	seen := map[string]bool{}
	for _, r := range results {
		found = append(found, r.Path)
		if r.Status != rekey.StatusUpdated || len(r.Removed) == 0 {
			continue
		}
		paths = append(paths, r.Path)
		if r.RemovedShares > 0 {
			shares++
		}
		for _, c := range r.Removed {
			if l := ukChangeLabel(c); !seen[l] {
				seen[l] = true
				who = append(who, l)
			}
		}
	}
	if len(paths) == 0 {
		return
	}
	verb := "still holds"
	if len(who) > 1 {
		verb = "still hold"
	}
	warnRotate(g.IO, g.rotateConfig(), "the removed "+ukPlural(len(who), "recipient ", "recipients ")+strings.Join(who, ", "), verb, paths, shares, found, roots)
}

// finishUpdatekeys prints the closing error and hints and returns the exit.
func finishUpdatekeys(g *globalOptions, results []rekey.Result, ids *identitySource) error {
	t := rekey.Totals(results)
	if t[rekey.StatusFailed] == 0 {
		return nil
	}
	interrupted := 0
	for _, r := range results {
		if errors.Is(r.Err, rekey.ErrInterrupted) {
			interrupted++
		}
	}
	if failed := t[rekey.StatusFailed] - interrupted; failed > 0 {
		g.IO.Errorf("%d of %d files failed and were left untouched", failed, len(results))
	}
	if interrupted > 0 {
		g.IO.Errorf("interrupted: %d of %d files were not written (each is whole, as it was); run the same command again to finish", interrupted, len(results))
	}
	noIdentity := false
	var kinds []recipients.Kind
	for _, r := range results {
		if errors.Is(r.Err, sopsfile.ErrNoIdentity) {
			noIdentity = true
			kinds = addKinds(kinds, r.Err)
		}
	}
	if noIdentity && ids != nil {
		ids.explain(kinds)
	}
	return errFindings
}

// identitySource loads identities once, on first need.
type identitySource struct {
	g       *globalOptions
	files   []string
	verbose bool
	bar     *progressBar
	once    sync.Once
	op      *sopsfile.Opener
	ids     *recipients.Identities
	err     error
}

func newIdentitySource(g *globalOptions, files []string, verbose bool) *identitySource {
	return &identitySource{g: g, files: files, verbose: verbose}
}

func (s *identitySource) opener() (*sopsfile.Opener, error) {
	s.once.Do(func() {
		s.ids, s.err = recipients.LoadIdentities(recipients.IdentityOptions{
			Getenv:     s.g.IO.Getenv,
			Files:      s.files,
			Passphrase: s.passphrase,
			PluginMessage: func(plugin, msg string) {
				s.bar.Pause()
				s.g.IO.Infof("age-plugin-%s: %s", plugin, msg)
			},
		})
		if s.err != nil {
			return
		}
		for _, p := range s.ids.Problems {
			s.bar.Pause()
			s.g.IO.Warnf("%v", p)
		}
		if s.verbose {
			for _, src := range s.ids.Sources {
				s.bar.Pause()
				s.g.IO.Infof("identity: %s", src)
			}
		}
		s.op = sopsfile.NewOpener(s.ids.Age)
	})
	return s.op, s.err
}

func (s *identitySource) passphrase(prompt string) ([]byte, error) {
	if !s.g.IO.InTTY && !s.g.IO.ErrTTY || s.g.IO.ReadPassword == nil {
		return nil, recipients.ErrPassphraseNeeded
	}
	s.bar.Pause()
	fmt.Fprintf(s.g.IO.ErrOut, "%s: %s", progName, prompt)
	p, err := s.g.IO.ReadPassword()
	fmt.Fprintln(s.g.IO.ErrOut)
	return p, err
}

// addKinds adds the recipient kinds of a NoIdentityError to kinds.
func addKinds(kinds []recipients.Kind, err error) []recipients.Kind {
	var ne *sopsfile.NoIdentityError
	if !errors.As(err, &ne) {
		return kinds
	}
	for _, k := range ne.Kinds {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// kindHints are the key sources that open recipients of each kind other
// than age X25519.
var kindHints = map[recipients.Kind]string{
	recipients.KindSSH:       "native ssh recipients open with the SSH private key itself (SOPS_AGE_SSH_PRIVATE_KEY_FILE, ~/.ssh/id_ed25519, -i FILE), not with its age conversion",
	recipients.KindAgePlugin: "age plugin recipients need age-plugin-NAME on PATH and the plugin identity (AGE-PLUGIN-…) in SOPS_AGE_KEY_FILE, keys.txt or -i FILE",
	recipients.KindAgePQ:     "post-quantum recipients open with their AGE-SECRET-KEY-PQ-… identity in SOPS_AGE_KEY_FILE, keys.txt or -i FILE",
	recipients.KindPGP:       "pgp keys open through gpg: the secret key must be in the keyring (gpg --list-secret-keys; GNUPGHOME)",
	recipients.KindKMS:       "aws kms keys need AWS credentials (AWS_PROFILE, ~/.aws/credentials or the environment)",
	recipients.KindGCPKMS:    "gcp kms keys need Google credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login)",
	recipients.KindAzureKV:   "azure key vault keys need Azure credentials (az login, or AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET)",
	recipients.KindVault:     "vault transit keys need VAULT_ADDR and a token (VAULT_TOKEN or ~/.vault-token)",
	recipients.KindHCKMS:     "hckms keys need HuaweiCloud credentials (HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK)",
}

// explain tells why no identity opened a file, once at the end, with a
// hint for each kind of recipient the failed files have.
func (s *identitySource) explain(kinds []recipients.Kind) {
	if s.ids == nil {
		return
	}
	for _, k := range kinds {
		if h := kindHints[k]; h != "" {
			s.g.IO.Hintf("%s", h)
		}
	}
	if len(kinds) > 0 && !slices.Contains(kinds, recipients.KindAge) && !slices.Contains(kinds, recipients.KindSSH) &&
		!slices.Contains(kinds, recipients.KindAgePlugin) && !slices.Contains(kinds, recipients.KindAgePQ) {
		return // no age recipient: age key files do not matter
	}
	if s.ids.Count() == 0 {
		s.g.IO.Hintf("no age identity was found: set SOPS_AGE_KEY_FILE, put keys in ~/.config/sops/age/keys.txt, or pass -i/--identity FILE (an age key file or an SSH private key)")
		return
	}
	s.g.IO.Hintf("%d identities were loaded from %s; none opens the failed files (-v lists the sources)", s.ids.Count(), ukSourceNames(s.ids.Sources))
}

func ukSourceNames(sources []string) string {
	var names []string
	for _, s := range sources {
		if i := strings.LastIndex(s, ": "); i > 0 {
			s = s[:i]
		}
		names = append(names, s)
	}
	if len(names) > 3 {
		names = append(names[:3], "…")
	}
	return strings.Join(names, ", ")
}

// printUpdatekeysSummary prints one line per changed or failed file (every
// file with verbose) and the totals, on stdout.
//
// With -q only failed files are listed, and no totals.
func printUpdatekeysSummary(g *globalOptions, results []rekey.Result, verbose bool) {
	st := styles(g.IO.OutColor())
	quiet := g.IO.Quiet
	if quiet {
		verbose = false
	}
	width := 0
	show := func(r rekey.Result) bool {
		if errors.Is(r.Err, rekey.ErrInterrupted) {
			return false // counted once by finishUpdatekeys, not listed
		}
		if quiet {
			return r.Status == rekey.StatusFailed
		}
		return ukShow(r, verbose)
	}
	for _, r := range results {
		if show(r) {
			width = max(width, len([]rune(ukDisplayPath(r.Path))))
		}
	}
	// One write per 64 KiB, not per line: -v lists every file, and a
	// write(2) per line was a third of a no-op run over 10,000 files.
	out := bufio.NewWriterSize(g.IO.Out, 64<<10)
	defer out.Flush()
	for _, r := range results {
		if !show(r) {
			continue
		}
		path := ukDisplayPath(r.Path)
		pad := strings.Repeat(" ", width-len([]rune(path)))
		fmt.Fprintf(out, "%s%s  %s\n", path, pad, ukDescribeResult(st, r))
	}
	if !quiet {
		fmt.Fprintln(out, ukTotalsLine(results))
	}
}

func ukShow(r rekey.Result, verbose bool) bool {
	return verbose || r.Status != rekey.StatusUnchanged
}

// describeResult is "updated (+2 −1)  +web3 −old-laptop", "rotated",
// "unchanged", "failed: reason", or "would update …" for a dry run.
func ukDescribeResult(st *Styles, r rekey.Result) string {
	var b strings.Builder
	switch r.Status {
	case rekey.StatusFailed:
		return st.Bad.Render("failed: " + ukReason(r.Path, r.Error))
	case rekey.StatusUnchanged:
		return "unchanged"
	}
	if r.DryRun {
		b.WriteString("would ")
		if r.Status == rekey.StatusRotated {
			b.WriteString("rotate")
		} else {
			b.WriteString("update")
		}
	} else {
		b.WriteString(string(r.Status))
	}
	if r.Status == rekey.StatusUpdated || len(r.Added)+len(r.Removed) > 0 {
		fmt.Fprintf(&b, " (+%d −%d)", len(r.Added), len(r.Removed))
	}
	var details []string
	for _, c := range r.Added {
		details = append(details, st.Added.Render("+"+ukChangeLabel(c)))
	}
	for _, c := range r.Removed {
		details = append(details, st.Removed.Render("−"+ukChangeLabel(c)))
	}
	if r.ThresholdFrom != r.ThresholdTo {
		details = append(details, fmt.Sprintf("shamir_threshold %d→%d", r.ThresholdFrom, r.ThresholdTo))
	}
	if r.AllStanzasChanged && r.Status == rekey.StatusUpdated {
		details = append(details, "(key groups re-split: all entries changed)")
	}
	if len(details) > 0 {
		b.WriteString("  ")
		b.WriteString(strings.Join(details, " "))
	}
	return b.String()
}

func ukChangeLabel(c rekey.Change) string {
	if c.Name != "" {
		return c.Name
	}
	id := c.Key
	if c.Type == recipients.TypeAge && len(id) > 20 && strings.HasPrefix(id, "age1") {
		id = id[:12] + "…" + id[len(id)-6:]
	}
	if c.Type != recipients.TypeAge {
		return string(c.Type) + ":" + id
	}
	return id
}

func ukTotalsLine(results []rekey.Result) string {
	t := rekey.Totals(results)
	dry := len(results) > 0 && ukAnyDry(results)
	updated, rotated := "updated", "rotated"
	if dry {
		updated, rotated = "to update", "to rotate"
	}
	return fmt.Sprintf("%d %s: %d %s, %d %s, %d unchanged, %d failed",
		len(results), ukPlural(len(results), "file", "files"),
		t[rekey.StatusUpdated], updated, t[rekey.StatusRotated], rotated,
		t[rekey.StatusUnchanged], t[rekey.StatusFailed])
}

func ukAnyDry(results []rekey.Result) bool {
	for _, r := range results {
		if r.DryRun {
			return true
		}
	}
	return false
}

func ukPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// updatekeysJSON is the --json output.
type updatekeysJSON struct {
	Config string         `json:"config"` // found from the working directory, or --config
	DryRun bool           `json:"dry_run"`
	Rotate bool           `json:"rotate"`
	Files  []rekey.Result `json:"files"`
	Totals map[string]int `json:"totals"`
	// ConfigDiff is the diff of .sops.yaml of a recipients add/remove/
	// replace --dry-run --json.
	ConfigDiff string `json:"config_diff,omitempty"`
}

func writeUpdatekeysJSON(g *globalOptions, configPath string, o *updatekeysOptions, results []rekey.Result) error {
	return writeResultsJSON(g, updatekeysJSON{Config: configPath, DryRun: o.DryRun, Rotate: o.Rotate}, results)
}

// writeResultsJSON writes head with the files and totals of results: the
// JSON of updatekeys --json, also printed by recipients add/remove/replace
// --json.
func writeResultsJSON(g *globalOptions, out updatekeysJSON, results []rekey.Result) error {
	t := rekey.Totals(results)
	if out.Config != "" {
		out.Config = ukDisplayPath(out.Config)
	}
	out.Files = make([]rekey.Result, len(results))
	out.Totals = map[string]int{
		"files":     len(results),
		"updated":   t[rekey.StatusUpdated],
		"rotated":   t[rekey.StatusRotated],
		"unchanged": t[rekey.StatusUnchanged],
		"failed":    t[rekey.StatusFailed],
	}
	for i, r := range results {
		r.Path = ukDisplayPath(r.Path)
		if r.Config != "" {
			r.Config = ukDisplayPath(r.Config)
		}
		out.Files[i] = r
	}
	enc := json.NewEncoder(g.IO.Out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // a diff's "&anchor" stays readable
	return enc.Encode(out)
}

// displayPath shows p relative to the working directory when it is below it.
func ukDisplayPath(p string) string {
	wd, err := workDir()
	if err != nil {
		return p
	}
	abs := p
	if !filepath.IsAbs(p) {
		abs = filepath.Join(wd, p)
	}
	rel, err := filepath.Rel(wd, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return p
	}
	return rel
}

// workDir is os.Getwd, asked again only when $PWD changes: os.Getwd stats
// two folders per call, and a summary of 10,000 files shows 10,000 paths
// (a seventh of a no-op -v run). The process itself never changes folder;
// a test that does (t.Chdir) sets $PWD.
func workDir() (string, error) {
	pwd := os.Getenv("PWD")
	wdCache.Lock()
	defer wdCache.Unlock()
	if wdCache.ok && wdCache.pwd == pwd {
		return wdCache.wd, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	wdCache.pwd, wdCache.wd, wdCache.ok = pwd, wd, true
	return wd, nil
}

var wdCache struct {
	sync.Mutex
	pwd, wd string
	ok      bool
}

func ukQuoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

func ukUnwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
