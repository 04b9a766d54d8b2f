//go:build !linux

package atomicfile

var _ FSSyncer = OS{}

// SyncFS implements [FSSyncer]: only Linux has syncfs, so it declines and
// every file is fsynced on its own.
func (OS) SyncFS(dirs []string) (int, bool, error) { return 0, false, nil }

// watchFS does nothing: there is no syncfs to watch for.
func watchFS(string) {}
