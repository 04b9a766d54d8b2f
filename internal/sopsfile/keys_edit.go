package sopsfile

import (
	"errors"
	"fmt"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// ReplaceStanzas removes the entries of the keys in remove and adds the
// entries of add in a single edit: what [RemoveStanzas] followed by
// [AddStanzas] do, with the file read, edited and checked once instead of
// twice. Entries of other keys, the values and the rest of the metadata stay
// byte-identical.
func ReplaceStanzas(f *File, data []byte, remove []recipients.Key, add []NewStanza) ([]byte, error) {
	if len(remove) == 0 {
		return AddStanzas(f, data, add)
	}
	if len(add) == 0 {
		return RemoveStanzas(f, data, remove)
	}
	drop := map[recipients.Key]bool{}
	for _, k := range remove {
		drop[k] = true
	}
	c := change{
		drop: map[int]map[recipients.KeyType][]int{},
		add:  map[int]map[recipients.KeyType][][]Field{},
	}
	want := make([][]string, len(f.Groups))
	for gi, g := range f.Groups {
		for _, s := range g {
			if !drop[s.Key] {
				want[gi] = append(want[gi], s.Key.String())
				continue
			}
			if c.drop[gi] == nil {
				c.drop[gi] = map[recipients.KeyType][]int{}
			}
			c.drop[gi][s.Key.Type] = append(c.drop[gi][s.Key.Type], s.Index)
		}
	}
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
	for gi := range want {
		if len(want[gi]) == 0 {
			return nil, errors.New("the change would leave a key group without any key")
		}
	}
	out, err := runEdit(f, data, func(e editor) ([]edit, error) { return e.apply(c) })
	if err != nil {
		return nil, err
	}
	return out, verify(f, out, want)
}
