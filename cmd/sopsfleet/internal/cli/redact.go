package cli

import (
	"bytes"
	"io"
	"os"

	"github.com/sopsfleet/sopsfleet/internal/secretguard"
)

// redactingWriter passes a command's standard output through the secret
// guard one line at a time, so that data read from files (a private key
// pasted where a recipient belongs, say) is not printed either. Complete
// lines are written at once; flush writes the rest.
type redactingWriter struct {
	w     io.Writer
	buf   []byte
	lines secretguard.Lines
}

var _ io.Writer = (*redactingWriter)(nil)

func (r *redactingWriter) Write(p []byte) (int, error) {
	r.buf = append(r.buf, p...)
	for {
		i := bytes.IndexByte(r.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := r.lines.Line(string(r.buf[:i+1]))
		r.buf = r.buf[i+1:]
		if _, err := io.WriteString(r.w, line); err != nil {
			return 0, err
		}
	}
}

// flush writes a last line without newline.
func (r *redactingWriter) flush() error {
	if len(r.buf) == 0 {
		return nil
	}
	line := r.lines.Line(string(r.buf))
	r.buf = nil
	_, err := io.WriteString(r.w, line)
	return err
}

// printsKeys reports whether cmd's output is private key material by
// design: convert --private-key prints the age identity of an SSH key.
func printsKeys(name string) bool { return name == "convert" }

// outFile returns the file behind w, for terminal queries.
func outFile(w io.Writer) (*os.File, bool) {
	if f, ok := w.(*os.File); ok {
		return f, true
	}
	if r, ok := w.(*redactingWriter); ok {
		return outFile(r.w)
	}
	return nil, false
}

// redactEachWrite passes each write to standard error through the guard as
// a whole, without buffering: prompts and progress lines, which do not end
// in a newline, appear at once, and a message written in one call (every
// fmt.Fprintf) is redacted whole.
type redactEachWrite struct {
	w io.Writer
}

var _ io.Writer = redactEachWrite{}

func (r redactEachWrite) Write(p []byte) (int, error) {
	if !secretguard.LooksPrivate(string(p)) {
		return r.w.Write(p)
	}
	if _, err := io.WriteString(r.w, secretguard.Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
