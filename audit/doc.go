// Package audit is the read-only half of sopsfleet: it answers questions
// about a repository's sops files from their metadata, .sops.yaml and their
// git history, without any private key, and never writes a file (it does
// not import the writer, internal/atomicfile, nor package rekey, which
// plans from its comparisons instead).
//
//   - [Scan] and [Check]: is every file encrypted to exactly the recipients
//     .sops.yaml asks for, is .sops.yaml sound ([Lint]), are values left in
//     plaintext ([FindPlaintext], [FindPlainSecrets]).
//   - [BuildReport]: who can decrypt which file.
//   - [DiffGroups] and [EffectiveThreshold]: the comparison of a file's key
//     groups with a rule's, shared with the writer.
//   - [Diff]: what a change does to who can read what; [Textconv]: how a
//     sops file reads in `git diff`; [Exposure]: what a retired key could
//     read and whether it has been changed since.
//
// Git is read with the git command (see [Repo]); sops files are read through
// internal/sopsfile. Values are never decrypted, except by [Exposure] with
// an identity, which compares plaintext in memory only and never returns or
// prints it.
//
// # Names
//
// Recipients are named as a revision's .sops.yaml names them (anchor or
// comment); keys without a name are shown shortened ([Label]).
package audit
