package rekey

import (
	"bytes"
	"crypto/sha256"
	"path/filepath"

	"github.com/sopsfleet/sopsfleet/audit"

	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// Status is the outcome for one file.
type Status string

// The outcomes of [Run].
const (
	StatusUnchanged Status = "unchanged" // already as wanted: not rewritten
	StatusUpdated   Status = "updated"   // recipients added/removed (or re-split)
	StatusRotated   Status = "rotated"   // new data key
	StatusOK        Status = "ok"        // Verify: the change can be made
	StatusFailed    Status = "failed"    // left untouched; see Error
)

// Change is one recipient added to or removed from a file.
type Change struct {
	Type  recipients.KeyType `json:"type"`
	Key   string             `json:"key"`
	Name  string             `json:"name,omitempty"`
	Group int                `json:"group"` // from 1
}

// Result is what [Run] did (or, with DryRun, would do) to one file.
type Result struct {
	Path   string `json:"path"`
	Status Status `json:"status"`
	// DryRun: nothing was decrypted or written; Status is what would happen.
	DryRun  bool     `json:"dry_run,omitempty"`
	Added   []Change `json:"added"`
	Removed []Change `json:"removed"`
	// AllStanzasChanged: the data key was split again for several key groups
	// (Shamir) or rotated, so every entry was rewritten.
	AllStanzasChanged bool `json:"all_stanzas_changed,omitempty"`
	// ThresholdFrom/To are the effective Shamir thresholds when they differ.
	ThresholdFrom int `json:"threshold_from,omitempty"`
	ThresholdTo   int `json:"threshold_to,omitempty"`
	// RemovedShares is set for a Shamir file (several key groups) whose
	// removed recipients, together, were in RemovedShares of its groups:
	// fewer than its threshold, so they held shares of its data key but
	// could not read it alone.
	RemovedShares int    `json:"removed_shares,omitempty"`
	Error         string `json:"error,omitempty"`
	Err           error  `json:"-"`
	// Config is the .sops.yaml that governs the file, when configs are
	// chosen per file ([Options.Configs]).
	Config string `json:"config,omitempty"`
	// Plan is the plan the result comes from (nil when the file could not be
	// read or planned).
	Plan *Plan `json:"-"`
}

// Options configure [Run].
type Options struct {
	// Config is the parsed .sops.yaml the wanted groups come from.
	Config *recipients.Config
	// Configs, if set, chooses the config of each file instead (the
	// nearest .sops.yaml at or above the file's folder, see
	// [recipients.NearestConfigSet]); Config is then only used to name keys.
	// A file no config governs fails.
	Configs *recipients.ConfigSet
	// ConfigPath is the .sops.yaml sops' own loader reads, for the settings
	// of non-age keys (KMS context…) and the stores settings used when a file
	// must be re-emitted. Empty: none.
	ConfigPath string
	// Rotate gives every file a new data key.
	Rotate bool
	// ApplySelector, with Rotate, also re-encrypts each file's values under
	// its rule's encryption selector (the fix of selector-drift).
	ApplySelector bool
	// DryRun plans only: nothing is decrypted, nothing written.
	DryRun bool
	// Verify checks that every change can be made (the data key opens where
	// it is needed) without writing anything.
	Verify bool
	// Jobs is the number of files worked on at once (0: number of CPUs).
	Jobs int
	// Opener returns the data-key opener; it is called at most once, and
	// only when a file needs its data key (so removing recipients without
	// rotation never loads or asks for an identity).
	Opener func() (*sopsfile.Opener, error)
	// NameSources are further configs to name keys from (the config before
	// an edit, which still names the removed keys).
	NameSources []*recipients.Config
	// Progress, if set, is called after each file, never concurrently.
	Progress func(done, total int, r *Result)
}

// Run updates the keys of files (paths of sops-encrypted files) to match
// opts.Config. Results are in the order of files. A file that fails is left
// untouched and never stops the others.
func Run(ctx context.Context, files []string, opts Options) []Result {
	found := make([]sopsfile.Found, len(files))
	for i, p := range files {
		found[i].Path = p
	}
	return RunFound(ctx, found, opts)
}

// RunFound is [Run] on files already read and parsed by
// [sopsfile.DiscoverParsed], so that nothing is read or parsed twice. An
// entry without Data is read from disk. A file is still only written when
// it has not changed on disk since it was read.
func RunFound(ctx context.Context, found []sopsfile.Found, opts Options) []Result {
	e := newEngine(opts)
	results := make([]Result, len(found))
	var mu sync.Mutex
	done := 0
	e.each(len(found), func(i int) {
		if err := ctx.Err(); err != nil {
			results[i] = failed(found[i].Path, ErrInterrupted)
		} else {
			results[i] = e.process(found[i])
		}
		if opts.Progress != nil {
			mu.Lock()
			done++
			opts.Progress(done, len(found), &results[i])
			mu.Unlock()
		}
	})
	e.commit(ctx, results)
	return results
}

// TreeRun is what [RunTree] found and did.
type TreeRun struct {
	// Results are the sops files' outcomes, sorted by path. They carry no
	// Plan: a file's content and metadata are let go as soon as it is done.
	Results []Result
	// Ignored are the other regular files looked at, sorted.
	Ignored []string
	// Tree is what the walk skipped (links out of the root, temporary
	// files).
	Tree *sopsfile.Tree
	// Syncs is how many syncs the writes took: fsyncs (of files and
	// folders) and syncfs calls; SyncFS counts the latter alone (a batch
	// of at least [atomicfile.SyncFSMin] files is made durable with one
	// syncfs per file system where the system can).
	Syncs, SyncFS int
	// ReadOnly are the rewritten files whose owner has no write bit: they
	// are replaced anyway (keeping their mode), and the caller should say so.
	ReadOnly []string
	// Leftovers are temporary files of an earlier, killed run that were
	// removed before writing.
	Leftovers []string
}

// RunTree walks roots as [sopsfile.WalkParsedTree] does and updates every
// sops file it meets as [Run] would, each as soon as it is read: only the
// files being rewritten are held in memory, and only while they are worked
// on (their new content goes straight to a temporary file). Then every
// temporary file is made durable at once (fsyncs in parallel), each file is
// renamed over its target (a file changed on disk since it was read is left
// alone and fails), and each folder is synced once: one durability barrier
// for the whole run. opts.Progress counts the files looked at, sops or not.
// A run that may write holds the repository's change lock (an flock on
// walk.Root, else on opts.ConfigPath, as [ChangePlan.Prepare] takes) from
// start to end: while another run holds it, RunTree fails with [ErrBusy]
// and does nothing.
func RunTree(ctx context.Context, roots []string, walk sopsfile.DiscoverOptions, opts Options) (*TreeRun, error) {
	// One writer of a repository at a time, as for config changes: a
	// second run would do the same work and then fail file by file on
	// what the first wrote.
	if !opts.DryRun && !opts.Verify {
		unlock, err := lockRepository(walk.Root, opts.ConfigPath)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	if walk.Jobs <= 0 {
		walk.Jobs = opts.Jobs
	}
	// Each file's content is done with when process returns (a file to
	// rewrite is staged, its new content written, before), so the walk
	// may read the next file into the same memory.
	walk.ReuseData = true
	e := newEngine(opts)
	var results []Result
	var kind []byte // per path: 0 not looked at, 's' sops, 'i' ignored
	var ignored []string
	var mu sync.Mutex
	total, done := 0, 0
	tree, err := sopsfile.WalkParsedTree(roots, walk, func(n int) {
		results = make([]Result, n)
		kind = make([]byte, n)
		ignored = make([]string, n)
		total = n
	}, func(i int, f sopsfile.Found, sops bool) {
		var r *Result
		switch {
		case !sops:
			kind[i], ignored[i] = 'i', f.Path
		case ctx.Err() != nil:
			kind[i], results[i] = 's', failed(f.Path, ErrInterrupted)
			r = &results[i]
		default:
			res := e.process(f)
			res.Plan = nil
			kind[i], results[i] = 's', res
			r = &results[i]
		}
		if opts.Progress != nil {
			mu.Lock()
			done++
			opts.Progress(done, total, r)
			mu.Unlock()
		}
	})
	if err != nil {
		e.staged.Abort()
		return nil, err
	}
	run := &TreeRun{Tree: tree}
	for i, k := range kind {
		switch k {
		case 's':
			run.Results = append(run.Results, results[i])
		case 'i':
			run.Ignored = append(run.Ignored, ignored[i])
		}
	}
	// Temporary files a killed run left in the tree go before this run
	// writes (never those of a run still going: see CleanLeftovers).
	var dirs []string
	for _, t := range tree.Temps {
		dirs = append(dirs, filepath.Dir(t))
	}
	if len(dirs) > 0 && !opts.DryRun {
		run.Leftovers, _ = atomicfile.CleanLeftovers(dirs...)
	}
	run.ReadOnly = e.staged.ReadOnly()
	e.commit(ctx, run.Results)
	run.Syncs = e.staged.Syncs()
	_, run.SyncFS = e.staged.SyncCounts()
	return run, nil
}

// each runs fn(0…n-1) on a pool of workers: jobs files are worked on at
// once, and a few more are in flight (reading, staging), since a file
// waiting for the disk does not need the CPU.
func (e *engine) each(n int, fn func(i int)) {
	workers := min(max(cap(e.cpu)*ioOverlap, minWorkers), n)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// commit writes every staged file: one durability barrier for the batch
// (all temporary files fsynced together, then the renames, then each folder
// once). A file that cannot be written fails on its own; results are
// updated.
func (e *engine) commit(ctx context.Context, results []Result) {
	index := map[string]int{}
	for i := range results {
		if results[i].Status == StatusUpdated || results[i].Status == StatusRotated {
			if !results[i].DryRun {
				index[results[i].Path] = i
			}
		}
	}
	e.staged.CommitEach(ctx, func(path string, err error) {
		i, ok := index[path]
		if !ok || err == nil {
			return
		}
		switch {
		case errors.Is(err, atomicfile.ErrChanged):
			err = atomicfile.ErrChanged
		case errors.Is(err, context.Canceled), errors.Is(err, atomicfile.ErrAborted):
			err = ErrInterrupted
		}
		results[i] = e.fail(results[i], err)
	})
}

// ErrInterrupted is the error of a file that a cancelled run (Ctrl-C,
// SIGTERM) did not write: it is left whole, as it was.
var ErrInterrupted = errors.New("not written: interrupted")

// Totals counts results by status.
func Totals(results []Result) map[Status]int {
	t := map[Status]int{}
	for _, r := range results {
		t[r.Status]++
	}
	return t
}

// ioOverlap is how many files per job may be waiting on the disk, and
// minWorkers the least number of files in flight: an fsync waits for the
// disk, not the CPU, so many overlap well even on a machine with few CPUs.
const (
	ioOverlap  = 8
	minWorkers = 16
)

// newEngine returns an engine for opts with jobs slots of work.
func newEngine(opts Options) *engine {
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	return &engine{opts: opts, cpu: make(chan struct{}, jobs), staged: atomicfile.NewStaged(writeSystem)}
}

// writeSystem is what the engine writes through; nil is the real operating
// system. Tests record the writes with it.
var writeSystem atomicfile.System

type engine struct {
	opts     Options
	cpu      chan struct{}      // a slot per job
	staged   *atomicfile.Staged // the new content of every file to write
	openOnce sync.Once
	opener   *sopsfile.Opener
	openErr  error
}

func (e *engine) getOpener() (*sopsfile.Opener, error) {
	e.openOnce.Do(func() {
		if e.opts.Opener == nil {
			e.openErr = errors.New("no identities")
			return
		}
		e.opener, e.openErr = e.opts.Opener()
	})
	return e.opener, e.openErr
}

// overlaps reports whether a and b share memory.
func overlaps(a, b []byte) bool {
	if cap(a) == 0 || cap(b) == 0 {
		return false
	}
	a0, b0 := uintptr(unsafe.Pointer(unsafe.SliceData(a))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return a0 < b0+uintptr(cap(b)) && b0 < a0+uintptr(cap(a))
}

func failed(path string, err error) Result {
	return Result{Path: path, Status: StatusFailed, Err: err, Error: err.Error()}
}

func (e *engine) process(in sopsfile.Found) Result {
	e.cpu <- struct{}{}
	r, out, data := e.compute(in)
	<-e.cpu
	if out == nil {
		return r
	}
	if overlaps(out, data) {
		// The walk reuses data's memory for a later file
		// (DiscoverOptions.ReuseData): out must not share it.
		out = bytes.Clone(out)
	}
	// Staged, not written: the new content goes to a temporary file now
	// (the old content is let go, only its digest kept) and is renamed into
	// place by commit, after every file of the run is on disk.
	sum := sha256.Sum256(data)
	if err := e.staged.Stage(r.Path, out, atomicfile.Options{ExpectSHA256: &sum}); err != nil {
		return e.fail(r, err)
	}
	return r
}

// compute does everything but the write: it returns the result and, when
// the file must be written, its new content and the content it was read with.
func (e *engine) compute(in sopsfile.Found) (Result, []byte, []byte) {
	path, data, f, err := in.Path, in.Data, in.File, in.Err
	if err != nil {
		return failed(path, readErr(err)), nil, nil
	}
	if data == nil {
		if data, err = os.ReadFile(path); err != nil {
			return failed(path, readErr(err)), nil, nil
		}
	}
	if f == nil {
		if f, err = sopsfile.Parse(path, data); err != nil {
			return failed(path, err), nil, nil
		}
	}
	cfg, err := e.configFor(path)
	if err != nil {
		return failed(path, err), nil, nil
	}
	plan, err := PlanFile(cfg, f, e.opts.Rotate)
	if err != nil {
		return failed(path, err), nil, nil
	}
	r := e.describe(path, plan)
	if plan.Action == ActionNone {
		r.Status = StatusUnchanged
		return r, nil, nil
	}
	if e.opts.DryRun {
		r.DryRun = true
		return r, nil, nil
	}
	if e.opts.Verify {
		if plan.NeedsDataKey() {
			op, err := e.getOpener()
			if err != nil {
				return e.fail(r, err), nil, nil
			}
			key, err := op.OpenDataKey(f, data)
			if err != nil {
				return e.fail(r, err), nil, nil
			}
			clear(key)
		}
		r.Status = StatusOK
		return r, nil, nil
	}
	out, err := e.build(plan, data, false)
	if err != nil {
		return e.fail(r, err), nil, nil
	}
	return r, out, data
}

// build carries out plan on the file's text data: it opens the data key
// where the plan needs it (with verifyMAC, every value is then decrypted in
// memory and the file's mac checked, as sops decrypt does), computes the
// new text and re-reads it. Nothing is written.
func (e *engine) build(plan *Plan, data []byte, verifyMAC bool) ([]byte, error) {
	f := plan.File
	var key []byte
	if plan.NeedsDataKey() {
		op, err := e.getOpener()
		if err != nil {
			return nil, err
		}
		key, err = op.OpenDataKey(f, data)
		if err != nil {
			return nil, err
		}
		defer clear(key)
		// Rotation decrypts and checks every value anyway.
		if verifyMAC && plan.Action != ActionRotate {
			if err := op.VerifyMAC(f, data, key); err != nil {
				return nil, err
			}
		}
	}
	out, err := e.apply(plan, data, key)
	if err != nil {
		return nil, err
	}
	// The splicing functions re-read and check what they write; output
	// re-emitted through sops' store is checked here.
	if plan.Action != ActionRewrap || verifyMAC {
		if err := verifyOutput(f.Path, out, plan); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (e *engine) fail(r Result, err error) Result {
	r.Status = StatusFailed
	r.Err = err
	r.Error = err.Error()
	return r
}

func readErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// describe fills a result from a plan, with the status the plan leads to.
func (e *engine) describe(path string, p *Plan) Result {
	r := Result{Path: path, Plan: p, Added: []Change{}, Removed: []Change{}}
	cfg := p.Config
	if cfg == nil {
		cfg = e.opts.Config
	}
	if e.opts.Configs != nil && cfg != nil {
		r.Config = cfg.Path
	}
	for _, d := range p.Diffs {
		for _, m := range d.Missing {
			r.Added = append(r.Added, Change{Type: m.Key.Type, Key: m.Key.ID, Name: memberName(cfg, m), Group: d.Group + 1})
		}
		for _, s := range d.Extra {
			r.Removed = append(r.Removed, Change{Type: s.Key.Type, Key: s.Key.ID, Name: e.nameOf(cfg, s.Key), Group: d.Group + 1})
		}
	}
	if p.ThresholdFrom != p.ThresholdTo {
		r.ThresholdFrom, r.ThresholdTo = p.ThresholdFrom, p.ThresholdTo
	}
	r.RemovedShares = removedShares(p)
	switch p.Action {
	case ActionRotate:
		r.Status = StatusRotated
		r.AllStanzasChanged = true
	case ActionReshare:
		r.Status = StatusUpdated
		r.AllStanzasChanged = true
	case ActionRewrap:
		r.Status = StatusUpdated
	default:
		r.Status = StatusUnchanged
	}
	return r
}

// removedShares is how many key groups of a Shamir file the plan's removed
// entries are in, when that is fewer than the file's threshold (they never
// held the whole data key); else 0.
func removedShares(p *Plan) int {
	if p.File == nil || len(p.File.Groups) < 2 {
		return 0
	}
	groups := map[int]bool{}
	for _, d := range p.Diffs {
		if len(d.Extra) > 0 {
			groups[d.Group] = true
		}
	}
	need := audit.EffectiveThreshold(p.File.ShamirThreshold, len(p.File.Groups))
	if len(groups) == 0 || len(groups) >= need {
		return 0
	}
	return len(groups)
}

func memberName(cfg *recipients.Config, m recipients.Member) string {
	if m.Name != "" {
		return m.Name
	}
	return cfg.NameOf(m.Key)
}

// nameOf names a key from the file's config, else from the config of the
// run, else from the name sources.
func (e *engine) nameOf(cfg *recipients.Config, k recipients.Key) string {
	for _, c := range append([]*recipients.Config{cfg, e.opts.Config}, e.opts.NameSources...) {
		if c == nil {
			continue
		}
		if n := c.NameOf(k); n != "" {
			return n
		}
	}
	return ""
}

// configFor returns the config that governs the file at path.
func (e *engine) configFor(path string) (*recipients.Config, error) {
	if e.opts.Configs == nil {
		return e.opts.Config, nil
	}
	cfg, err := e.opts.Configs.For(path)
	if errors.Is(err, recipients.ErrNoConfigAbove) {
		return nil, errors.New("no .sops.yaml in the file's folder or any folder above it governs it")
	}
	return cfg, err
}

// configPath is the .sops.yaml sops' loader reads for the plan's file: the
// file's own config when configs are chosen per file or edited together.
func (e *engine) configPath(p *Plan) string {
	if p.Config != nil && p.Config.Path != "" && (e.opts.Configs != nil || p.Config != e.opts.Config) {
		return p.Config.Path
	}
	return e.opts.ConfigPath
}

// apply computes the new bytes of the file for plan.
func (e *engine) apply(p *Plan, data, key []byte) ([]byte, error) {
	f := p.File
	configPath := e.configPath(p)
	switch p.Action {
	case ActionRewrap:
		var removed []recipients.Key
		for _, st := range p.Removed() {
			removed = append(removed, st.Key)
		}
		var added []sopsfile.NewStanza
		if members := p.Added(); len(members) > 0 {
			op, err := e.getOpener()
			if err != nil {
				return nil, err
			}
			keys := make([]recipients.Key, len(members))
			for i, m := range members {
				keys[i] = m.Key
			}
			rs, err := sopsfile.ResolveRecipients([][]recipients.Key{keys}, configPath, f.Path, f, data)
			if err != nil {
				return nil, err
			}
			enc, err := op.EncryptGroups(rs, [][]byte{key})
			if err != nil {
				return nil, err
			}
			added = sopsfile.NewStanzas(0, enc[0])
		}
		// One in-place edit: the removed entries cut out, the added ones
		// spliced in, in the file's style.
		return sopsfile.ReplaceStanzas(f, data, removed, added)
	case ActionReshare, ActionRotate:
		op, err := e.getOpener()
		if err != nil {
			return nil, err
		}
		rs, err := sopsfile.ResolveRecipients(wantedKeys(p.Wanted), configPath, f.Path, f, data)
		if err != nil {
			return nil, err
		}
		if p.Action == ActionRotate && e.opts.ApplySelector {
			return rotateSelect(op, f, data, key, rs, p, configPath)
		}
		if p.Action == ActionRotate {
			return op.Rotate(f, data, key, rs, p.ThresholdTo, configPath)
		}
		parts, err := sopsfile.SplitDataKey(key, len(rs), p.ThresholdTo)
		if err != nil {
			return nil, err
		}
		defer func() {
			for _, part := range parts {
				clear(part)
			}
		}()
		enc, err := op.EncryptGroups(rs, parts)
		if err != nil {
			return nil, err
		}
		return replaceKeyGroups(f, data, enc, p.ThresholdTo, configPath)
	}
	return data, nil
}

// verifyOutput re-reads the new bytes and checks that they hold exactly the
// wanted groups: a last guard before anything is written.
func verifyOutput(path string, out []byte, p *Plan) error {
	f, err := sopsfile.Parse(path, out)
	if err != nil {
		return fmt.Errorf("internal error: the updated file does not parse: %v", err)
	}
	if d := audit.DiffGroups(p.Wanted, f.Groups); len(d) > 0 {
		return fmt.Errorf("internal error: the updated file does not have the wanted recipients")
	}
	if got := audit.EffectiveThreshold(f.ShamirThreshold, len(f.Groups)); got != p.ThresholdTo {
		return fmt.Errorf("internal error: the updated file has shamir_threshold %d, want %d", got, p.ThresholdTo)
	}
	return nil
}
