package cli

import (
	"fmt"
	"strings"
)

// The one voice for messages (after cmd/age/tui.go): data goes to stdout;
// everything else goes to stderr as "sopsfleet: error: …", "sopsfleet:
// warning: …" or "sopsfleet: hint: …", lowercase, no trailing period.
// Messages must never contain secret values or private key material.

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
	msg := fmt.Sprintf(format, a...)
	fmt.Fprintf(s.ErrOut, "%s: %s\n", progName, strings.TrimRight(msg, "\n"))
}

func (s *IOStreams) say(label, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	fmt.Fprintf(s.ErrOut, "%s: %s %s\n", progName, label, strings.TrimRight(msg, "\n"))
}
