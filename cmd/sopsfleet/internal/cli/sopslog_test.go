package cli

import (
	"strings"
	"testing"

	"github.com/getsops/sops/v3/logging"
)

// The sops library's warnings reach the user as sopsfleet warnings, once
// per message and without their fields (a comment's text), and not with -q.
func TestSopsLogsRouted(t *testing.T) {
	l := logging.Loggers["SOPS"]
	if l == nil {
		t.Fatal("no SOPS logger: the sops package was not imported")
	}
	oldOut, oldFmt := l.Out, l.Formatter
	for _, quiet := range []bool{false, true} {
		ios, _, _ := TestIO("")
		var errOut strings.Builder
		ios.ErrOut = &errOut
		ios.Quiet = quiet
		restore := routeSopsLogs(ios)
		for range 3 {
			l.WithField("comment", "# token hunter2").Warn("Found possibly unencrypted comment in file.")
		}
		restore()
		got := errOut.String()
		want := "sopsfleet: warning: sops: Found possibly unencrypted comment in file.\n"
		if quiet {
			want = ""
		}
		if got != want {
			t.Errorf("quiet=%v: got %q, want %q", quiet, got, want)
		}
	}
	if l.Out != oldOut || l.Formatter != oldFmt {
		t.Error("the sops logger was not put back")
	}
}
