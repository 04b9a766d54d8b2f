package atomicfile

import "sync/atomic"

// FSSyncer is implemented by a [System] that can make a whole batch
// durable with one call per file system instead of one fsync per file:
// syncfs(2) on Linux. [Staged] uses it for batches of at least
// [SyncFSMin] files; a System without it is fsynced file by file.
type FSSyncer interface {
	// SyncFS makes durable everything written so far to the file systems
	// that hold the folders dirs: the content of every file in them (closed
	// or not) and their entries. It returns how many file systems it
	// synced; ok false means this system cannot (then nothing was done,
	// and the caller fsyncs each file and folder instead).
	SyncFS(dirs []string) (n int, ok bool, err error)
}

// SyncFSMin is the smallest batch [Staged] makes durable with
// [FSSyncer.SyncFS]: below it, one fsync per file costs little, and a
// syncfs would also wait for the unrelated dirty data of the file system.
const SyncFSMin = 16

var syncfsCount atomic.Int64

// SyncFSCount returns how many syncfs calls this process has made through
// [OS], so that a benchmark can report them beside [SyncCount].
func SyncFSCount() int64 { return syncfsCount.Load() }
