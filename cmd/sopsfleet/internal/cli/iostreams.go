package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams is the only way commands reach the terminal. Tests pass buffers.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// InTTY, OutTTY and ErrTTY say whether each stream is a terminal.
	InTTY, OutTTY, ErrTTY bool
	// Color says whether styling is wanted at all (no --no-color, no NO_COLOR).
	// Styles are applied to a stream only when it is also a terminal.
	Color bool
	// Quiet (-q/--quiet) suppresses warnings, hints and information:
	// only data, errors and the warnings printed with Alertf remain.
	Quiet bool
	// Verbose (-v/--verbose) asks for more detail: files skipped or left
	// unchanged, where identities came from (see Verbosef). Never set
	// together with Quiet.
	Verbose bool

	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
	// ReadPassword reads a secret from the terminal without echo.
	ReadPassword func() ([]byte, error)
}

// SystemIO returns the process's standard streams.
func SystemIO() *IOStreams {
	return &IOStreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		Color:  os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb",
		Getenv: os.Getenv,
		ReadPassword: func() ([]byte, error) {
			// The prompt goes to stderr; the terminal is opened directly so
			// a redirected stdin still works for data.
			tty, err := os.Open("/dev/tty")
			if err != nil {
				return term.ReadPassword(int(os.Stdin.Fd()))
			}
			defer tty.Close()
			return term.ReadPassword(int(tty.Fd()))
		},
	}
}

// TestIO returns streams backed by buffers and an empty environment.
func TestIO(stdin string) (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	env := map[string]string{}
	return &IOStreams{
		In:     bytes.NewBufferString(stdin),
		Out:    &out,
		ErrOut: &errOut,
		Getenv: func(k string) string { return env[k] },
	}, &out, &errOut
}

// OutColor reports whether stdout may be styled.
func (s *IOStreams) OutColor() bool { return s.Color && s.OutTTY }

// ErrColor reports whether stderr may be styled.
func (s *IOStreams) ErrColor() bool { return s.Color && s.ErrTTY }

// jsonArray renders items as an indented JSON array ending in a newline:
// "[]" when there are none, never "null", and without HTML escaping, so that
// labels such as "a<b>" read as written.
func jsonArray[T any](items []T) ([]byte, error) {
	if items == nil {
		items = []T{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(items); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
