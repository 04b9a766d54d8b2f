package rekey

// A config change — a recipient added to or removed from .sops.yaml — as
// one all-or-nothing operation: plan (from metadata alone), prepare (every
// new file text built and checked in memory, nothing written), apply (the
// files, then .sops.yaml last).

import (
	"github.com/sopsfleet/sopsfleet/audit"

	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// ChangeOptions describe an edit of .sops.yaml for [PlanChange].
type ChangeOptions struct {
	// ConfigPath is the .sops.yaml being edited.
	ConfigPath string
	// Old and New are its text before and after the edit. Old must be what
	// is on disk: [ChangePlan.Apply] writes New only if it still is.
	Old, New []byte
	// Removed are the keys the edit removes (nil for an addition). Every
	// sops file of the tree whose metadata holds one of them loses it.
	Removed []recipients.Key
	// Replacements maps a removed key to the key taking its place
	// (recipients replace): a file no rule governs gets it where it loses
	// the removed key.
	Replacements map[recipients.Key]recipients.Key
	// Rotate gives every file that changes a new data key (what a removal
	// needs: a removed key that saw the old data key could read the file).
	Rotate bool
	// Jobs is the number of files worked on at once (0: number of CPUs).
	Jobs int
	// Opener returns the data-key opener; it is called at most once, by
	// [ChangePlan.Prepare], and only when a file needs its data key (so a
	// removal without rotation never loads or asks for an identity).
	Opener func() (*sopsfile.Opener, error)
	// Force allows removing a key that this run's identities hold (removing
	// yourself); see [SelfRemovalError].
	Force bool
	// Root, when set, is the folder searched for sops files instead of the
	// git top level (or the config's folder).
	Root string
	// Loaded, when set, are identities the caller already loaded (e.g.
	// given with -i): they are used to find out whether a removed key is
	// the caller's own even when no file needs its data key.
	Loaded *sopsfile.Opener
	// Prepared, if set, is called by [ChangePlan.Prepare] after each file
	// it prepared (or failed to), never concurrently.
	Prepared func(done, total int, f *ChangeFile)
	// Also are further configs edited in the same plan (remove and replace
	// edit every .sops.yaml of the tree that lists the key). Each is
	// written last, with ConfigPath, and only if its text is still Old.
	Also []ConfigEdit
	// Nearest: each file is governed by the nearest .sops.yaml at or above
	// its folder, as sops run from there finds it; a file governed by a
	// config that is not edited only loses the removed keys. False: the
	// edited config governs every file in its folder (--config).
	Nearest bool
}

// RootKind says why a folder is the tree a config change searches.
type RootKind string

// The tree roots of [ChangePlan.RootKind].
const (
	RootGit    RootKind = "git top level"
	RootConfig RootKind = "folder of .sops.yaml"
	RootGiven  RootKind = "given folder"
)

// ChangeFile is one file a config change affects.
type ChangeFile struct {
	// Result is what happens (DryRun set until the change is applied) or
	// what happened to the file; Status is StatusFailed with Err when it
	// cannot be changed.
	Result
	// NoRule: no creation rule of the new config matches the file (or it is
	// outside the config's folder), so only the removed keys are dropped:
	// its other recipients are kept.
	NoRule bool
	// Outside: the file is outside the config's folder (under the git top
	// level), or governed by a config the change does not edit; it is
	// handled as NoRule.
	Outside bool
	// Governor is the .sops.yaml that governs an Outside file, when one
	// does ([ChangeOptions.Nearest]).
	Governor string
	// Holds are the removed keys the file's metadata holds.
	Holds []recipients.Key
	// SharesHeld is set for a Shamir file (several key groups) whose
	// removed keys are in fewer groups than the threshold: together they
	// held SharesHeld shares of its data key, not enough to read it alone.
	// Threshold is the file's threshold then.
	SharesHeld, Threshold int
	// RuleHad: the file's rule in the old config lists a removed key, so
	// its history is exposed even when its metadata no longer holds it (a
	// file done by an interrupted run).
	RuleHad bool
	// Exposed are the names (never values) of the encrypted values of a file
	// that holds a removed key; NamesErr is set when they cannot be listed.
	Exposed  []string
	NamesErr error
	// ReadOnly: the file has no write permission; it is replaced anyway.
	ReadOnly bool
	// OnlyRemoved: among this run's identities, only a removed key opens the
	// file (see [SelfRemovalError]).
	OnlyRemoved bool

	found  sopsfile.Found
	staged bool // Prepare staged its new text
}

// SkippedFile is a file not touched by a config change.
type SkippedFile struct {
	Path string
	// Target is where a symbolic link points.
	Target string
	Reason string
}

// ChangePlan is a config change planned by [PlanChange]: which files it
// affects and what each needs. Nothing is written until [ChangePlan.Apply].
type ChangePlan struct {
	ConfigPath string
	// Root is the tree searched for sops files, and RootKind why.
	Root     string
	RootKind RootKind
	Old, New *recipients.Config
	Removed  []recipients.Key
	Rotate   bool
	// Files are the affected files, sorted by path: every sops file whose
	// metadata holds a removed key, and every file whose wanted recipients
	// differ between the old and the new config.
	Files []*ChangeFile
	// Skipped are files left alone: symbolic links that point outside Root.
	Skipped []SkippedFile
	// Found are the paths of every sops file found under Root, affected or
	// not, in walk order: what a folder named in a follow-up command
	// (updatekeys --rotate FOLDER) would reach.
	Found []string
	// Self are the removed keys that this run's identities hold (set by
	// Prepare when it opened a data key).
	Self []recipients.Key
	// Leftovers are temporary files of an earlier, killed run that Prepare
	// removed.
	Leftovers []string
	// Edits are the configs edited, ConfigPath first; all are written last.
	Edits []*EditedConfig

	opts     ChangeOptions
	unlock   func() // the change lock, held from Prepare to the end of Apply or Abort
	nearest  *recipients.ConfigSet
	eng      *engine
	tempDirs []string // folders where the walk met temporary files
	staged   *atomicfile.Staged
	prepared bool
	applied  bool
}

// ChangeError reports the files a config change cannot handle; nothing was
// written.
type ChangeError struct {
	Failed []*ChangeFile
	Total  int
}

func (e *ChangeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cannot update %d of the %d affected files, so nothing was changed:", len(e.Failed), e.Total)
	for _, f := range e.Failed {
		fmt.Fprintf(&b, "\n  %s: %s", f.Path, f.Error)
	}
	return b.String()
}

// SelfRemovalError reports that a removed key is held by this run's
// identities (you are removing yourself): after the change those
// identities may no longer open the files. Set [ChangeOptions.Force] to go
// on.
type SelfRemovalError struct {
	Keys []recipients.Key
	// Only are the files that, among this run's identities, only a removed
	// key opens.
	Only []string
}

func (e *SelfRemovalError) Error() string {
	ids := make([]string, len(e.Keys))
	for i, k := range e.Keys {
		ids[i] = k.ID
	}
	msg := fmt.Sprintf("the identities of this run hold the removed key %s (you are removing yourself)", strings.Join(ids, ", "))
	if len(e.Only) > 0 {
		msg += fmt.Sprintf("; only it opens %d %s: %s", len(e.Only), changePlural(len(e.Only), "file", "files"), strings.Join(e.Only, ", "))
	}
	return msg
}

// ApplyError reports an apply that stopped before .sops.yaml was written:
// some files may be changed, the config is not. Running the same change
// again finishes it.
type ApplyError struct {
	// Written counts the files written before the stop.
	Written int
	// Failed are the files that could not be written.
	Failed []*ChangeFile
	// Interrupted: the context was cancelled (Ctrl-C).
	Interrupted bool
	// Config is set when every file was written but .sops.yaml was not.
	Config error
	// Err is why the writes stopped otherwise (a file changed on disk since
	// it was read, a failed fsync or rename).
	Err error
}

func (e *ApplyError) Error() string {
	switch {
	case e.Interrupted:
		return fmt.Sprintf("interrupted after %d %s: .sops.yaml was not written", e.Written, changePlural(e.Written, "file", "files"))
	case e.Config != nil:
		return fmt.Sprintf("every file was written, but not .sops.yaml: %v", e.Config)
	}
	if changed := e.Changed(); len(changed) > 0 && e.Written == 0 {
		return fmt.Sprintf("nothing was written: %d %s changed on disk since %s read (%s)", len(changed),
			changePlural(len(changed), "file", "files"), changePlural(len(changed), "it was", "they were"), strings.Join(changed, ", "))
	}
	return fmt.Sprintf("stopped after writing %d %s, so .sops.yaml was not written: %v", e.Written, changePlural(e.Written, "file", "files"), e.Err)
}

// Changed lists the files that changed on disk between Prepare and Apply
// (another program wrote them), sorted, as the plan names them: Apply checks
// them all before its first rename and writes nothing if any changed.
func (e *ApplyError) Changed() []string {
	var out []string
	var walk func(err error)
	walk = func(err error) {
		var ce *atomicfile.ChangedError
		switch x := err.(type) {
		case interface{ Unwrap() []error }:
			for _, err := range x.Unwrap() {
				walk(err)
			}
		default:
			if errors.As(err, &ce) {
				out = append(out, ce.Path)
			}
		}
	}
	walk(e.Err)
	sort.Strings(out)
	return out
}

// ErrNotPrepared is returned by [ChangePlan.Apply] before a successful
// [ChangePlan.Prepare].
var ErrNotPrepared = errors.New("the change was not prepared")

// PlanChange plans a config change from the files' metadata alone: nothing
// is decrypted or written. The error is for bad config text or a tree that
// cannot be walked; files that cannot be changed are in the plan with
// StatusFailed (see [ChangePlan.Failed]).
func PlanChange(ctx context.Context, opts ChangeOptions) (*ChangePlan, error) {
	oldCfg, err := recipients.ParseConfig(opts.ConfigPath, opts.Old)
	if err != nil {
		return nil, err
	}
	newCfg, err := recipients.ParseConfig(opts.ConfigPath, opts.New)
	if err != nil {
		return nil, err
	}
	p := &ChangePlan{
		ConfigPath: opts.ConfigPath,
		Old:        oldCfg,
		New:        newCfg,
		Removed:    opts.Removed,
		Rotate:     opts.Rotate,
		opts:       opts,
		nearest:    recipients.NearestConfigSet(),
	}
	if p.Edits, err = parseEdits(opts, oldCfg, newCfg); err != nil {
		return nil, err
	}
	names := []*recipients.Config{oldCfg}
	for _, e := range p.Edits[1:] {
		names = append(names, e.New, e.Old)
	}
	if opts.Root != "" {
		p.Root, p.RootKind = opts.Root, RootGiven
	} else {
		p.Root, p.RootKind = treeRoot(newCfg.Dir)
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	p.eng = &engine{opts: Options{
		Config:      newCfg,
		ConfigPath:  opts.ConfigPath,
		Rotate:      opts.Rotate,
		Jobs:        jobs,
		Opener:      opts.Opener,
		NameSources: names,
	}, cpu: make(chan struct{}, jobs)}
	// Links to files outside the tree are never read or written through:
	// one hostile link must not make a retirement re-encrypt a file
	// elsewhere on the machine, nor block it.
	d, err := sopsfile.DiscoverTree([]string{p.Root}, sopsfile.DiscoverOptions{Jobs: jobs, Root: p.Root})
	if err != nil {
		return nil, err
	}
	for _, l := range d.SkippedLinks {
		p.Skipped = append(p.Skipped, SkippedFile{Path: l.Path, Target: l.Target, Reason: "a symbolic link to a file outside " + p.Root})
	}
	for _, t := range d.Temps {
		p.tempDirs = append(p.tempDirs, filepath.Dir(t))
	}
	for _, fd := range d.Found {
		p.Found = append(p.Found, fd.Path)
	}
	for _, fd := range d.Found {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if cf := p.planFile(fd); cf != nil {
			p.Files = append(p.Files, cf)
		}
	}
	sort.Slice(p.Files, func(i, j int) bool { return p.Files[i].Path < p.Files[j].Path })
	return p, nil
}

func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+string(filepath.Separator))
}

// planFile decides whether the change affects one file, and how.
func (p *ChangePlan) planFile(fd sopsfile.Found) *ChangeFile {
	abs, _ := filepath.Abs(fd.Path)
	ed, other := p.governing(abs)
	outside := ed == nil
	wantedChanged, ruleHad := false, false
	if !outside {
		oldRule, oerr := ed.Old.RuleFor(fd.Path)
		if oerr == nil {
			ruleHad = ruleHolds(oldRule, p.Removed)
		}
		newRule, nerr := ed.New.RuleFor(fd.Path)
		switch {
		case oerr != nil && nerr != nil:
		case oerr != nil || nerr != nil:
			wantedChanged = true
		default:
			wantedChanged = !sameWanted(oldRule, newRule)
		}
	}
	cf := &ChangeFile{found: fd, Outside: outside, RuleHad: ruleHad, Governor: other}
	cf.Path = fd.Path
	cf.Added, cf.Removed = []Change{}, []Change{}
	if fd.Err != nil || fd.File == nil {
		// Its metadata cannot be read: it is affected when its rule
		// changes or its text names a removed key.
		mentions := false
		for _, k := range p.Removed {
			if fd.Data != nil && bytes.Contains(fd.Data, []byte(k.ID)) {
				mentions = true
			}
		}
		if !wantedChanged && !mentions {
			if len(p.Removed) > 0 && fd.Data == nil && fd.Err != nil {
				// Unreadable: it may hold the key, but nothing can
				// be done with it here; said, not hidden.
				p.Skipped = append(p.Skipped, SkippedFile{Path: fd.Path, Reason: "cannot read it (" + readErr(fd.Err).Error() + "), so it may still hold the removed key"})
			}
			return nil
		}
		err := fd.Err
		if err == nil {
			err = errors.New("cannot read the file's metadata")
		}
		cf.Result = failed(fd.Path, readErr(err))
		return cf
	}
	f := fd.File
	removed := map[recipients.Key]bool{}
	for _, k := range p.Removed {
		removed[k] = true
	}
	seen := map[recipients.Key]bool{}
	groupsHeld := 0
	for _, g := range f.Groups {
		held := false
		for _, s := range g {
			if removed[s.Key] {
				held = true
				if !seen[s.Key] {
					seen[s.Key] = true
					cf.Holds = append(cf.Holds, s.Key)
				}
			}
		}
		if held {
			groupsHeld++
		}
	}
	if need := f.ShamirThreshold; len(f.Groups) > 1 && groupsHeld > 0 {
		if need <= 0 {
			need = len(f.Groups)
		}
		if groupsHeld < need {
			cf.SharesHeld, cf.Threshold = groupsHeld, need
		}
	}
	if !wantedChanged && len(cf.Holds) == 0 {
		return nil
	}
	if len(cf.Holds) > 0 || cf.RuleHad {
		cf.Exposed, cf.NamesErr = sopsfile.SecretNames(f, fd.Data)
	}
	var plan *Plan
	var err error
	if !outside {
		plan, err = PlanFile(ed.New, f, false)
		if err != nil && errors.Is(err, recipients.ErrNoRule) {
			err = nil
			plan = nil
			cf.NoRule = true
		}
	} else {
		cf.NoRule = true
	}
	if cf.NoRule {
		if len(cf.Holds) == 0 {
			return nil
		}
		plan, err = keepPlan(f, removed, p.opts.Replacements)
	}
	if err != nil {
		cf.Result = failed(fd.Path, err)
		return cf
	}
	if p.Rotate && plan.Action != ActionNone {
		plan.Action = ActionRotate
	}
	cf.Result = p.eng.describe(fd.Path, plan)
	cf.DryRun = plan.Action != ActionNone
	return cf
}

// keepPlan is the plan for a file no rule governs: the removed keys are
// dropped, everything else is kept, and a removed key that has a
// replacement (recipients replace) gets it in the same group (unless the
// group already has it). A group that would be left empty is an error: the
// file cannot lose the key.
func keepPlan(f *sopsfile.File, removed map[recipients.Key]bool, replace map[recipients.Key]recipients.Key) (*Plan, error) {
	if len(f.Problems) > 0 {
		return nil, errors.New(f.Problems[0].String())
	}
	wanted := make([]recipients.Group, len(f.Groups))
	for gi, g := range f.Groups {
		var gone []string
		for _, s := range g {
			if s.Problem != "" {
				return nil, fmt.Errorf("line %d: malformed %s entry: %s", s.Line, s.Key.Type, s.Problem)
			}
			if removed[s.Key] {
				gone = append(gone, s.Key.ID)
				continue
			}
			wanted[gi].Members = append(wanted[gi].Members, recipients.Member{Key: s.Key})
		}
		// Replacements after the kept keys, in file order: the group's
		// own members come first, as before the change.
		for _, s := range g {
			if nk, ok := replace[s.Key]; ok && !groupHas(wanted[gi], nk) {
				wanted[gi].Members = append(wanted[gi].Members, recipients.Member{Key: nk})
			}
		}
		if len(wanted[gi].Members) == 0 {
			what := "its only key group"
			if len(f.Groups) > 1 {
				what = fmt.Sprintf("key group %d", gi+1)
			}
			return nil, fmt.Errorf("the removed key %s is the only member of %s, so it cannot be removed from this file: add another recipient to the file first", strings.Join(gone, ", "), what)
		}
	}
	th := audit.EffectiveThreshold(f.ShamirThreshold, len(f.Groups))
	p := &Plan{File: f, Wanted: wanted, Diffs: audit.DiffGroups(wanted, f.Groups), ThresholdFrom: th, ThresholdTo: th}
	switch {
	case len(p.Diffs) == 0:
		p.Action = ActionNone
	case len(f.Groups) == 1:
		p.Action = ActionRewrap
	default:
		p.Action = ActionReshare
	}
	return p, nil
}

// Failed returns the files that cannot be changed.
func (p *ChangePlan) Failed() []*ChangeFile {
	var out []*ChangeFile
	for _, f := range p.Files {
		if f.Status == StatusFailed {
			out = append(out, f)
		}
	}
	return out
}

// Results returns the files' results, in path order.
func (p *ChangePlan) Results() []Result {
	out := make([]Result, len(p.Files))
	for i, f := range p.Files {
		out[i] = f.Result
	}
	return out
}

// NoRule returns the affected files that no creation rule matches.
func (p *ChangePlan) NoRule() []*ChangeFile {
	var out []*ChangeFile
	for _, f := range p.Files {
		if f.NoRule && f.Status != StatusUnchanged {
			out = append(out, f)
		}
	}
	return out
}

// Exposed returns the files a removed key could read: those that hold it,
// and those whose old rule listed it.
func (p *ChangePlan) Exposed() []*ChangeFile {
	var out []*ChangeFile
	for _, f := range p.Files {
		if len(f.Holds) > 0 || f.RuleHad {
			out = append(out, f)
		}
	}
	return out
}

// Unrotated returns the files that lose a removed key without a new data
// key: the removed key still opens their current text.
func (p *ChangePlan) Unrotated() []*ChangeFile {
	var out []*ChangeFile
	for _, f := range p.Files {
		if len(f.Holds) > 0 && f.Status == StatusUpdated {
			out = append(out, f)
		}
	}
	return out
}

// Prepare builds every affected file's new text in memory: where the plan
// needs the data key (rotation, added recipients, several key groups) it is
// opened and the file's mac verified; the new text is re-read and checked;
// the folders to write are checked writable. Nothing is written (except
// that temporary files of an earlier, killed run are removed, see
// Leftovers). If any file fails, the error is a [*ChangeError] listing
// every failing file; if a removed key is the run's own, a
// [*SelfRemovalError] unless Force.
func (p *ChangePlan) Prepare(ctx context.Context) (err error) {
	if p.prepared || p.applied {
		return errors.New("the change was already prepared")
	}
	// One change of a repository at a time: a second run preparing from
	// the same files would pass the same checks and write over the first.
	// The lock is held until Apply ends or Abort (or the process ends,
	// however it ends); planning and dry runs take none.
	unlock, err := lockRepository(p.Root, p.ConfigPath)
	if err != nil {
		return err
	}
	p.unlock = unlock
	defer func() {
		if err != nil {
			p.release()
		}
	}()
	// Files that failed planning are reported together with those that
	// fail here, so that one run names every problem.
	var todo []*ChangeFile
	for _, f := range p.Files {
		if f.Status != StatusUnchanged && f.Status != StatusFailed {
			todo = append(todo, f)
		}
	}
	// Leftovers of a killed run are looked for next to every affected file
	// (a file it finished may have left a temporary file too) and next to
	// the config, before this run stages its own.
	p.Leftovers, _ = atomicfile.CleanLeftovers(append(p.affectedDirs(), p.tempDirs...)...)
	p.staged = atomicfile.NewStaged(nil)
	jobs := p.eng.opts.Jobs
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	next := make(chan *ChangeFile)
	for range min(jobs, max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cf := range next {
				if err := ctx.Err(); err != nil {
					p.eng.failFile(cf, errors.New("not prepared: interrupted"))
				} else {
					p.prepareFile(cf)
				}
				if p.opts.Prepared != nil {
					mu.Lock()
					done++
					p.opts.Prepared(done, len(todo), cf)
					mu.Unlock()
				}
			}
		}()
	}
	for _, cf := range todo {
		next <- cf
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		p.Abort()
		return err
	}
	if failed := p.Failed(); len(failed) > 0 {
		p.Abort()
		return &ChangeError{Failed: failed, Total: len(p.Files)}
	}
	// Removing yourself: found by opening a removed key's own entry.
	if err := p.checkSelf(todo); err != nil {
		p.Abort()
		return err
	}
	// .sops.yaml last: renamed only once every file is, and durable.
	for _, e := range p.Edits {
		if err := p.staged.Stage(e.Path, e.edit.New, atomicfile.Options{Expect: e.edit.Old, Last: true}); err != nil {
			p.Abort()
			return fmt.Errorf("cannot write %s: %w", e.Path, err)
		}
	}
	readOnly := map[string]bool{}
	for _, path := range p.staged.ReadOnly() {
		readOnly[path] = true
	}
	for _, cf := range todo {
		cf.ReadOnly = readOnly[cf.Path]
	}
	p.prepared = true
	return nil
}

// Abort removes the temporary files of a prepared change that will not be
// applied (it is safe to call at any time, also after Apply).
func (p *ChangePlan) Abort() {
	if p.staged != nil {
		p.staged.Abort()
	}
	p.release()
}

// release lets another run change the repository.
func (p *ChangePlan) release() {
	if p.unlock != nil {
		p.unlock()
		p.unlock = nil
	}
}

// lockRepository takes the change lock of a repository: an flock on the
// folder root of its tree (the git top level, or the folder of .sops.yaml),
// held until unlock or the end of the process, so that runs from any of its
// folders, with any of its configs, exclude each other; [ErrBusy] when
// another run holds it. Without a root, the config is locked; a config not
// written yet has nothing to lock.
func lockRepository(root, config string) (unlock func(), err error) {
	what := root
	if what == "" {
		what = config
	}
	if what == "" {
		return func() {}, nil
	}
	unlock, err = atomicfile.TryLock(what)
	switch {
	case errors.Is(err, atomicfile.ErrLocked):
		return nil, fmt.Errorf("%s: %w: wait for it to finish, then run this again", what, ErrBusy)
	case errors.Is(err, fs.ErrNotExist):
		return func() {}, nil
	case err != nil:
		return nil, err
	}
	return unlock, nil
}

// ErrBusy reports that another run holds the repository's change lock (see
// [ChangePlan.Prepare]).
var ErrBusy = errors.New("another sopsfleet run is changing this repository")

func (e *engine) failFile(cf *ChangeFile, err error) {
	cf.Result = e.fail(cf.Result, err)
}

// prepareFile builds one file's new text.
func (p *ChangePlan) prepareFile(cf *ChangeFile) {
	plan := cf.Plan
	data := cf.found.Data
	p.eng.cpu <- struct{}{}
	out, err := p.eng.build(plan, data, true)
	<-p.eng.cpu
	if err != nil {
		p.eng.failFile(cf, err)
		return
	}
	// Staging writes the temporary file next to the target: it proves
	// the folder writable; nothing is visible until Apply.
	if err := p.staged.Stage(cf.Path, out, atomicfile.Options{Expect: data}); err != nil {
		p.eng.failFile(cf, stageErr(cf.Path, err))
		return
	}
	cf.staged = true
}

// checkSelf finds the removed keys that this run's identities hold, and the
// files only they open.
func (p *ChangePlan) checkSelf(todo []*ChangeFile) error {
	op := p.eng.opener
	if op == nil {
		op = p.opts.Loaded
	}
	if op == nil || len(p.Removed) == 0 {
		return nil
	}
	removed := map[recipients.Key]bool{}
	for _, k := range p.Removed {
		removed[k] = true
	}
	self := map[recipients.Key]bool{}
	var only []string
	for _, cf := range todo {
		if len(cf.Holds) == 0 {
			continue
		}
		f, data := cf.found.File, cf.found.Data
		for _, k := range cf.Holds {
			if self[k] {
				continue
			}
			if key, err := op.OpenDataKey(filterStanzas(f, func(s sopsfile.Stanza) bool { return s.Key == k }), data); err == nil {
				clear(key)
				self[k] = true
			}
		}
		if key, err := op.OpenDataKey(filterStanzas(f, func(s sopsfile.Stanza) bool { return !removed[s.Key] }), data); err != nil {
			cf.OnlyRemoved = true
			only = append(only, cf.Path)
		} else {
			clear(key)
		}
	}
	for _, k := range p.Removed {
		if self[k] {
			p.Self = append(p.Self, k)
		}
	}
	if len(only) > 0 && len(p.Self) == 0 {
		// Only the removed entries open these files, so the identities
		// hold a removed key even if it was not found alone (Shamir).
		seen := map[recipients.Key]bool{}
		for _, cf := range todo {
			if cf.OnlyRemoved {
				for _, k := range cf.Holds {
					if !seen[k] {
						seen[k] = true
						p.Self = append(p.Self, k)
					}
				}
			}
		}
	}
	if len(p.Self) > 0 && !p.opts.Force {
		return &SelfRemovalError{Keys: p.Self, Only: only}
	}
	return nil
}

// filterStanzas returns a copy of f that keeps only the entries keep
// accepts (for opening the data key with some entries only).
func filterStanzas(f *sopsfile.File, keep func(sopsfile.Stanza) bool) *sopsfile.File {
	c := *f
	c.Groups = make([][]sopsfile.Stanza, len(f.Groups))
	for gi, g := range f.Groups {
		for _, s := range g {
			if keep(s) {
				c.Groups[gi] = append(c.Groups[gi], s)
			}
		}
	}
	return &c
}

// affectedDirs returns the folders of the config and of every affected
// file (through symbolic links).
func (p *ChangePlan) affectedDirs() []string {
	set := map[string]bool{}
	add := func(path string) {
		if real, err := filepath.EvalSymlinks(path); err == nil {
			set[filepath.Dir(real)] = true
		}
	}
	for _, e := range p.Edits {
		add(e.Path)
	}
	for _, cf := range p.Files {
		add(cf.Path)
	}
	out := make([]string, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// stageErr says why a file could not be staged, without the random name of
// a temporary file.
func stageErr(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path != path {
		return fmt.Errorf("cannot write in its folder: %v", pe.Err)
	}
	return err
}

// Apply writes the prepared files — each atomically, with one durability
// barrier for the batch — and then .sops.yaml, last, only if every file was
// written. It stops between files when ctx is cancelled. progress, if set,
// is called after each file, never concurrently. On any stop the error is
// an [*ApplyError]: .sops.yaml is then unchanged and running the same change
// again finishes it (the files already written are found done).
func (p *ChangePlan) Apply(ctx context.Context, progress func(done, total int, f *ChangeFile)) error {
	if !p.prepared || p.applied {
		return ErrNotPrepared
	}
	p.applied = true
	defer p.release()
	byPath := map[string]*ChangeFile{}
	total := 0
	for _, f := range p.Files {
		f.DryRun = false
		if f.staged {
			byPath[f.Path] = f
			total++
		}
	}
	done := 0
	renamed := map[*ChangeFile]bool{}
	err := p.staged.Commit(ctx, func(path string) {
		cf := byPath[path]
		if cf == nil { // .sops.yaml
			return
		}
		renamed[cf] = true
		done++
		if progress != nil {
			progress(done, total, cf)
		}
	})
	if err == nil {
		return nil
	}
	// Whatever was not renamed is untouched.
	for _, cf := range byPath {
		if !renamed[cf] {
			cf.Result = p.eng.fail(cf.Result, errors.New("not written"))
		}
	}
	ae := &ApplyError{Written: done}
	var ie *atomicfile.IncompleteError
	switch {
	case ctx.Err() != nil || errors.Is(err, atomicfile.ErrAborted):
		ae.Interrupted = true
	case errors.As(err, &ie) && done == total:
		ae.Config = ie.Err
	default:
		ae.Err = err
		for _, cf := range p.Files {
			if cf.staged && !renamed[cf] {
				ae.Failed = append(ae.Failed, cf)
			}
		}
	}
	return ae
}

// ruleHolds reports whether the rule lists one of keys.
func ruleHolds(r *recipients.Rule, keys []recipients.Key) bool {
	for _, g := range r.Groups {
		for _, m := range g.Members {
			for _, k := range keys {
				if m.Key == k {
					return true
				}
			}
		}
	}
	return false
}

// sameWanted reports whether two rules want the same key groups (compared
// as sops compares them: by key, ignoring order) and the same threshold.
func sameWanted(a, b *recipients.Rule) bool {
	if len(a.Groups) != len(b.Groups) {
		return false
	}
	if audit.EffectiveThreshold(a.ShamirThreshold, len(a.Groups)) != audit.EffectiveThreshold(b.ShamirThreshold, len(b.Groups)) {
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

func changePlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
