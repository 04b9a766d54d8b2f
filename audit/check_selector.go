package audit

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// Selector is an encryption selector: the one of sops' six selector keys
// that is set (encrypted_regex, unencrypted_regex, encrypted_suffix,
// unencrypted_suffix, encrypted_comment_regex, unencrypted_comment_regex),
// its value, and mac_only_encrypted. With none written, sops uses (and
// writes into every file it encrypts) unencrypted_suffix "_unencrypted".
type Selector struct {
	Key     string
	Value   string
	Default bool // no selector was written: sops' default
	// MACOnlyEncrypted is mac_only_encrypted (the MAC covers only the
	// encrypted values).
	MACOnlyEncrypted bool
}

// DefaultUnencryptedSuffix is sops.DefaultUnencryptedSuffix.
const DefaultUnencryptedSuffix = "_unencrypted"

// Equal reports whether s and o select the same values the same way
// (an explicit unencrypted_suffix "_unencrypted" equals the default).
func (s Selector) Equal(o Selector) bool {
	return s.Key == o.Key && s.Value == o.Value && s.MACOnlyEncrypted == o.MACOnlyEncrypted
}

// String renders `encrypted_regex "^data$"`, with ", mac_only_encrypted"
// when set and " (sops' default)" for the default.
func (s Selector) String() string {
	out := fmt.Sprintf("%s %q", s.Key, s.Value)
	if s.Default {
		out += " (sops' default)"
	}
	if s.MACOnlyEncrypted {
		out += ", mac_only_encrypted"
	}
	return out
}

func makeSelector(encRe, unencRe, encSuf, unencSuf, encCmt, unencCmt string, macOnly bool) (Selector, bool) {
	s := Selector{MACOnlyEncrypted: macOnly}
	n := 0
	for _, kv := range [][2]string{
		{"encrypted_regex", encRe}, {"unencrypted_regex", unencRe}, {"encrypted_suffix", encSuf},
		{"unencrypted_suffix", unencSuf}, {"encrypted_comment_regex", encCmt}, {"unencrypted_comment_regex", unencCmt},
	} {
		if kv[1] != "" {
			s.Key, s.Value = kv[0], kv[1]
			n++
		}
	}
	if n == 0 {
		s.Key, s.Value, s.Default = "unencrypted_suffix", DefaultUnencryptedSuffix, true
	}
	return s, n <= 1
}

// FileSelector is the selector stored in a file's metadata; ok is false
// when it holds several (sops refuses the file).
func FileSelector(f *sopsfile.File) (s Selector, ok bool) {
	return makeSelector(f.EncryptedRegex, f.UnencryptedRegex, f.EncryptedSuffix, f.UnencryptedSuffix,
		f.EncryptedCommentRegex, f.UnencryptedCommentRegex, f.MACOnlyEncrypted)
}

// RuleSelector is the selector sops applies when it encrypts a file under
// rule (its effective selector); ok is false when the rule sets several
// (sops refuses to encrypt).
func RuleSelector(r *recipients.Rule) (s Selector, ok bool) {
	return makeSelector(r.EncryptedRegex, r.UnencryptedRegex, r.EncryptedSuffix, r.UnencryptedSuffix,
		r.EncryptedCommentRegex, r.UnencryptedCommentRegex, r.MACOnlyEncrypted)
}

func (s Selector) encRules() *encRules {
	f := &sopsfile.File{}
	switch s.Key {
	case "encrypted_regex":
		f.EncryptedRegex = s.Value
	case "unencrypted_regex":
		f.UnencryptedRegex = s.Value
	case "encrypted_suffix":
		f.EncryptedSuffix = s.Value
	case "unencrypted_suffix":
		f.UnencryptedSuffix = s.Value
	case "encrypted_comment_regex":
		f.EncryptedCommentRegex = s.Value
	case "unencrypted_comment_regex":
		f.UnencryptedCommentRegex = s.Value
	}
	return rulesOf(f)
}

// SelectorChange is a value (or comment) whose encryption a change of
// selector changes.
type SelectorChange struct {
	Path    []string // key path; items of a list share it
	Line    int
	Comment bool
	// Encrypt is true when the new selector encrypts it and the file's
	// does not; false when the file's encrypts it and the new one does not.
	Encrypt bool
}

// SelectorDrift is a file whose stored selector differs from its rule's.
type SelectorDrift struct {
	File, Rule Selector
	Changes    []SelectorChange
	// Err is set when the data could not be walked (Changes may be
	// partial).
	Err error
}

// SelectorChanges lists the values and comments of a sops file (YAML, JSON,
// dotenv or INI; data is the file's content) that sops would encrypt under
// one of the two selectors and not under the other, read from the file's
// structure alone (no key needed). Binary files hold one value that every
// selector encrypts: nil.
func SelectorChanges(format sopsfile.Format, data []byte, from, to Selector) ([]SelectorChange, error) {
	a, b := from.encRules(), to.encRules()
	var out []SelectorChange
	seen := map[string]bool{}
	leaf := func(path []string, stack [][]string, line int, comment bool) {
		x, y := a.shouldBeEncrypted(path, stack, comment), b.shouldBeEncrypted(path, stack, comment)
		if x == y {
			return
		}
		id := fmt.Sprint(comment, "\x00", strings.Join(path, "\x00"))
		if seen[id] {
			return
		}
		seen[id] = true
		out = append(out, SelectorChange{Path: clonePath(path), Line: line, Comment: comment, Encrypt: y})
	}
	switch format {
	case sopsfile.FormatYAML:
		w := &yamlWalker{r: a, leaf: leaf}
		if err := w.walk(blankMetadata(data)); err != nil {
			return out, err
		}
	case sopsfile.FormatJSON:
		w := &jsonWalker{r: a, leaf: func(path []string, line int) {
			leaf(path, nil, line, false)
		}}
		if err := w.walk(data); err != nil {
			return out, err
		}
	case sopsfile.FormatDotenv:
		walkDotenv(data, func(path []string, stack [][]string, line int, comment bool, _ string) {
			leaf(path, stack, line, comment)
		})
	case sopsfile.FormatINI:
		// Sections are branches of the tree, their keys its leaves
		// (stores/ini); comment selectors see the comments above a key.
		section := ""
		stack := [][]string{nil, nil}
		for i, raw := range bytes.Split(data, []byte("\n")) {
			line := strings.TrimSpace(string(raw))
			switch {
			case line == "":
			case line[0] == ';' || line[0] == '#':
				stack[1] = append(stack[1], strings.TrimSpace(line[1:]))
			case line[0] == '[':
				section = strings.TrimSuffix(strings.TrimPrefix(line, "["), "]")
				stack = [][]string{nil, nil}
			default:
				if section == "sops" {
					continue
				}
				key, _, ok := strings.Cut(line, "=")
				if !ok {
					continue
				}
				leaf([]string{section, strings.TrimSpace(key)}, stack, i+1, false)
				stack[1] = nil
			}
		}
	}
	return out, nil
}

// selectorDrift compares a file's stored selector with its rule's; nil
// when they agree, or when either is one sops refuses (reported apart).
func selectorDrift(f *sopsfile.File, rule *recipients.Rule, data []byte) *SelectorDrift {
	if f.Format == sopsfile.FormatBinary || rule == nil {
		return nil
	}
	fs, ok1 := FileSelector(f)
	rs, ok2 := RuleSelector(rule)
	if !ok1 || !ok2 || fs.Equal(rs) {
		return nil
	}
	d := &SelectorDrift{File: fs, Rule: rs}
	if data != nil {
		d.Changes, d.Err = SelectorChanges(f.Format, data, fs, rs)
	}
	return d
}

// selectorDriftFinding renders d for the file r.
func selectorDriftFinding(r *FileResult, d *SelectorDrift) Finding {
	var enc, dec []string
	for _, c := range d.Changes {
		p := fmt.Sprintf("%q", strings.Join(c.Path, "."))
		if c.Comment {
			p = fmt.Sprintf("the comment on line %d", c.Line)
		}
		if c.Encrypt {
			enc = append(enc, p)
		} else {
			dec = append(dec, p)
		}
	}
	msg := fmt.Sprintf("encrypted with %s, creation rule %d asks for %s", d.File, r.Rule.Index+1, d.Rule)
	switch {
	case len(enc) > 0 && len(dec) > 0:
		msg += fmt.Sprintf(": re-encrypting would encrypt %s and leave %s in plaintext", listSome(enc), listSome(dec))
	case len(enc) > 0:
		msg += fmt.Sprintf(": not encrypted until the file is re-encrypted: %s", listSome(enc))
	case len(dec) > 0:
		msg += fmt.Sprintf(": re-encrypting would leave in plaintext: %s", listSome(dec))
	case d.Err == nil && d.File.MACOnlyEncrypted == d.Rule.MACOnlyEncrypted:
		msg += ": no value of the file changes, but sops set and edit keep using the file's selector"
	}
	return Finding{Severity: SeverityError, Code: CodeSelectorDrift, File: r.Path, Line: r.File.MetadataLine,
		Message: msg, Hint: "sopsfleet updatekeys --rotate --apply-selector " + shellQuote(r.Path)}
}

// listSome lists up to five items and says how many more there are.
func listSome(items []string) string {
	const most = 5
	s := strings.Join(items[:min(most, len(items))], ", ")
	paths := items
	if len(paths) > most {
		s += fmt.Sprintf(" and %d more", len(paths)-most)
	}
	return s
}
