package cli

import (
	"errors"
	"fmt"
)

// Exit codes, decided here and nowhere else (documented in docs/exit-codes.md).
const (
	// ExitOK: the command did what was asked and found nothing wrong.
	ExitOK = 0
	// ExitFailure: findings (check, drift) or an operation that failed.
	ExitFailure = 1
	// ExitUsage: a usage error or bad input (flags, arguments, an unreadable
	// or invalid config or key file). Nothing was changed.
	ExitUsage = 2
)

// exitError carries an exit code through cobra's error return.
type exitError struct {
	code int
	err  error // nil: the message was already printed
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErr marks err as bad usage or bad input: exit 2.
func usageErr(err error) error { return &exitError{code: ExitUsage, err: err} }

// usageErrorf formats a usage error: exit 2.
func usageErrorf(format string, a ...any) error {
	return usageErr(fmt.Errorf(format, a...))
}

// failErr marks err as a failure: exit 1.
func failErr(err error) error { return &exitError{code: ExitFailure, err: err} }

// errFindings ends a command with exit 1 after it has printed its findings.
var errFindings = &exitError{code: ExitFailure}

// errSilentUsage ends a command with exit 2 after it has printed why.
var errSilentUsage = &exitError{code: ExitUsage}

// exitCode maps a command's error to the process exit code. Errors without
// a mark are failures (1).
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitFailure
}

// printable returns the message to print for err, or "" when it was already said.
func printable(err error) string {
	var ee *exitError
	if errors.As(err, &ee) && ee.err == nil {
		return ""
	}
	return err.Error()
}

// hintedError carries hints to print, as "sopsfleet: hint: …" lines, right
// after the error they belong to.
type hintedError struct {
	err   error
	hints []string
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }

// withHint attaches hints to err.
func withHint(err error, hints ...string) error {
	return &hintedError{err: err, hints: hints}
}

// hintsOf returns the hints attached to err, if any.
func hintsOf(err error) []string {
	var he *hintedError
	if errors.As(err, &he) {
		return he.hints
	}
	return nil
}
