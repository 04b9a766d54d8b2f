package atomicfile

import "testing"

func TestKernelAtLeast(t *testing.T) {
	for _, tc := range []struct {
		release string
		want    bool
	}{
		{"5.8.0", true},
		{"5.8", true},
		{"5.7.19-arch1", false},
		{"5.10.0-28-amd64", true},
		{"6.1.0-18-amd64", true},
		{"6.18.44-fc-v669", true},
		{"4.19.0", false},
		{"5.8-rc1", true},
		{"5.7-rc1", false},
		{"10.0", true},
		{"", false},
		{"garbage", false},
		{"5.x", false},
	} {
		if got := kernelAtLeast(tc.release, 5, 8); got != tc.want {
			t.Errorf("kernelAtLeast(%q, 5, 8) = %v, want %v", tc.release, got, tc.want)
		}
	}
}

// On a kernel before 5.8 SyncFS declines: its syncfs would not report a
// failed write-back.
func TestSyncFSDeclinesOnOldKernel(t *testing.T) {
	old := syncfsReportsErrors
	defer func() { syncfsReportsErrors = old }()
	syncfsReportsErrors = func() bool { return false }
	before := SyncFSCount()
	if n, ok, err := (OS{}).SyncFS([]string{t.TempDir()}); ok || n != 0 || err != nil {
		t.Fatalf("SyncFS = %d, %v, %v on an old kernel", n, ok, err)
	}
	if SyncFSCount() != before {
		t.Fatal("syncfs called on an old kernel")
	}
}

// Folders on one file system are synced with one call; a missing folder is
// an error naming it.
func TestSyncFSGroupsByDevice(t *testing.T) {
	if !syncfsReportsErrors() {
		t.Skip("kernel before 5.8")
	}
	a, b := t.TempDir(), t.TempDir()
	before := SyncFSCount()
	n, ok, err := OS{}.SyncFS([]string{a, b, a})
	if !ok || err != nil || n != 1 || SyncFSCount()-before != 1 {
		t.Fatalf("SyncFS = %d, %v, %v (%d calls) for two folders of one file system", n, ok, err, SyncFSCount()-before)
	}
	if _, _, err := (OS{}).SyncFS([]string{a + "/missing"}); err == nil {
		t.Fatal("no error for a missing folder")
	}
}
