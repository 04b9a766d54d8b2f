package cli

// Onboarding and retirement in one command: recipients add/remove hand the
// edit of .sops.yaml to rekey.PlanChange (which files, what each needs),
// Prepare (every new file built and checked in memory; nothing written if
// one fails) and Apply (the files, then .sops.yaml last). This file only
// renders what the library decided.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sopsfleet/sopsfleet/audit"
	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
	"github.com/sopsfleet/sopsfleet/rekey"
)

// configChange is what add/remove hand to runConfigChange besides the edit.
type configChange struct {
	Removed []recipients.Key // keys removed (remove); nil for add
	Rotate  bool             // rotate the data keys of the changed files
	Force   bool             // --force: allow removing your own key
	// Replacements maps a removed key to its new key (replace).
	Replacements map[recipients.Key]recipients.Key
	// Also are the other .sops.yaml files edited with the first (remove:
	// every config of the tree that lists the key), written last too.
	Also []otherEdit
}

// otherEdit is the edit of a further config, with the config it edits.
type otherEdit struct {
	*recipients.Edit
	Config *recipients.Config
}

// alsoEdits are ch.Also for rekey.ChangeOptions.
func (ch *configChange) alsoEdits() []rekey.ConfigEdit {
	if ch == nil {
		return nil
	}
	var out []rekey.ConfigEdit
	for _, e := range ch.Also {
		out = append(out, rekey.ConfigEdit{Path: e.Path, Old: e.Old, New: e.New})
	}
	return out
}

// printAlsoDiffs prints the diff of every further config a dry run would
// write.
func printAlsoDiffs(w io.Writer, color bool, ch *configChange) error {
	for _, e := range ch.Also {
		if _, err := fmt.Fprint(w, unifiedDiff(e.Old, e.New, ukDisplayPath(e.Path), color)); err != nil {
			return err
		}
	}
	return nil
}

// runConfigChange shows (dry run) or carries out a verified edit of
// .sops.yaml together with the encrypted files it affects.
func runConfigChange(g *globalOptions, ed *recipients.Edit, o *editOutput, ch *configChange) error {
	ios := g.IO
	// Ctrl-C or SIGTERM stop between files (nothing half-done, temporary
	// files removed); a second one stops at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	ids := newIdentitySource(g, o.Identities, false)
	var loaded *sopsfile.Opener
	if len(o.Identities) > 0 && !o.DryRun {
		op, err := ids.opener()
		if err != nil {
			return usageErr(err)
		}
		loaded = op
	}
	changed := 0
	var bar *progressBar
	plan, err := rekey.PlanChange(ctx, rekey.ChangeOptions{
		Prepared:     func(done, total int, f *rekey.ChangeFile) { bar.Set(done) },
		ConfigPath:   ed.Path,
		Old:          ed.Old,
		New:          ed.New,
		Removed:      ch.Removed,
		Replacements: ch.Replacements,
		Rotate:       ch.Rotate,
		Jobs:         o.Jobs,
		Opener:       ids.opener,
		Force:        ch.Force,
		Loaded:       loaded,
		Also:         ch.alsoEdits(),
		Nearest:      !g.fixedConfig(),
	})
	if err != nil && ctx.Err() != nil {
		// Interrupted while the tree was walked: nothing was touched.
		ios.Errorf("interrupted: nothing was written")
		ios.Hintf("to make the change, run the same command again: %s", o.Rerun)
		return errFindings
	}
	if err != nil {
		return failErr(err)
	}
	ios.Infof("looking for encrypted files in %s (the %s)", plan.Root, plan.RootKind)
	for _, s := range plan.Skipped {
		if s.Target != "" {
			ios.Warnf("%s: skipped: %s (%s)", ukDisplayPath(s.Path), s.Reason, s.Target)
		} else {
			ios.Warnf("%s: skipped: %s", ukDisplayPath(s.Path), s.Reason)
		}
	}
	name := filepath.Base(ed.Path)
	if o.DryRun {
		w, color := diffOutput(ios, o)
		if _, err := fmt.Fprint(w, unifiedDiff(ed.Old, ed.New, name, color)); err != nil {
			return failErr(err)
		}
		if err := printAlsoDiffs(w, color, ch); err != nil {
			return failErr(err)
		}
		if err := printChangeResults(g, o, ed.Path, plan.Rotate, replacedLabels(plan.Results(), ch), diffText(w)); err != nil {
			return failErr(err)
		}
		warnNoRule(g, plan)
		warnExposed(g, plan, true, loaded)
		if failed := plan.Failed(); len(failed) > 0 {
			printCannotChange(g, ed.Path, failed, len(plan.Files), ids)
			return errFindings
		}
		ios.Infof("dry run: %s not written", ed.Path)
		return nil
	}

	// Temporary files never survive: removed on every way out (a no-op
	// once applied).
	defer plan.Abort()
	for _, f := range plan.Files {
		if f.Status != rekey.StatusUnchanged && f.Status != rekey.StatusFailed {
			changed++
		}
	}
	// Set before Prepare starts its workers, which read it.
	bar = newProgressBar(ios, changed, "files prepared")
	ids.bar = bar
	err = plan.Prepare(ctx)
	bar.Done()
	sayLeftovers(ios, plan.Leftovers)
	if err != nil {
		var ce *rekey.ChangeError
		var se *rekey.SelfRemovalError
		switch {
		case errors.As(err, &ce):
			printCannotChange(g, ed.Path, ce.Failed, ce.Total, ids)
			return errFindings
		case errors.As(err, &se):
			who := make([]string, len(se.Keys))
			for i, k := range se.Keys {
				who[i] = ukChangeLabel(rekey.Change{Type: k.Type, Key: k.ID, Name: plan.Old.NameOf(k)})
			}
			ios.Errorf("you are removing yourself: this run's identities hold the key of %s, so nothing was changed", strings.Join(who, ", "))
			if len(se.Only) > 0 {
				fmt.Fprintf(ios.ErrOut, "  only that key of yours opens %d %s: %s\n", len(se.Only), ukPlural(len(se.Only), "file", "files"), ukListPaths(se.Only, 20))
			}
			ios.Hintf("run again with --force to remove it anyway (afterwards your identities may no longer open these files)")
			return errFindings
		case ctx.Err() != nil:
			ios.Errorf("interrupted: nothing was written")
			ios.Hintf("to make the change, run the same command again: %s", o.Rerun)
			return errFindings
		}
		return failErr(err)
	}
	for _, f := range plan.Files {
		if f.ReadOnly {
			ios.Warnf("%s is read-only: it is replaced anyway, keeping its mode", ukDisplayPath(f.Path))
		}
	}
	bar = newProgressBar(ios, changed, "files written")
	ids.bar = bar
	err = plan.Apply(ctx, func(done, total int, f *rekey.ChangeFile) { bar.Set(done) })
	bar.Done()
	// An apply that stopped before its first write has no results to list;
	// "no encrypted file is affected" would be wrong: the closing error says
	// what happened.
	if res := applied(plan.Results()); err == nil || len(res) > 0 || o.JSON {
		if perr := printChangeResults(g, o, ed.Path, plan.Rotate, replacedLabels(res, ch), ""); perr != nil && err == nil {
			err = failErr(perr)
		}
	}
	if err != nil {
		var ae *rekey.ApplyError
		if !errors.As(err, &ae) {
			return failErr(err)
		}
		ios.Errorf("%s", applyErrorMessage(ae))
		warnAlways(ios, "the change is not finished: run the same command again to finish it: %s", o.Rerun)
		return errFindings
	}
	warnNoRule(g, plan)
	warnExposed(g, plan, false, loaded)
	return nil
}

// applied drops the "not written" failures of an apply that stopped: the
// closing error says how many files were written and how to finish.
func applied(results []rekey.Result) []rekey.Result {
	out := results[:0:0]
	for _, r := range results {
		if r.Status == rekey.StatusFailed {
			continue
		}
		out = append(out, r)
	}
	return out
}

// replacedLabels tells a replaced key from its replacement in a summary,
// where both carry the recipient's name: "+web2 (new key) −web2 (old
// key)". The results are copied, not changed.
func replacedLabels(results []rekey.Result, ch *configChange) []rekey.Result {
	if len(ch.Replacements) == 0 {
		return results
	}
	olds, news := map[string]bool{}, map[string]bool{}
	for o, n := range ch.Replacements {
		olds[o.ID], news[n.ID] = true, true
	}
	relabel := func(cs []rekey.Change, ids map[string]bool, what string) []rekey.Change {
		out := make([]rekey.Change, len(cs))
		for i, c := range cs {
			if ids[c.Key] && c.Name != "" {
				c.Name += " (" + what + ")"
			}
			out[i] = c
		}
		return out
	}
	out := make([]rekey.Result, len(results))
	for i, r := range results {
		r.Added = relabel(r.Added, news, "new key")
		r.Removed = relabel(r.Removed, olds, "old key")
		out[i] = r
	}
	return out
}

// printCannotChange lists every file a change cannot handle.
func printCannotChange(g *globalOptions, configPath string, failed []*rekey.ChangeFile, total int, ids *identitySource) {
	g.IO.Errorf("cannot update %d of the %d affected %s, so nothing was changed:",
		len(failed), total, ukPlural(total, "file", "files"))
	noIdentity := false
	var kinds []recipients.Kind
	for _, f := range failed {
		fmt.Fprintf(g.IO.ErrOut, "  %s: %s\n", ukDisplayPath(f.Path), ukReason(f.Path, f.Error))
		if errors.Is(f.Err, sopsfile.ErrNoIdentity) {
			noIdentity = true
			kinds = addKinds(kinds, f.Err)
		}
	}
	if noIdentity {
		ids.explain(kinds)
		g.IO.Hintf("use --no-updatekeys to edit %s only, and run 'sopsfleet updatekeys' where the keys are", filepath.Base(configPath))
	}
}

// warnNoRule names the files no creation rule matches: they lose the
// removed key but keep their other recipients.
func warnNoRule(g *globalOptions, plan *rekey.ChangePlan) {
	for _, f := range plan.NoRule() {
		where := "no creation rule matches it"
		switch {
		case f.Governor != "":
			where = "it is governed by " + ukDisplayPath(f.Governor) + ", which does not change"
		case f.Outside:
			where = "it is outside the folder of " + filepath.Base(plan.ConfigPath)
		}
		warnAlways(g.IO, "%s: %s: only the removed key is dropped, its other recipients are kept", ukDisplayPath(f.Path), where)
	}
}

// warnExposed prints, for a removal (or a replacement), what the removed
// keys could read: every old git revision stays readable to them, so the
// secret values themselves should be changed (names only, never values);
// and, without rotation, the exact command that takes the data keys away
// from them. In a git repository the history is walked
// ([audit.ExposureOfKeys], keyless unless op holds identities): how many
// files and commits, and the names still exposed; files not in the history
// (or a tree without one) are listed with today's names. These warnings
// are printed even with -q.
func warnExposed(g *globalOptions, plan *rekey.ChangePlan, dry bool, op *sopsfile.Opener) {
	all := plan.Exposed()
	if len(plan.Removed) == 0 || len(all) == 0 {
		return
	}
	who := make([]string, len(plan.Removed))
	for i, k := range plan.Removed {
		who[i] = ukChangeLabel(rekey.Change{Type: k.Type, Key: k.ID, Name: plan.Old.NameOf(k)})
	}
	// A Shamir file is readable by the removed keys only when they alone
	// met its threshold; else they held shares of its data key.
	var exposed, shares []*rekey.ChangeFile
	for _, f := range all {
		if f.SharesHeld > 0 {
			shares = append(shares, f)
		} else {
			exposed = append(exposed, f)
		}
	}
	for _, f := range shares {
		warnAlways(g.IO, "%s: %s held %s of the data key (%d of the key groups are needed): not enough to decrypt it alone, but with the other shares' holders it is",
			ukDisplayPath(f.Path), strings.Join(who, ", "), ukPlural(f.SharesHeld, "one share", fmt.Sprintf("%d shares", f.SharesHeld)), f.Threshold)
	}
	hist, repoDir := historyExposure(plan, op)
	if hist != nil {
		inHistory := map[string]bool{}
		for _, fe := range hist.Files {
			inHistory[fe.Path] = true
		}
		var extra []*rekey.ChangeFile
		for _, f := range exposed {
			// A file whose rule listed the key but whose metadata does
			// not hold it is not readable to it now.
			if len(f.Holds) > 0 && !inHistory[repoRel(repoDir, f.Path)] {
				extra = append(extra, f)
			}
		}
		if len(hist.Files) == 0 && len(extra) > 0 {
			warnAlways(g.IO, "%s could read no file in the git history (%d %s walked), but can decrypt %d %s as %s now (not in the history): change these secret values themselves",
				strings.Join(who, ", "), hist.Commits, ukPlural(hist.Commits, "commit", "commits"), len(extra), ukPlural(len(extra), "file", "files"), ukPlural(len(extra), "it is", "they are"))
			if !g.IO.Quiet {
				printExposedNames(g, extra, "  ")
			}
		}
		if len(hist.Files) > 0 {
			warnAlways(g.IO, "%s could read %d %s in the git history (%d %s walked): change the secret values still exposed",
				strings.Join(who, ", "), len(hist.Files), ukPlural(len(hist.Files), "file", "files"), hist.Commits, ukPlural(hist.Commits, "commit", "commits"))
		}
		if !g.IO.Quiet && len(hist.Files) > 0 {
			for _, fe := range hist.Files {
				var still []string
				unknown := 0
				for _, s := range fe.Secrets {
					switch s.Status {
					case audit.StillExposed:
						still = append(still, s.Name)
					case audit.Unknown:
						unknown++
					}
				}
				line := fmt.Sprintf("  %s (%d %s): ", fe.Path, fe.Revisions, ukPlural(fe.Revisions, "revision", "revisions"))
				switch {
				case len(still) > 0:
					line += "still exposed: " + strings.Join(still, ", ")
				case fe.Current == "deleted":
					line += "deleted since"
				default:
					line += "none still exposed"
				}
				if unknown > 0 {
					line += fmt.Sprintf("; %d unknown (an identity that opens the file can tell: -i)", unknown)
				}
				fmt.Fprintln(g.IO.ErrOut, line)
			}
			if len(extra) > 0 {
				fmt.Fprintf(g.IO.ErrOut, "  not in the history, readable as they are now:\n")
				printExposedNames(g, extra, "    ")
			}
		}
	} else if len(exposed) > 0 {
		// No history could be walked (not a git work tree): every earlier
		// copy is as readable, wherever it is.
		warnAlways(g.IO, "%s can still decrypt every earlier copy of %d %s (git history, backups): change these secret values themselves",
			strings.Join(who, ", "), len(exposed), ukPlural(len(exposed), "file", "files"))
		if !g.IO.Quiet {
			printExposedNames(g, exposed, "  ")
		}
	}
	if plan.Rotate {
		return
	}
	var paths []string
	shareOnly := 0
	for _, f := range plan.Unrotated() {
		paths = append(paths, f.Path)
		if f.SharesHeld > 0 {
			shareOnly++
		}
	}
	if len(paths) == 0 {
		return
	}
	verb := "still holds"
	if dry {
		verb = "would still hold"
	}
	warnRotate(g.IO, g.rotateConfig(), strings.Join(who, ", "), verb, paths, shareOnly, plan.Found, []string{plan.Root})
}

// printExposedNames lists the secret names of files as they are today.
func printExposedNames(g *globalOptions, files []*rekey.ChangeFile, indent string) {
	for _, f := range files {
		names := f.Exposed
		switch {
		case f.NamesErr != nil:
			names = []string{"(cannot list the secret names: every value may be exposed)"}
		case len(names) == 0:
			names = []string{"(no encrypted values)"}
		}
		fmt.Fprintf(g.IO.ErrOut, "%s%s: %s\n", indent, ukDisplayPath(f.Path), strings.Join(names, ", "))
	}
}

// historyExposure walks the git history of the tree of a change for what
// its removed keys could read; nil when the tree is not a git repository
// with commits (or the walk fails: today's names are shown instead).
func historyExposure(plan *rekey.ChangePlan, op *sopsfile.Opener) (*audit.ExposureResult, string) {
	if plan.RootKind != rekey.RootGit {
		return nil, ""
	}
	repo, err := audit.OpenRepo(plan.Root)
	if err != nil {
		return nil, ""
	}
	defer repo.Close()
	res, err := audit.ExposureOfKeys(repo, plan.Removed, audit.NewNamer(plan.Old), audit.ExposureOptions{Opener: op})
	if err != nil {
		return nil, ""
	}
	return res, repo.Dir
}

// repoRel is path relative to the repository's top, with slashes (as the
// exposure report names files).
func repoRel(top, path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if real, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(real, filepath.Base(abs))
	}
	if t, err := filepath.EvalSymlinks(top); err == nil {
		top = t
	}
	rel, err := filepath.Rel(top, abs)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}

// warnRotate says that removed recipients keep the data key of files that
// were not rotated, with the exact command that rotates them.
func warnRotate(ios *IOStreams, config, who, verb string, paths []string, shares int, found, roots []string) {
	whole := len(paths) - shares
	var what string
	switch {
	case shares == 0:
		what = fmt.Sprintf("the data %s of %d %s", ukPlural(whole, "key", "keys"), whole, ukPlural(whole, "file", "files"))
	case whole == 0:
		what = fmt.Sprintf("shares of the data %s of %d %s (not enough to decrypt %s alone)", ukPlural(shares, "key", "keys"), shares, ukPlural(shares, "file", "files"), ukPlural(shares, "it", "them"))
	default:
		what = fmt.Sprintf("the data %s of %d %s and shares of the data %s of %d more (not enough to decrypt %s alone)",
			ukPlural(whole, "key", "keys"), whole, ukPlural(whole, "file", "files"), ukPlural(shares, "key", "keys"), shares, ukPlural(shares, "that one", "those"))
	}
	warnAlways(ios, "without rotation, %s %s %s: rotate %s with", who, verb, what, ukPlural(len(paths), "it", "them"))
	named := coverPaths(paths, found, roots)
	quoted := make([]string, len(named))
	for i, p := range named {
		quoted[i] = shellQuoteArg(ukDisplayPath(p))
	}
	flags := ""
	if config != "" {
		flags = " --config " + shellQuoteArg(ukDisplayPath(config))
	}
	fmt.Fprintf(ios.ErrOut, "  sopsfleet updatekeys%s --rotate %s\n", flags, strings.Join(quoted, " "))
}

// rotateConfig is the config the printed 'updatekeys --rotate' command must
// name: the one of --config or SOPS_CONFIG (the command may be run where
// neither is set, and the .sops.yaml found instead may still list the
// removed recipient: rotating under it would give them the new data keys),
// else none.
func (g *globalOptions) rotateConfig() string {
	if !g.fixedConfig() {
		return ""
	}
	p, err := g.ConfigPath()
	if err != nil {
		return ""
	}
	return p
}

// warnAlways prints a warning even with -q: for warnings about keys that
// can still read secrets, which must never be silently lost.
func warnAlways(ios *IOStreams, format string, a ...any) {
	ios.say(styles(ios.ErrColor()).Warning.Render("warning:"), format, a...)
}

// shellQuoteArg quotes s for a POSIX shell when it needs it.
func shellQuoteArg(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ':' || r == '@' || r == '=' || r == ',' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// rerunCommand spells the command being run, for "run it again to finish":
// the command path, its arguments and every flag given, shell-quoted.
func rerunCommand(cmd *cobra.Command, args []string) string {
	parts := []string{cmd.CommandPath()}
	for _, a := range args {
		parts = append(parts, shellQuoteArg(a))
	}
	visit := func(f *pflag.Flag) {
		if f.Name == "dry-run" {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				parts = append(parts, "--"+f.Name, shellQuoteArg(v))
			}
			return
		}
		if f.Value.Type() == "bool" {
			parts = append(parts, "--"+f.Name)
			return
		}
		parts = append(parts, "--"+f.Name, shellQuoteArg(f.Value.String()))
	}
	cmd.Flags().Visit(visit) // the flags given, inherited ones too, by name
	return strings.Join(parts, " ")
}

// ukReason is a file's error without a leading copy of its path, for lines
// that already start with the path (a path is said once per message).
func ukReason(path, reason string) string {
	for _, p := range []string{path, ukDisplayPath(path)} {
		for _, sep := range []string{": ", ":"} {
			if strings.HasPrefix(reason, p+sep) {
				return strings.TrimPrefix(reason, p+sep)
			}
		}
	}
	return reason
}

// ukListPaths lists paths for a message, the first max of them and then
// how many more.
func ukListPaths(ps []string, max int) string {
	shown := ukDisplayPaths(ps)
	if len(shown) > max {
		shown = append(shown[:max], fmt.Sprintf("and %d more", len(ps)-max))
	}
	return strings.Join(shown, ", ")
}

func ukDisplayPaths(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = ukDisplayPath(p)
	}
	return out
}

// writeConfigOnly writes an edit of .sops.yaml alone (--no-updatekeys, or
// rename), and says how many encrypted files now differ from it.
func writeConfigOnly(g *globalOptions, ed *recipients.Edit, o *editOutput, ch *configChange) error {
	ios := g.IO
	differ := 0
	cmd := "sopsfleet updatekeys"
	var plan *rekey.ChangePlan
	if ch != nil {
		if len(ch.Removed) > 0 {
			cmd += " --rotate"
		}
		var err error
		plan, err = rekey.PlanChange(context.Background(), rekey.ChangeOptions{ConfigPath: ed.Path, Old: ed.Old, New: ed.New, Removed: ch.Removed, Replacements: ch.Replacements, Jobs: o.Jobs,
			Also: ch.alsoEdits(), Nearest: !g.fixedConfig()})
		if err != nil {
			return failErr(err)
		}
		for _, f := range plan.Files {
			if f.Status != rekey.StatusUnchanged {
				differ++
			}
		}
	}
	name := filepath.Base(ed.Path)
	if o.DryRun {
		w, color := diffOutput(ios, o)
		if _, err := fmt.Fprint(w, unifiedDiff(ed.Old, ed.New, name, color)); err != nil {
			return failErr(err)
		}
		if o.JSON {
			defer func() {
				writeResultsJSON(g, updatekeysJSON{Config: ed.Path, DryRun: true, ConfigDiff: diffText(w)}, nil)
			}()
		}
		if ch != nil {
			if err := printAlsoDiffs(w, color, ch); err != nil {
				return failErr(err)
			}
		}
		if differ > 0 {
			ios.Hintf("%d %s would then differ from %s: '%s' would re-encrypt %s",
				differ, ukPlural(differ, "file", "files"), name, cmd, ukPlural(differ, "it", "them"))
		}
		if plan != nil {
			warnExposed(g, plan, true, nil)
		}
		ios.Infof("dry run: %s not written", ed.Path)
		return nil
	}
	// Every edited config at once: all staged (folders proven writable, each
	// checked unchanged since it was read), then renamed together.
	st := atomicfile.NewStaged(nil)
	if err := st.Stage(ed.Path, ed.New, atomicfile.Options{Expect: ed.Old}); err != nil {
		st.Abort()
		return failErr(fmt.Errorf("cannot write %s: %w", ed.Path, err))
	}
	if ch != nil {
		for _, e := range ch.Also {
			if err := st.Stage(e.Path, e.New, atomicfile.Options{Expect: e.Old}); err != nil {
				st.Abort()
				return failErr(fmt.Errorf("cannot write %s: %w", e.Path, err))
			}
		}
	}
	if err := st.Commit(context.Background(), nil); err != nil {
		return failErr(fmt.Errorf("cannot write the edited configs: %w", err))
	}
	if o.JSON {
		if err := writeResultsJSON(g, updatekeysJSON{Config: ed.Path}, nil); err != nil {
			return failErr(err)
		}
	}
	if differ > 0 {
		ios.Hintf("%d %s from %s: run '%s' to re-encrypt %s",
			differ, ukPlural(differ, "file now differs", "files now differ"), name, cmd, ukPlural(differ, "it", "them"))
	}
	if plan != nil {
		warnExposed(g, plan, false, nil)
	}
	return nil
}

// diffOutput is where a dry run's diffs of .sops.yaml go: standard output,
// or with --json a buffer that becomes the config_diff field of the JSON.
func diffOutput(ios *IOStreams, o *editOutput) (w io.Writer, color bool) {
	if o.JSON {
		return &strings.Builder{}, false
	}
	return ios.Out, ios.OutColor()
}

// diffText is what a --json run collected in diffOutput's buffer.
func diffText(w io.Writer) string {
	if b, ok := w.(*strings.Builder); ok {
		return b.String()
	}
	return ""
}

// printChangeResults prints the per-file results of a config change: the
// summary lines, or with --json the JSON of updatekeys --json with the
// diff of .sops.yaml (dry run) as config_diff.
func printChangeResults(g *globalOptions, o *editOutput, configPath string, rotate bool, results []rekey.Result, diff string) error {
	if o.JSON {
		return writeResultsJSON(g, updatekeysJSON{Config: configPath, DryRun: o.DryRun, Rotate: rotate, ConfigDiff: diff}, results)
	}
	if len(results) == 0 {
		g.IO.Infof("no encrypted file is affected")
		return nil
	}
	printUpdatekeysSummary(g, results, false)
	return nil
}

// applyErrorMessage is the error line of an apply that stopped: files that
// changed on disk are named as the user would type them, five at most.
func applyErrorMessage(ae *rekey.ApplyError) string {
	if changed := ae.Changed(); len(changed) > 0 && ae.Written == 0 {
		return fmt.Sprintf("nothing was written: %d %s changed on disk since %s read: %s", len(changed),
			ukPlural(len(changed), "file", "files"), ukPlural(len(changed), "it was", "they were"), listSome(ukDisplayPaths(changed), 5))
	}
	return ae.Error()
}

// listSome joins the first n items and counts the rest: "a, b, c and 12
// more".
func listSome(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
