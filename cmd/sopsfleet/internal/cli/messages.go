package cli

import (
	"fmt"
	"strings"

	"github.com/sopsfleet/sopsfleet/internal/secretguard"
)

// The one voice for messages (after cmd/age/tui.go): data goes to stdout;
// everything else goes to stderr as "sopsfleet: error: …", "sopsfleet:
// warning: …" or "sopsfleet: hint: …", lowercase, no trailing period.
// Messages must never contain secret values or private key material: every
// line is passed through [secretguard.Redact] on its way out, so that not
// even an error quoting a pasted key can echo it.

const progName = "sopsfleet"

// Errorf prints an error line to stderr.
func (s *IOStreams) Errorf(format string, a ...any) {
	s.say(styles(s.ErrColor()).Error.Render("error:"), format, a...)
}

// Warnf prints a warning line to stderr unless quiet.
func (s *IOStreams) Warnf(format string, a ...any) {
	if s.Quiet {
		return
	}
	s.say(styles(s.ErrColor()).Warning.Render("warning:"), format, a...)
}

// Alertf prints a warning line to stderr even when quiet: for the warnings
// that must not be missed (a removed recipient still holds the data key).
func (s *IOStreams) Alertf(format string, a ...any) {
	s.say(styles(s.ErrColor()).Warning.Render("warning:"), format, a...)
}

// Hintf prints a hint line to stderr unless quiet.
func (s *IOStreams) Hintf(format string, a ...any) {
	if s.Quiet {
		return
	}
	s.say(styles(s.ErrColor()).Hint.Render("hint:"), format, a...)
}

// Infof prints an informational line to stderr unless quiet.
func (s *IOStreams) Infof(format string, a ...any) {
	if s.Quiet {
		return
	}
	msg := secretguard.Redact(fmt.Sprintf(format, a...))
	fmt.Fprintf(s.ErrOut, "%s: %s\n", progName, strings.TrimRight(msg, "\n"))
}

// Verbosef prints an informational line to stderr only with -v/--verbose:
// detail such as files skipped or left unchanged.
func (s *IOStreams) Verbosef(format string, a ...any) {
	if !s.Verbose {
		return
	}
	s.Infof(format, a...)
}

func (s *IOStreams) say(label, format string, a ...any) {
	msg := secretguard.Redact(fmt.Sprintf(format, a...))
	fmt.Fprintf(s.ErrOut, "%s: %s %s\n", progName, label, strings.TrimRight(msg, "\n"))
}
