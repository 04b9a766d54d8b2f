package cli

import (
	"io"
	"strings"
	"sync"

	"github.com/getsops/sops/v3/logging"
	"github.com/sirupsen/logrus"
)

// routeSopsLogs sends the warnings of the sops library (its logrus loggers
// print to stderr on their own, once per file, with fields such as the text
// of a comment) through ios as sopsfleet warnings: redacted, without the
// fields, each message once per run, and not at all with -q. The returned
// function puts the loggers back as they were.
func routeSopsLogs(ios *IOStreams) (restore func()) {
	f := &sopsLogFormatter{ios: ios, seen: map[string]bool{}}
	type saved struct {
		out io.Writer
		fmt logrus.Formatter
	}
	old := map[*logrus.Logger]saved{}
	for _, l := range logging.Loggers {
		old[l] = saved{l.Out, l.Formatter}
		l.SetFormatter(f)
		l.SetOutput(io.Discard)
	}
	return func() {
		for l, s := range old {
			l.SetFormatter(s.fmt)
			l.SetOutput(s.out)
		}
	}
}

// sopsLogFormatter prints a sops log entry as a sopsfleet warning and gives
// logrus nothing to write.
type sopsLogFormatter struct {
	ios  *IOStreams
	mu   sync.Mutex
	seen map[string]bool
}

// Format implements logrus.Formatter.
func (f *sopsLogFormatter) Format(e *logrus.Entry) ([]byte, error) {
	msg := strings.TrimSpace(e.Message)
	f.mu.Lock()
	dup := f.seen[msg]
	f.seen[msg] = true
	f.mu.Unlock()
	if !dup && msg != "" {
		f.ios.Warnf("sops: %s", msg)
	}
	return nil, nil
}
