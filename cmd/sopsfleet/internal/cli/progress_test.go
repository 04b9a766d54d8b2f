package cli

import (
	"strings"
	"testing"
)

func TestProgressBarOnlyOnTerminal(t *testing.T) {
	ios, _, errOut := TestIO("")
	bar := newProgressBar(ios, 10, "files")
	bar.Set(5)
	bar.Done()
	if errOut.Len() != 0 {
		t.Fatalf("progress drawn on a pipe: %q", errOut.String())
	}

	ios, _, errOut = TestIO("")
	ios.ErrTTY = true
	bar = newProgressBar(ios, 4, "files")
	for i := 1; i <= 4; i++ {
		bar.Set(i)
	}
	got := errOut.String()
	if !strings.Contains(got, "] 1/4 files") || !strings.Contains(got, "[==============================] 4/4 files") {
		t.Fatalf("bar: %q", got)
	}
	bar.Done()
	if !strings.HasSuffix(errOut.String(), "\r\x1b[K") {
		t.Fatalf("bar not erased: %q", errOut.String())
	}
	// Quiet turns it off.
	ios, _, errOut = TestIO("")
	ios.ErrTTY, ios.Quiet = true, true
	bar = newProgressBar(ios, 4, "files")
	bar.Set(4)
	if errOut.Len() != 0 {
		t.Fatal("progress drawn with --quiet")
	}
}

func TestReasonDoesNotRepeatThePath(t *testing.T) {
	for _, c := range []struct{ path, reason, want string }{
		{"a/b.yaml", "a/b.yaml: line 3: bad", "line 3: bad"},
		{"a/b.yaml", "a/b.yaml:3: bad", "3: bad"},
		{"a/b.yaml", "no identity opens this file", "no identity opens this file"},
	} {
		if got := ukReason(c.path, c.reason); got != c.want {
			t.Errorf("ukReason(%q, %q) = %q, want %q", c.path, c.reason, got, c.want)
		}
	}
}
