package atomicfile

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
)

// ErrAborted reports that [Staged.Abort] was called: the staged files were
// not written.
var ErrAborted = errors.New("staged writes aborted")

// IncompleteError reports that [Staged.Commit] stopped part-way, after a
// failed rename or because its context was cancelled: Written of the Total
// staged files have their new content (durably: their folders were
// synced), the others are untouched and their temporary files are removed.
// Written may be 0 when the context was cancelled before the first rename.
type IncompleteError struct {
	Written, Total int
	// Err is why Commit stopped (a rename error, or the context's error).
	Err error
}

// Error says how many files were written and why Commit stopped.
func (e *IncompleteError) Error() string {
	return fmt.Sprintf("stopped after writing %d of %d files: %v", e.Written, e.Total, e.Err)
}

// Unwrap returns Err.
func (e *IncompleteError) Unwrap() error { return e.Err }

// Staged writes many files all or nothing: [Staged.Stage] writes each new
// content to a temporary file next to its target, and nothing is visible
// until [Staged.Commit] makes every temporary file durable (fsyncs in
// parallel), checks that no target changed since it was read, renames them
// over their targets (the entries staged with [Options.Last] after all the
// others) and syncs each touched folder. A failure before the first rename
// leaves every target untouched and no temporary file behind.
//
// Stage may be called from several goroutines at once; Abort and Pending
// may be called at any time (from a signal handler's goroutine, say).
type Staged struct {
	sys     System
	workers int

	mu        sync.Mutex
	entries   []*stagedEntry
	byTarget  map[string]*stagedEntry
	readOnly  []string
	aborted   bool
	committed bool // Commit has started
	syncs     int  // fsyncs and syncfs calls
	syncfs    int  // syncfs calls
	// wholeFS is set once the files were made durable with
	// [FSSyncer.SyncFS]: the folders are then synced that way too.
	wholeFS bool
	// renaming counts the entries in stateRenaming; idle is signalled when
	// it drops to 0, so that Abort returns only once no rename is in
	// flight.
	renaming int
	idle     sync.Cond
}

// stagedEntry is one staged file and where it is in its life.
type stagedEntry struct {
	*temp
	last  bool
	sum   [sha256.Size]byte // of the new content, to accept a second Stage of the same target
	state entryState
}

type entryState int

const (
	stateWriting  entryState = iota // the temporary file exists, Stage is writing it
	stateStaged                     // written and closed, waiting for Commit
	stateRenaming                   // CommitEach is checking and renaming it, unlocked
	stateRenamed                    // renamed over its target
	stateRemoved                    // the temporary file is removed
)

// syncAtStage makes Stage fsync each file before closing it instead of
// Commit fsyncing them all by name: Windows flushes a file only through a
// handle open for writing, which a read-only temporary file cannot get.
const syncAtStage = runtime.GOOS == "windows"

// DefaultWorkers is how many fsyncs [Staged.Commit] issues at once.
const DefaultWorkers = 16

// NewStaged returns an empty set of staged writes done through sys; nil
// means the real operating system, [OS].
func NewStaged(sys System) *Staged {
	if sys == nil {
		sys = OS{}
	}
	s := &Staged{sys: sys, workers: DefaultWorkers, byTarget: map[string]*stagedEntry{}}
	s.idle.L = &s.mu
	return s
}

// Stage writes data to a temporary file next to the target of path (symbolic
// links resolved, as [WriteFile] does), with the target's mode and
// owner/group, or [Options.Perm] for a new file; it is renamed over the
// target by [Staged.Commit]. Creating the temporary file is what proves the
// folder writable now. A target whose owner has no write bit is still
// replaced but is listed by [Staged.ReadOnly], so that the caller can warn.
//
// Staging the same target twice (two links to one file, say) is accepted
// when the content is the same, and an error otherwise. On error nothing is
// left on disk for this path; the other staged files stay staged.
func (s *Staged) Stage(path string, data []byte, opts Options) error {
	s.mu.Lock()
	if err := s.closedLocked(); err != nil {
		s.mu.Unlock()
		return err
	}
	s.mu.Unlock()

	sum := sha256.Sum256(data)
	var e *stagedEntry
	t, err := prepare(s.sys, path, data, opts, syncAtStage, func(name string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		e = &stagedEntry{temp: &temp{path: path, name: name}, last: opts.Last, sum: sum}
		s.entries = append(s.entries, e)
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	if e != nil && e.state == stateRemoved {
		// Abort ran while the file was written; it removed the file.
		removeTemp(s.sys, e.name)
		return fmt.Errorf("%s: %w", path, ErrAborted)
	}
	if err != nil {
		if e != nil {
			e.state = stateRemoved
		}
		return err
	}
	e.temp = t
	if old := s.byTarget[t.target]; old != nil && old.state == stateStaged {
		e.state = stateRemoved
		removeTemp(s.sys, t.name)
		if old.sum != sum {
			return fmt.Errorf("%s: staged twice with different content (the same file as %s)", path, old.path)
		}
		return nil
	}
	if err := s.closedLocked(); err != nil {
		e.state = stateRemoved
		removeTemp(s.sys, t.name)
		return err
	}
	e.state = stateStaged
	if syncAtStage {
		s.syncs++
	}
	s.byTarget[t.target] = e
	if t.readOnly {
		s.readOnly = append(s.readOnly, path)
	}
	return nil
}

// closedLocked fails when no more files may be staged.
func (s *Staged) closedLocked() error {
	switch {
	case s.aborted:
		return ErrAborted
	case s.committed:
		return errors.New("staged writes already committed")
	}
	return nil
}

// ReadOnly lists the staged paths whose target has no write bit for its
// owner: they are replaced all the same (a rename needs only the folder to
// be writable), and the caller should say so.
func (s *Staged) ReadOnly() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.readOnly...)
}

// Pending lists the temporary files on disk that are not yet renamed, for
// a signal handler that must remove them ([Staged.Abort] does).
func (s *Staged) Pending() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for _, e := range s.entries {
		if e.state == stateWriting || e.state == stateStaged {
			names = append(names, e.name)
		}
	}
	return names
}

// Len is the number of files staged (and not yet renamed or removed).
func (s *Staged) Len() int { return len(s.Pending()) }

// Syncs is how many syncs Commit made: fsyncs of files and folders, and
// syncfs calls (see [Staged.SyncCounts]).
func (s *Staged) Syncs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncs
}

// SyncCounts splits [Staged.Syncs]: fsyncs (of files and folders) and
// syncfs calls (one per file system, for a batch of at least [SyncFSMin]
// files on a system that can).
func (s *Staged) SyncCounts() (fsyncs, syncfs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncs - s.syncfs, s.syncfs
}

// Abort removes every temporary file not yet renamed and refuses further
// Stage calls. During a Commit it makes the Commit stop before its next
// rename; during a CommitEach it also waits for the renames in flight, so
// that when it returns no rename can still happen. Calling it again, or
// after Commit, does nothing more.
func (s *Staged) Abort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aborted = true
	s.removeLocked()
	for s.renaming > 0 {
		s.idle.Wait()
	}
}

// removeLocked removes the temporary files not renamed.
func (s *Staged) removeLocked() {
	for _, e := range s.entries {
		if e.state == stateWriting || e.state == stateStaged {
			removeTemp(s.sys, e.name)
			e.state = stateRemoved
		}
	}
}

// Commit makes the staged files visible:
//
//  1. it fsyncs every temporary file, several at once;
//  2. it checks [Options.Expect] of every file (its content is still the one
//     read);
//  3. it renames each temporary file over its target in Stage order, the
//     files staged with [Options.Last] after all the others, calling
//     progress (when not nil) with the path given to Stage after each;
//  4. it fsyncs each folder that received a rename, once — the folders of
//     the other files before the first Last file is renamed, so that a
//     crash can never keep a Last file's new content without the others'.
//
// A failure in steps 1–2 (every failing file is listed) leaves every target
// untouched and removes every temporary file. If ctx is cancelled, Commit
// stops before its next rename, removes the remaining temporary files and
// returns an [*IncompleteError] saying how many files were written; so does
// a failed rename. Commit may be called once.
func (s *Staged) Commit(ctx context.Context, progress func(path string)) error {
	order, last, err := s.begin()
	if err != nil {
		return err
	}
	total := len(order)

	// 1. Durable content, fsyncs in parallel.
	toSync := order
	if syncAtStage {
		toSync = nil
	}
	if err := s.syncAll(ctx, toSync); err != nil {
		s.Abort()
		return err
	}
	// 2. Nothing changed under us.
	var errs []error
	for _, e := range order {
		if err := e.checkExpect(s.sys); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		s.Abort()
		return errors.Join(errs...)
	}
	// 3. Renames, then 4. folders.
	written := 0
	dirs := map[string]bool{}
	var stop error
	for i, e := range order {
		if i == total-len(last) && written > 0 {
			// Before the first Last file: the others' renames are durable.
			s.syncDirs(dirs)
			dirs = map[string]bool{}
		}
		s.mu.Lock()
		switch {
		case s.aborted:
			stop = ErrAborted
		case ctx.Err() != nil:
			stop = ctx.Err()
		default:
			if err := renameTemp(s.sys, e.name, e.target); err != nil {
				stop = fmt.Errorf("%s: %w", e.path, err)
			} else {
				e.state = stateRenamed
			}
		}
		if stop != nil {
			s.removeLocked()
			s.mu.Unlock()
			break
		}
		s.mu.Unlock()
		written++
		dirs[filepath.Dir(e.target)] = true
		if progress != nil {
			progress(e.path)
		}
	}
	s.syncDirs(dirs)
	if stop != nil {
		return &IncompleteError{Written: written, Total: total, Err: stop}
	}
	return nil
}

// begin closes the set to further Stage calls and returns the entries to
// rename, in order, the Last ones at the end (and also on their own).
func (s *Staged) begin() (order, last []*stagedEntry, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.closedLocked(); err != nil {
		return nil, nil, err
	}
	s.committed = true
	for _, e := range s.entries {
		switch e.state {
		case stateWriting:
			s.removeLocked()
			return nil, nil, fmt.Errorf("%s: commit called while the file is still being staged", e.path)
		case stateStaged:
			if e.last {
				last = append(last, e)
			} else {
				order = append(order, e)
			}
		}
	}
	return append(order, last...), last, nil
}

// CommitEach is [Staged.Commit] for a batch whose files are independent
// (sopsfleet updatekeys, which keeps going past a failing file): the
// temporary files are made durable together (one barrier), then each file
// is checked and renamed on its own, several at once — a file that changed
// on disk since it was read, or whose rename fails, is left untouched, its
// temporary file removed, and reported to done with its error; the others
// are still written. done (when not nil) is called once per staged file,
// in Stage order, after the renames, with nil for a file written. Each
// touched folder is synced once, at the end. If the syncs fail (or ctx is
// cancelled during them) nothing is written, every file is reported with
// that error and it is returned; if ctx is cancelled (or Abort is called)
// during the renames, no further rename starts, the remaining temporary
// files are removed and reported to done with the reason, and an
// [*IncompleteError] is returned.
func (s *Staged) CommitEach(ctx context.Context, done func(path string, err error)) error {
	order, _, err := s.begin()
	if err != nil {
		return err
	}
	if done == nil {
		done = func(string, error) {}
	}
	toSync := order
	if syncAtStage {
		toSync = nil
	}
	if err := s.syncAll(ctx, toSync); err != nil {
		s.Abort()
		for _, e := range order {
			done(e.path, err)
		}
		return err
	}
	errs := make([]error, len(order))
	var stop error // why the renames stopped, under s.mu
	s.parallel(len(order), func(i int) {
		e := order[i]
		s.mu.Lock()
		if stop == nil {
			switch {
			case s.aborted:
				stop = ErrAborted
			case ctx.Err() != nil:
				stop = ctx.Err()
			}
		}
		if stop != nil || e.state != stateStaged {
			if e.state == stateStaged {
				removeTemp(s.sys, e.name)
				e.state = stateRemoved
			}
			errs[i] = stop
			if errs[i] == nil {
				errs[i] = ErrAborted
			}
			s.mu.Unlock()
			return
		}
		e.state = stateRenaming
		s.renaming++
		s.mu.Unlock()

		ferr := e.checkExpect(s.sys)
		if ferr == nil {
			if rerr := renameTemp(s.sys, e.name, e.target); rerr != nil {
				ferr = fmt.Errorf("%s: %w", e.path, rerr)
			}
		}
		s.mu.Lock()
		if ferr != nil {
			removeTemp(s.sys, e.name)
			e.state = stateRemoved
		} else {
			e.state = stateRenamed
		}
		s.renaming--
		if s.renaming == 0 {
			s.idle.Broadcast()
		}
		s.mu.Unlock()
		errs[i] = ferr
	})
	written := 0
	dirs := map[string]bool{}
	for i, e := range order {
		if errs[i] == nil {
			written++
			dirs[filepath.Dir(e.target)] = true
		}
	}
	s.syncDirs(dirs)
	for i, e := range order {
		done(e.path, errs[i])
	}
	if stop != nil {
		return &IncompleteError{Written: written, Total: len(order), Err: stop}
	}
	return nil
}

// parallel runs fn(0…n-1) on a few goroutines (two per CPU: a rename
// waits for the disk now and then), in order of i as far as a pool can.
func (s *Staged) parallel(n int, fn func(i int)) {
	workers := min(max(2*runtime.GOMAXPROCS(0), 2), n, s.workers)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// syncAll makes the temporary files of entries durable: a batch of at
// least [SyncFSMin] files with one [FSSyncer.SyncFS] call when s.sys can,
// any other with fsyncs, up to s.workers at once. It stops early when ctx
// is cancelled or Abort is called.
func (s *Staged) syncAll(ctx context.Context, entries []*stagedEntry) error {
	if done, err := s.syncAllFS(ctx, entries); done {
		return err
	}
	errs := make([]error, len(entries))
	next := make(chan int)
	var wg sync.WaitGroup
	workers := min(s.workers, len(entries))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				err := s.sys.SyncFile(entries[i].name)
				s.mu.Lock()
				s.syncs++
				s.mu.Unlock()
				if err != nil {
					errs[i] = fmt.Errorf("%s: sync its new content: %w", entries[i].path, unwrapPath(err))
				}
			}
		}()
	}
	var stop error
	for i := range entries {
		if err := ctx.Err(); err != nil {
			stop = err
			break
		}
		s.mu.Lock()
		aborted := s.aborted
		s.mu.Unlock()
		if aborted {
			stop = ErrAborted
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	s.mu.Lock()
	if s.aborted {
		stop = ErrAborted
	}
	s.mu.Unlock()
	if stop == ErrAborted {
		return ErrAborted
	}
	if stop != nil {
		return &IncompleteError{Written: 0, Total: len(entries), Err: stop}
	}
	return errors.Join(errs...)
}

// syncAllFS is syncAll with one syncfs per file system; done false means
// it did nothing (a small batch, or a system that cannot).
func (s *Staged) syncAllFS(ctx context.Context, entries []*stagedEntry) (done bool, err error) {
	fss, ok := s.sys.(FSSyncer)
	if !ok || len(entries) < SyncFSMin {
		return false, nil
	}
	if err := ctx.Err(); err != nil {
		return true, &IncompleteError{Written: 0, Total: len(entries), Err: err}
	}
	seen := map[string]bool{}
	var dirs []string
	for _, e := range entries {
		if d := filepath.Dir(e.name); !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	n, ok, err := fss.SyncFS(dirs)
	if !ok {
		return false, nil
	}
	s.mu.Lock()
	s.syncs += n
	s.syncfs += n
	s.wholeFS = true
	aborted := s.aborted
	s.mu.Unlock()
	switch {
	case aborted:
		return true, ErrAborted
	case err != nil:
		return true, fmt.Errorf("make the %d new files durable: %w", len(entries), err)
	}
	return true, nil
}

// syncDirs fsyncs each folder once, in a stable order — or, after a
// [FSSyncer.SyncFS] of the files, syncs their file systems again when
// there are several folders. Like [WriteFile] it is best effort: not every
// file system can sync a folder.
func (s *Staged) syncDirs(dirs map[string]bool) {
	list := make([]string, 0, len(dirs))
	for d := range dirs {
		list = append(list, d)
	}
	sort.Strings(list)
	s.mu.Lock()
	wholeFS := s.wholeFS
	s.mu.Unlock()
	if fss, ok := s.sys.(FSSyncer); ok && wholeFS && len(list) > 1 {
		if n, ok, _ := fss.SyncFS(list); ok {
			s.mu.Lock()
			s.syncs += n
			s.syncfs += n
			s.mu.Unlock()
			return
		}
	}
	for _, d := range list {
		s.sys.SyncDir(d)
		s.mu.Lock()
		s.syncs++
		s.mu.Unlock()
	}
}
