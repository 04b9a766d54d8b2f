package sopsfile

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/getsops/sops/v3/kms"

	"github.com/sopsfleet/sopsfleet/internal/textedit"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// Field is one field of a metadata entry as written in the file: a string
// value, or (KMS "context") a map of string fields.
type Field struct {
	Name  string
	Value string
	Map   []Field // set for map-valued fields; Value is then unused
}

// NewStanza is an entry to add to a file's metadata: the fields sops writes
// for it, in any order (the file's own order for that type is used, else
// sops' alphabetical order). The fields must include the identifying ones
// (age: recipient; pgp: fp…) and enc.
type NewStanza struct {
	Group  int // key group index (0 for files without key_groups)
	Key    recipients.Key
	Fields []Field
}

// AgeStanza returns the entry for an age recipient whose data key (or
// Shamir part) is enc, the armored age file.
func AgeStanza(group int, recipient, enc string) NewStanza {
	return NewStanza{
		Group: group,
		Key:   recipients.Key{Type: recipients.TypeAge, ID: recipient},
		Fields: []Field{
			{Name: "recipient", Value: recipient},
			{Name: "enc", Value: enc},
		},
	}
}

// NewStanzas turns encrypted stanzas (from [Opener.EncryptGroups]) into
// entries for group, with the field names sops' stores write.
func NewStanzas(group int, enc []EncryptedStanza) []NewStanza {
	out := make([]NewStanza, 0, len(enc))
	for _, e := range enc {
		out = append(out, NewStanza{Group: group, Key: e.Key, Fields: storeFields(e)})
	}
	return out
}

// storeFields maps sops' ToMap names to the stores' field names.
func storeFields(e EncryptedStanza) []Field {
	var fs []Field
	rename := map[string]string{"vaultUrl": "vault_url", "key": "name"}
	for k, v := range e.Fields {
		if e.Key.Type == recipients.TypeAzureKV {
			if r, ok := rename[k]; ok {
				k = r
			}
		}
		switch v := v.(type) {
		case string:
			if e.Key.Type == recipients.TypeKMS && k == "role" && v == "" {
				continue
			}
			fs = append(fs, Field{Name: k, Value: v})
		case map[string]string:
			if len(v) == 0 {
				continue
			}
			var sub []Field
			for sk, sv := range v {
				sub = append(sub, Field{Name: sk, Value: sv})
			}
			fs = append(fs, Field{Name: k, Map: sortFields(sub)})
		case map[string]*string:
			if len(v) == 0 {
				continue
			}
			var sub []Field
			for sk, sv := range v {
				if sv != nil {
					sub = append(sub, Field{Name: sk, Value: *sv})
				}
			}
			fs = append(fs, Field{Name: k, Map: sortFields(sub)})
		default:
			fs = append(fs, Field{Name: k, Value: fmt.Sprint(v)})
		}
	}
	if e.Key.Type == recipients.TypeKMS {
		profile := ""
		if mk, ok := e.mk.(*kms.MasterKey); ok {
			profile = mk.AwsProfile
		}
		fs = append(fs, Field{Name: "aws_profile", Value: profile})
	}
	if !hasField(fs, "enc") {
		fs = append(fs, Field{Name: "enc", Value: e.Enc})
	}
	return sortFields(fs)
}

func hasField(fs []Field, name string) bool {
	for _, f := range fs {
		if f.Name == name {
			return true
		}
	}
	return false
}

func sortFields(fs []Field) []Field {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
	return fs
}

// orderFields orders fs like an existing entry (names in order), fields the
// entry does not have going after, alphabetically.
func orderFields(fs []Field, like []string) []Field {
	pos := map[string]int{}
	for i, n := range like {
		pos[n] = i
	}
	out := append([]Field(nil), fs...)
	sort.SliceStable(out, func(i, j int) bool {
		pi, iok := pos[out[i].Name]
		pj, jok := pos[out[j].Name]
		switch {
		case iok && jok:
			return pi < pj
		case iok != jok:
			return iok
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// edit replaces data[Start:End] with Text (see [textedit.Edit]).
type edit = textedit.Edit

// change is what an edit does to the key groups, per group: entries to drop
// (by type and index in their type list) and entries to append.
type change struct {
	drop map[int]map[recipients.KeyType][]int // group → type → indices
	add  map[int]map[recipients.KeyType][][]Field
}

// editor edits one format's metadata text.
type editor interface {
	// apply returns the edits for the change.
	apply(c change) ([]edit, error)
	// replace drops all key entries (flat lists, key_groups,
	// shamir_threshold) and writes groups with threshold instead.
	replace(groups [][]NewStanza, threshold int) ([]edit, error)
}

// editorsFor returns one editor per copy of the metadata (YAML documents
// each have one).
func editorsFor(f *File, data []byte) ([]editor, error) {
	switch f.Format {
	case FormatYAML:
		return yamlEditors(data)
	case FormatJSON, FormatBinary:
		e, err := newJSONEditor(data)
		if err != nil {
			return nil, err
		}
		return []editor{e}, nil
	case FormatDotenv:
		e, err := newFlatEditor(data, false)
		if err != nil {
			return nil, err
		}
		return []editor{e}, nil
	case FormatINI:
		e, err := newFlatEditor(data, true)
		if err != nil {
			return nil, err
		}
		return []editor{e}, nil
	}
	return nil, fmt.Errorf("unknown format of %q", f.Path)
}

// RemoveStanzas returns data without the metadata entries of the keys in
// remove, in every group that has them (and, in multi-document YAML, in
// every document's copy). Nothing else changes, except that in dotenv and
// INI the entries after a removed one are renumbered. It refuses to leave a
// group without any entry. The result is re-read and checked.
func RemoveStanzas(f *File, data []byte, remove []recipients.Key) ([]byte, error) {
	c := change{}
	want, any := c.dropKeys(f, remove)
	for gi, g := range f.Groups {
		if len(want[gi]) == 0 && len(g) > 0 {
			if len(f.Groups) == 1 {
				return nil, errors.New("removing these keys would leave the file without any key")
			}
			return nil, fmt.Errorf("removing these keys would leave key group %d empty", gi+1)
		}
	}
	if !any {
		return data, nil
	}
	out, err := runEdit(f, data, func(e editor) ([]edit, error) { return e.apply(c) })
	if err != nil {
		return nil, err
	}
	return out, verify(f, out, groupKeys(want))
}

// dropKeys records in c the removal of every entry of the keys in remove
// and returns the entries that stay, per group, and whether any goes.
func (c *change) dropKeys(f *File, remove []recipients.Key) (kept [][]Stanza, any bool) {
	drop := map[recipients.Key]bool{}
	for _, k := range remove {
		drop[k] = true
	}
	c.drop = map[int]map[recipients.KeyType][]int{}
	kept = make([][]Stanza, len(f.Groups))
	for gi, g := range f.Groups {
		for _, s := range g {
			if !drop[s.Key] {
				kept[gi] = append(kept[gi], s)
				continue
			}
			any = true
			if c.drop[gi] == nil {
				c.drop[gi] = map[recipients.KeyType][]int{}
			}
			c.drop[gi][s.Key.Type] = append(c.drop[gi][s.Key.Type], s.Index)
		}
	}
	return kept, any
}

// addNew records in c the new entries of add, checked, and returns want
// (the wanted key strings per group) with them appended.
func (c *change) addNew(f *File, add []NewStanza, want [][]string) ([][]string, error) {
	c.add = map[int]map[recipients.KeyType][][]Field{}
	for _, s := range add {
		if s.Group < 0 || s.Group >= max(len(f.Groups), 1) {
			return nil, fmt.Errorf("key group %d does not exist in %q", s.Group+1, f.Path)
		}
		if err := checkNewStanza(s); err != nil {
			return nil, err
		}
		if c.add[s.Group] == nil {
			c.add[s.Group] = map[recipients.KeyType][][]Field{}
		}
		c.add[s.Group][s.Key.Type] = append(c.add[s.Group][s.Key.Type], s.Fields)
		for len(want) <= s.Group {
			want = append(want, nil)
		}
		want[s.Group] = append(want[s.Group], s.Key.String())
	}
	return want, nil
}

// AddStanzas returns data with the entries of add appended to their groups'
// lists (creating a type's list where the group has none yet), written in
// the style of the file. Nothing else changes.
func AddStanzas(f *File, data []byte, add []NewStanza) ([]byte, error) {
	if len(add) == 0 {
		return data, nil
	}
	c := change{}
	want, err := c.addNew(f, add, groupKeys(f.Groups))
	if err != nil {
		return nil, err
	}
	out, err := runEdit(f, data, func(e editor) ([]edit, error) { return e.apply(c) })
	if err != nil {
		return nil, err
	}
	return out, verify(f, out, want)
}

// ReplaceKeyGroups returns data with all key entries replaced by groups and
// threshold (ignored for a single group): the Shamir case, where every
// entry changes. The old key entries (flat lists, key_groups,
// shamir_threshold) are cut out and the new ones spliced in, in the file's
// style; the data section and the other metadata stay byte-identical.
func ReplaceKeyGroups(f *File, data []byte, groups [][]NewStanza, threshold int) ([]byte, error) {
	if len(groups) == 0 {
		return nil, errors.New("no key groups to write")
	}
	var want [][]string
	for gi, g := range groups {
		if len(g) == 0 {
			return nil, fmt.Errorf("key group %d is empty", gi+1)
		}
		var ks []string
		for _, s := range g {
			if err := checkNewStanza(s); err != nil {
				return nil, err
			}
			ks = append(ks, s.Key.String())
		}
		want = append(want, ks)
	}
	if len(groups) == 1 {
		threshold = 0
	}
	out, err := runEdit(f, data, func(e editor) ([]edit, error) { return e.replace(groups, threshold) })
	if err != nil {
		return nil, err
	}
	if err := verify(f, out, want); err != nil {
		return nil, err
	}
	nf, _ := Parse(f.Path, out)
	if len(groups) > 1 && nf.ShamirThreshold != threshold {
		return nil, fmt.Errorf("internal error: threshold %d written as %d", threshold, nf.ShamirThreshold)
	}
	return out, nil
}

func checkNewStanza(s NewStanza) error {
	if s.Key.Type == "" || s.Key.ID == "" {
		return errors.New("entry to add has no key")
	}
	if !hasField(s.Fields, "enc") {
		return fmt.Errorf("entry for %s has no enc field", s.Key)
	}
	for _, f := range s.Fields {
		if f.Name == "" || strings.ContainsAny(f.Name, "\n\r") {
			return fmt.Errorf("entry for %s has an invalid field name %q", s.Key, f.Name)
		}
	}
	return nil
}

func runEdit(f *File, data []byte, fn func(editor) ([]edit, error)) ([]byte, error) {
	eds, err := editorsFor(f, data)
	if err != nil {
		return nil, err
	}
	var all []edit
	for _, e := range eds {
		es, err := fn(e)
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
	}
	return textedit.Apply(data, all)
}

func groupKeys(groups [][]Stanza) [][]string {
	out := make([][]string, len(groups))
	for i, g := range groups {
		for _, s := range g {
			out[i] = append(out[i], s.Key.String())
		}
	}
	return out
}

// verify re-reads out and checks its groups are want (order-insensitive),
// and that every YAML document carries the same metadata.
func verify(f *File, out []byte, want [][]string) error {
	nf, err := Parse(f.Path, out)
	if err != nil {
		return fmt.Errorf("internal error: the edited metadata does not read back: %v", err)
	}
	got := groupKeys(nf.Groups)
	if len(got) != len(want) {
		return fmt.Errorf("internal error: the edit left %d key groups, want %d", len(got), len(want))
	}
	for i := range want {
		a, b := append([]string(nil), want[i]...), append([]string(nil), got[i]...)
		sort.Strings(a)
		sort.Strings(b)
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			return fmt.Errorf("internal error: key group %d reads back as %v, want %v", i+1, b, a)
		}
	}
	for _, g := range nf.Groups {
		for _, s := range g {
			if s.Problem != "" {
				return fmt.Errorf("internal error: edited entry reads back with a problem: %s", s.Problem)
			}
		}
	}
	if f.Format == FormatYAML && nf.Documents > 1 {
		return verifyYAMLCopies(out)
	}
	return nil
}
