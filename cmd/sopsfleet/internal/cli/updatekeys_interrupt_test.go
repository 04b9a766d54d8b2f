package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/sopsfleet/sopsfleet/rekey"
)

// TestInterruptedFilesCountedNotListed: after Ctrl-C the files left
// unwritten are one line, not one failure line each; real failures are
// still listed and counted apart.
func TestInterruptedFilesCountedNotListed(t *testing.T) {
	ios, out, errOut := TestIO("")
	g := &globalOptions{IO: ios}
	results := []rekey.Result{
		{Path: "a.yaml", Status: rekey.StatusRotated},
		{Path: "b.yaml", Status: rekey.StatusFailed, Err: rekey.ErrInterrupted, Error: rekey.ErrInterrupted.Error()},
		{Path: "c.yaml", Status: rekey.StatusFailed, Err: rekey.ErrInterrupted, Error: rekey.ErrInterrupted.Error()},
		{Path: "d.yaml", Status: rekey.StatusFailed, Err: errors.New("mac mismatch"), Error: "mac mismatch"},
	}
	printUpdatekeysSummary(g, results, false)
	if err := finishUpdatekeys(g, results, nil); err == nil {
		t.Fatal("finishUpdatekeys returned nil with failed files")
	}
	if strings.Contains(out.String(), "b.yaml") || strings.Contains(out.String(), "c.yaml") {
		t.Errorf("interrupted files listed one by one:\n%s", out)
	}
	if !strings.Contains(out.String(), "d.yaml") {
		t.Errorf("the real failure is not listed:\n%s", out)
	}
	for _, want := range []string{"1 of 4 files failed", "interrupted: 2 of 4 files were not written", "run the same command again"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}
