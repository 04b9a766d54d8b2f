package atomicfile

import (
	"os"
	"testing"
	"time"
)

// This process started a moment ago, before now, and after the boot.
func TestProcessStart(t *testing.T) {
	start, ok := processStart(os.Getpid())
	if !ok {
		t.Skip("no /proc")
	}
	boot, _ := bootTime()
	now := time.Now()
	if start.Before(boot) || start.After(now.Add(2*time.Second)) {
		t.Fatalf("start %v, boot %v, now %v", start, boot, now)
	}
	if startedAfter(os.Getpid(), now) {
		t.Error("this process started after now")
	}
	if !startedAfter(os.Getpid(), boot.Add(-time.Hour)) {
		t.Error("this process did not start after a time before the boot")
	}
	if _, ok := processStart(-1); ok {
		t.Error("a start time for pid -1")
	}
}
