package rekey

import (
	"github.com/sopsfleet/sopsfleet/audit"

	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

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
	ThresholdFrom int    `json:"threshold_from,omitempty"`
	ThresholdTo   int    `json:"threshold_to,omitempty"`
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
	e := &engine{opts: opts, batch: atomicfile.NewBatch()}
	files := found
	results := make([]Result, len(files))
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	// jobs files are worked on at once; while a file waits for the disk
	// (temporary file, fsync, rename) the next ones are already being worked
	// on, so there are more goroutines than jobs, and the work itself holds
	// one of jobs slots.
	e.cpu = make(chan struct{}, jobs)
	workers := min(max(jobs*ioOverlap, minWorkers), len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := ctx.Err(); err != nil {
					results[i] = failed(files[i].Path, errors.New("not processed: interrupted"))
				} else {
					results[i] = e.process(files[i])
				}
				if opts.Progress != nil {
					mu.Lock()
					done++
					opts.Progress(done, len(files), &results[i])
					mu.Unlock()
				}
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	// Each file was renamed over its target only once its new content was
	// on disk; the folders' fsyncs, which make the renames durable, are
	// done once per folder here instead of once per file.
	e.batch.Sync()
	return results
}

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

type engine struct {
	opts     Options
	cpu      chan struct{} // a slot per job
	batch    *atomicfile.Batch
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
	if err := e.batch.WriteFile(r.Path, out, atomicfile.Options{Expect: data}); err != nil {
		if errors.Is(err, atomicfile.ErrChanged) {
			err = atomicfile.ErrChanged
		}
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
