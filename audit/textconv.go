package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// DetectFormat guesses a sops file's format from its content, for paths
// whose name says nothing (git hands a textconv driver a temporary file):
// a JSON object is JSON, or binary when its only members are "data" and
// "sops"; a "sops_version=" or "sops_mac=" line is dotenv; a "[sops]"
// section is INI; anything else YAML.
func DetectFormat(data []byte) sopsfile.Format {
	trim := bytes.TrimSpace(data)
	if len(trim) > 0 && trim[0] == '{' {
		var top map[string]json.RawMessage
		if json.Unmarshal(trim, &top) == nil {
			_, hasData := top["data"]
			_, hasSops := top["sops"]
			if len(top) == 2 && hasData && hasSops {
				return sopsfile.FormatBinary
			}
			return sopsfile.FormatJSON
		}
	}
	for _, l := range bytes.Split(data, []byte("\n")) {
		l = bytes.TrimSpace(l)
		switch {
		case bytes.HasPrefix(l, []byte("sops_version=")), bytes.HasPrefix(l, []byte("sops_mac=")),
			bytes.HasPrefix(l, []byte("sops_lastmodified=")):
			return sopsfile.FormatDotenv
		case bytes.Equal(l, []byte("[sops]")):
			return sopsfile.FormatINI
		}
	}
	return sopsfile.FormatYAML
}

// pathFor is a file name sops maps to format.
func pathFor(format sopsfile.Format) string {
	switch format {
	case sopsfile.FormatJSON:
		return "file.json"
	case sopsfile.FormatDotenv:
		return "file.env"
	case sopsfile.FormatINI:
		return "file.ini"
	case sopsfile.FormatBinary:
		return "file.bin"
	}
	return "file.yaml"
}

// Textconv renders a sops file for `git diff`: its data with every
// encrypted value replaced by "sha:" and a short digest of its ciphertext
// (so an edited value shows as a changed line, and an unchanged one does
// not), followed by a compact sorted summary of the metadata: per key
// group, each recipient by name and type with a digest of its entry (it
// changes when the entry is re-wrapped or the data key rotated), the
// threshold, and digests of the mac. The format is detected from the
// content. A file that is not sops-encrypted is returned unchanged with
// sopsfile.ErrNotEncrypted. Nothing is decrypted and no ciphertext is
// copied to the output.
func Textconv(data []byte, names *Namer) ([]byte, error) {
	f, err := sopsfile.Parse(pathFor(DetectFormat(data)), data)
	if err != nil {
		if errors.Is(err, sopsfile.ErrNotEncrypted) {
			return data, err
		}
		return nil, err
	}
	body, err := sopsfile.MaskedPlain(f, data, func(c string) string { return "sha:" + Digest(c) })
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(body)
	if len(body) > 0 && body[len(body)-1] != '\n' {
		b.WriteByte('\n')
	}
	writeSummary(&b, f, names)
	return b.Bytes(), nil
}

func writeSummary(b *bytes.Buffer, f *sopsfile.File, names *Namer) {
	fmt.Fprintf(b, "# sops metadata (%s, shown by sopsfleet textconv)\n", f.Format)
	type row struct{ label, typ, key, entry string }
	for gi, g := range f.Groups {
		if len(f.Groups) > 1 {
			fmt.Fprintf(b, "# group %d of %d:\n", gi+1, len(f.Groups))
		}
		rows := make([]row, 0, len(g))
		for _, s := range g {
			label := names.Name(s.Key)
			if label == "" {
				label = "-"
			}
			rows = append(rows, row{label, string(s.Key.Type), keyLabel(s.Key), Digest(s.Enc)})
		}
		sort.Slice(rows, func(i, j int) bool {
			if rows[i].typ != rows[j].typ {
				return rows[i].typ < rows[j].typ
			}
			if rows[i].label != rows[j].label {
				return rows[i].label < rows[j].label
			}
			return rows[i].key < rows[j].key
		})
		// Not aligned: an added recipient must not change the other lines.
		for _, r := range rows {
			fmt.Fprintf(b, "#   %s %s %s entry:%s\n", r.typ, r.label, r.key, r.entry)
		}
	}
	if len(f.Groups) > 1 {
		t := f.ShamirThreshold
		if t <= 0 {
			t = len(f.Groups)
		}
		fmt.Fprintf(b, "# threshold: %d of %d groups\n", t, len(f.Groups))
	}
	if f.MAC != "" {
		fmt.Fprintf(b, "# mac: sha:%s\n", Digest(f.MAC))
	}
	if f.LastModified != "" {
		fmt.Fprintf(b, "# lastmodified: %s\n", f.LastModified)
	}
	var settings []string
	for _, s := range []struct{ name, v string }{
		{"encrypted_regex", f.EncryptedRegex}, {"unencrypted_regex", f.UnencryptedRegex},
		{"encrypted_suffix", f.EncryptedSuffix}, {"unencrypted_suffix", f.UnencryptedSuffix},
		{"encrypted_comment_regex", f.EncryptedCommentRegex}, {"unencrypted_comment_regex", f.UnencryptedCommentRegex},
	} {
		if s.v != "" {
			settings = append(settings, fmt.Sprintf("%s=%q", s.name, s.v))
		}
	}
	if f.MACOnlyEncrypted {
		settings = append(settings, "mac_only_encrypted")
	}
	if len(settings) > 0 {
		fmt.Fprintf(b, "# settings: %s\n", strings.Join(settings, " "))
	}
}

// keySet is the set of keys of one group.
func keySet(g []sopsfile.Stanza) map[recipients.Key]string {
	m := make(map[recipients.Key]string, len(g))
	for _, s := range g {
		m[s.Key] = s.Enc
	}
	return m
}
