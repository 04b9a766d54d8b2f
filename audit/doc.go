// Package audit answers questions about a repository's sops files from their
// metadata and their git history, without any private key: what a change
// does to who can read what ([Diff]), how a sops file reads in `git diff`
// ([Textconv]), and what a retired key could read and whether it has been
// changed since ([Exposure]).
//
// The package is read-only: it never writes a file. Git is read with the
// git command (see [Repo]); sops files are read through internal/sopsfile.
// Values are never decrypted, except by [Exposure] with an identity, which
// compares plaintext in memory only and never returns or prints it.
//
// # Names
//
// Recipients are named as a revision's .sops.yaml names them (anchor or
// comment); keys without a name are shown shortened ([Label]).
package audit
