package cli

import "errors"

// STUB helper: removed once every command exists.
var errNotImplemented = errors.New("not implemented")
