package cli

// Onboarding and retirement in one command: recipients add/remove call
// prepareConfigChange before they write .sops.yaml (so that nothing is
// written when an affected file cannot be opened), and run the returned
// apply function after the write to update exactly the affected files.

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
	"github.com/sopsfleet/sopsfleet/rekey"
)

// configChange describes an edit of .sops.yaml that is about to be written.
type configChange struct {
	ConfigPath string
	Old, New   []byte           // config text before and after
	Removed    []recipients.Key // keys removed (remove); nil for add/rename
	// NoUpdatekeys: --no-updatekeys, edit the config only.
	NoUpdatekeys bool
	// Rotate: rotate data keys of affected files (remove, unless --no-rotate).
	Rotate bool
	DryRun bool
	// Identities are -i/--identity files, when the command has that flag.
	Identities []string
	// Jobs is the number of files worked on at once (0: number of CPUs).
	Jobs int
}

// affectedFile is a file whose wanted recipients differ between the old and
// the new config.
type affectedFile struct {
	Path string
	// Exposed are the names of the secrets a removed key could read (only
	// when the file holds an entry of a removed key).
	Exposed []string
	// ExposedTo are the removed keys the file was encrypted to.
	ExposedTo []recipients.Key
	// NamesErr is set when the secret names could not be listed.
	NamesErr error
}

// prepareConfigChange runs before the config is written. It finds the
// files whose wanted recipients change and checks that the loaded identities
// can open each of them; on error nothing must be written. The returned
// apply updates those files and is called after the config was written.
func prepareConfigChange(g *globalOptions, ch *configChange) (apply func() error, err error) {
	noop := func() error { return nil }
	oldCfg, err := recipients.ParseConfig(ch.ConfigPath, ch.Old)
	if err != nil {
		return nil, usageErr(err)
	}
	newCfg, err := recipients.ParseConfig(ch.ConfigPath, ch.New)
	if err != nil {
		return nil, usageErr(err)
	}
	affected, err := affectedFiles(ch, oldCfg, newCfg)
	if err != nil {
		return nil, failErr(err)
	}
	paths := make([]string, len(affected))
	for i, a := range affected {
		paths[i] = a.Path
	}
	if ch.NoUpdatekeys {
		if len(affected) > 0 {
			return func() error {
				g.IO.Hintf("%d %s from %s: run 'sopsfleet updatekeys' to re-encrypt %s",
					len(affected), ukPlural(len(affected), "file now differs", "files now differ"), filepath.Base(ch.ConfigPath), ukPlural(len(affected), "it", "them"))
				return nil
			}, nil
		}
		return noop, nil
	}
	if len(affected) == 0 {
		return func() error {
			g.IO.Infof("no encrypted file is affected")
			return nil
		}, nil
	}
	if ch.DryRun {
		results := rekey.Run(context.Background(), paths, rekey.Options{
			Config: newCfg, Rotate: ch.Rotate, DryRun: true, Jobs: ch.Jobs,
			NameSources: []*recipients.Config{oldCfg},
		})
		// Printed after the config diff, which the caller shows first.
		return func() error {
			printUpdatekeysSummary(g, results, false)
			warnExposed(g, ch, oldCfg, affected)
			return nil
		}, nil
	}

	// Before anything is written: every affected file must be openable
	// where its change needs the data key.
	ids := newIdentitySource(g, ch.Identities, false)
	if len(ch.Identities) > 0 {
		if _, err := ids.opener(); err != nil {
			return nil, usageErr(err)
		}
	}
	check := rekey.Run(context.Background(), paths, rekey.Options{
		Config: newCfg, Rotate: ch.Rotate, Verify: true, Jobs: ch.Jobs, Opener: ids.opener,
	})
	var bad []rekey.Result
	for _, r := range check {
		if r.Status == rekey.StatusFailed {
			bad = append(bad, r)
		}
	}
	if len(bad) > 0 {
		g.IO.Errorf("cannot update %d of the %d affected %s, so nothing was changed:",
			len(bad), len(check), ukPlural(len(check), "file", "files"))
		for _, r := range bad {
			fmt.Fprintf(g.IO.ErrOut, "  %s: %s\n", ukDisplayPath(r.Path), r.Error)
		}
		ids.explain()
		g.IO.Hintf("use --no-updatekeys to edit %s only, and run 'sopsfleet updatekeys' where the keys are", filepath.Base(ch.ConfigPath))
		return nil, errFindings
	}

	return func() error {
		cfg, err := recipients.LoadConfig(ch.ConfigPath)
		if err != nil {
			return failErr(err)
		}
		bar := newProgressBar(g.IO, len(paths), "files")
		ids.bar = bar
		results := rekey.Run(context.Background(), paths, rekey.Options{
			Config: cfg, ConfigPath: ch.ConfigPath, Rotate: ch.Rotate, Jobs: ch.Jobs,
			Opener:      ids.opener,
			NameSources: []*recipients.Config{oldCfg},
			Progress:    func(done, total int, r *rekey.Result) { bar.Set(done) },
		})
		bar.Done()
		printUpdatekeysSummary(g, results, false)
		warnExposed(g, ch, oldCfg, affected)
		return finishUpdatekeys(g, results, ids)
	}, nil
}

// affectedFiles returns the encrypted files under the config's folder whose
// wanted key groups (or threshold) differ between the two configs, with the
// names of the secrets that removed keys could read.
func affectedFiles(ch *configChange, oldCfg, newCfg *recipients.Config) ([]affectedFile, error) {
	found, _, err := sopsfile.DiscoverParsed([]string{filepath.Dir(ch.ConfigPath)}, ch.Jobs)
	if err != nil {
		return nil, err
	}
	removed := map[recipients.Key]bool{}
	for _, k := range ch.Removed {
		removed[k] = true
	}
	var out []affectedFile
	for _, fd := range found {
		p := fd.Path
		oldRule, oerr := oldCfg.RuleFor(p)
		newRule, nerr := newCfg.RuleFor(p)
		if oerr != nil && nerr != nil {
			continue
		}
		if oerr == nil && nerr == nil && sameWanted(oldRule, newRule) {
			continue
		}
		a := affectedFile{Path: p}
		// A file whose metadata cannot be read is still affected: updating
		// it reports why it fails.
		if len(removed) > 0 && fd.File != nil {
			seen := map[recipients.Key]bool{}
			for _, g := range fd.File.Groups {
				for _, s := range g {
					if removed[s.Key] && !seen[s.Key] {
						seen[s.Key] = true
						a.ExposedTo = append(a.ExposedTo, s.Key)
					}
				}
			}
			if len(a.ExposedTo) > 0 {
				// Names only; when sops cannot list them, the file is
				// still named in the warning.
				a.Exposed, a.NamesErr = sopsfile.SecretNames(fd.File, fd.Data)
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// sameWanted reports whether two rules want the same key groups (compared
// as sops compares them: by key, ignoring order) and the same threshold.
func sameWanted(a, b *recipients.Rule) bool {
	if len(a.Groups) != len(b.Groups) {
		return false
	}
	if rekey.EffectiveThreshold(a.ShamirThreshold, len(a.Groups)) != rekey.EffectiveThreshold(b.ShamirThreshold, len(b.Groups)) {
		return false
	}
	for i := range a.Groups {
		if !sameKeys(a.Groups[i], b.Groups[i]) {
			return false
		}
	}
	return true
}

func sameKeys(a, b recipients.Group) bool {
	set := func(g recipients.Group) map[recipients.Key]bool {
		m := map[recipients.Key]bool{}
		for _, mem := range g.Members {
			m[mem.Key] = true
		}
		return m
	}
	sa, sb := set(a), set(b)
	if len(sa) != len(sb) {
		return false
	}
	for k := range sa {
		if !sb[k] {
			return false
		}
	}
	return true
}

// warnExposed prints, after a removal, what the removed keys could read:
// every old git revision stays readable to them, so the secret values
// themselves should be changed. Names only, never values.
func warnExposed(g *globalOptions, ch *configChange, oldCfg *recipients.Config, affected []affectedFile) {
	var exposed []affectedFile
	for _, a := range affected {
		if len(a.ExposedTo) > 0 {
			exposed = append(exposed, a)
		}
	}
	if len(ch.Removed) == 0 || len(exposed) == 0 {
		return
	}
	sort.Slice(exposed, func(i, j int) bool { return exposed[i].Path < exposed[j].Path })
	who := make([]string, len(ch.Removed))
	for i, k := range ch.Removed {
		who[i] = ukChangeLabel(rekey.Change{Type: k.Type, Key: k.ID, Name: oldCfg.NameOf(k)})
	}
	g.IO.Warnf("%s can still decrypt every old git revision of %d %s: change these secret values themselves",
		strings.Join(who, ", "), len(exposed), ukPlural(len(exposed), "file", "files"))
	if !g.IO.Quiet {
		for _, a := range exposed {
			names := a.Exposed
			switch {
			case a.NamesErr != nil:
				names = []string{"(cannot list the secret names: every value may be exposed)"}
			case len(names) == 0:
				names = []string{"(no encrypted values)"}
			}
			fmt.Fprintf(g.IO.ErrOut, "  %s: %s\n", ukDisplayPath(a.Path), strings.Join(names, ", "))
		}
	}
	if !ch.Rotate {
		g.IO.Warnf("without rotation, the current %s also keep the data %s it has seen: run 'sopsfleet updatekeys --rotate' on %s",
			ukPlural(len(exposed), "file", "files"), ukPlural(len(exposed), "key", "keys"), ukPlural(len(exposed), "it", "them"))
	}
}
