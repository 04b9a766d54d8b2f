package sopsfile

import (
	"errors"

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
	c := change{}
	kept, _ := c.dropKeys(f, remove)
	want, err := c.addNew(f, add, groupKeys(kept))
	if err != nil {
		return nil, err
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
