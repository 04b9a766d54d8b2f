// Package sopsfile is the one place that knows the on-disk layout of sops
// encrypted files, in all five formats (YAML, JSON, dotenv, INI, binary),
// and the one place that imports sops packages.
//
// It reads metadata fast and with line numbers, without decrypting, and
// edits the metadata in place — splicing stanzas into or out of the original
// text in the style already there — instead of re-emitting the whole file.
package sopsfile

// CONTRACT (the sopsfile helper owns this file): rekey (issue 4) and
// check/report (issue 5) build on these types. The owner may add fields and
// functions and must keep these; bodies here are placeholders.

import (
	"errors"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// ErrNotEncrypted reports a file that has no sops metadata.
var ErrNotEncrypted = errors.New("not a sops-encrypted file")

// Format is a sops file format.
type Format int

// The five formats sops writes.
const (
	FormatUnknown Format = iota
	FormatYAML
	FormatJSON
	FormatDotenv
	FormatINI
	FormatBinary // the JSON wrapper {"data": "ENC[…]", "sops": {…}}
)

// File is a sops-encrypted file's metadata, read without decrypting.
type File struct {
	Path   string
	Format Format
	// Groups are the key groups in file order: a file without key_groups
	// has one group holding its flat stanzas.
	Groups          [][]Stanza
	KeyGroupsForm   bool // metadata uses key_groups
	ShamirThreshold int  // 0 when absent
	Version         string
	LastModified    string
	MAC             string
	// Lines of fields, 0 when absent or unknown (binary/JSON give lines too).
	MetadataLine, VersionLine, LastModifiedLine, MACLine int
	// The file's own encryption settings.
	EncryptedRegex, UnencryptedRegex   string
	EncryptedSuffix, UnencryptedSuffix string
	EncryptedCommentRegex              string
	UnencryptedCommentRegex            string
	MACOnlyEncrypted                   bool
	// Documents is the number of YAML documents (1 for other formats).
	Documents int
}

// Stanza is one master key entry of the metadata.
type Stanza struct {
	Key  recipients.Key
	Enc  string // the encrypted data key (age: armored age file)
	Line int    // line of the entry's first field
	// Problem is set when the entry is malformed (no recipient, empty enc…).
	Problem string
}

// Parse reads the metadata of a sops file. The format comes from the path's
// extension as sops decides it, falling back to sniffing the content.
func Parse(path string, data []byte) (*File, error) {
	return nil, errors.New("sopsfile.Parse: not implemented yet")
}
