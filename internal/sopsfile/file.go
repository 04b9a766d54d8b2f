// Package sopsfile is the one place that knows the on-disk layout of sops
// encrypted files, in all five formats (YAML, JSON, dotenv, INI, binary),
// and the one place that imports sops packages.
//
// It reads metadata fast and with line numbers, without decrypting, and
// edits the metadata in place — splicing stanzas into or out of the original
// text in the style already there — instead of re-emitting the whole file.
//
// # Reading
//
// [Parse] reads the metadata of one file; [Discover] walks folders and finds
// the sops-encrypted files among them. Neither decrypts anything nor needs a
// key. [DiscoverTree] with a [DiscoverOptions.Root] (usually [TreeRoot] of
// the folder of .sops.yaml) also skips symbolic links to files outside the
// tree and reports them, with stray temporary files. Parse refuses what sops
// itself cannot read (an INI line without =, a CRLF dotenv file, a file cut
// short inside its metadata). Entries that sops could not load are reported in [Stanza.Problem] and
// [File.Problems] instead of failing the whole file.
//
// # Editing
//
// [RemoveStanzas], [AddStanzas] and [ReplaceKeyGroups] return the new bytes of
// a file with only the metadata entries concerned changed; everything else,
// including the data section and the other stanzas, stays byte-identical.
package sopsfile

import (
	"errors"
	"fmt"
	"strings"

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

	// ShamirThresholdLine is the line of shamir_threshold, 0 when absent.
	ShamirThresholdLine int
	// Problems are file-level metadata problems that would make sops refuse
	// the file or that a reviewer should know about (no keys at all, several
	// encryption rules, an unparsable lastmodified…). Missing mac,
	// lastmodified or version are visible as empty fields, not problems.
	Problems []Problem
}

// Problem is a metadata problem found while parsing, with its line when known.
type Problem struct {
	Line    int
	Message string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	return p.Message
}

// Stanza is one master key entry of the metadata.
type Stanza struct {
	Key  recipients.Key
	Enc  string // the encrypted data key (age: armored age file)
	Line int    // line of the entry's first field
	// Problem is set when the entry is malformed (no recipient, empty enc…).
	Problem string

	// EndLine is the last line of the entry (the same as Line in dotenv/INI
	// where the entry's fields are spread out; there it is the last field's
	// line).
	EndLine int
	// Group is the index of the key group the entry belongs to.
	Group int
	// Index is the entry's position in its type's list within its group
	// (the N of age[N], or of sops_age__list_N__map_… in dotenv/INI).
	Index int
	// CreatedAt is the created_at field of non-age entries, as written.
	CreatedAt string
}

// Parse reads the metadata of a sops file. The format comes from the path's
// extension as sops decides it ([FormatFor]). A file without sops metadata
// gives [ErrNotEncrypted]; a file whose metadata cannot be read gives an
// error naming the line where known.
func Parse(path string, data []byte) (*File, error) {
	f := &File{Path: path, Format: FormatFor(path), Documents: 1}
	s := scratches.Get().(*parseScratch)
	defer s.release() // after fromTree: nothing of f points into s
	var root *mnode
	var err error
	switch f.Format {
	case FormatYAML:
		root, err = parseYAML(f, data, s)
	case FormatJSON, FormatBinary:
		root, err = parseJSONIn(data, &s.a)
	case FormatDotenv:
		root, err = parseDotenv(f, data, s)
	case FormatINI:
		root, err = parseINI(data, s)
	}
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, ErrNotEncrypted
	}
	if f.MetadataLine == 0 {
		f.MetadataLine = root.keyLine
	}
	if err := f.fromTree(root); err != nil {
		return nil, err
	}
	if err := truncated(f, data); err != nil {
		return nil, err
	}
	return f, nil
}

// truncated reports a file that ends inside its sops metadata: sops writes
// YAML, JSON and INI files with a final newline and the mac, lastmodified
// and version fields, so a file without the newline that lacks one of them
// was cut short (a failed copy, a full disk). sops cannot read it.
func truncated(f *File, data []byte) error {
	if f.Format == FormatDotenv || len(data) == 0 || data[len(data)-1] == '\n' {
		return nil
	}
	var missing []string
	for _, m := range []struct{ name, value string }{
		{"lastmodified", f.LastModified}, {"mac", f.MAC}, {"version", f.Version},
	} {
		if m.value == "" {
			missing = append(missing, m.name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("the file ends inside its sops metadata (no %s): it looks truncated", strings.Join(missing, ", "))
}
