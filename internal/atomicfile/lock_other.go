//go:build !unix

package atomicfile

// TryLock is a no-op where flock is not available: concurrent runs are then
// caught only by [Options.Expect] at the rename.
func TryLock(path string) (unlock func(), err error) { return func() {}, nil }
