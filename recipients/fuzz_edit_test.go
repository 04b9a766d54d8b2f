package recipients

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzEdit runs Add, Remove and Rename on arbitrary config text. None may
// panic, and any edit returned must re-read as exactly the intended change
// (the editor's own verification is checked independently here).
func FuzzEdit(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "config", "*.yaml"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for op := uint8(0); op < 3; op++ {
			f.Add(data, op, uint8(0))
			f.Add(data, op, uint8(3))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, op, pick uint8) {
		c, err := ParseConfig(".sops.yaml", data)
		if err != nil {
			return
		}
		var groups []GroupRef
		var members []Member
		for ri, r := range c.Rules {
			for gi, g := range r.Groups {
				groups = append(groups, GroupRef{ri, gi})
				members = append(members, g.Members...)
			}
		}
		switch op % 3 {
		case 0:
			if len(groups) == 0 {
				return
			}
			target := groups[int(pick)%len(groups)]
			k := Key{Type: TypeAge, ID: keyG}
			ed, err := c.Add(AddOptions{Name: "fuzzed", Key: k, Targets: []GroupRef{target}})
			if err != nil {
				return
			}
			nc, err := ParseConfig(".sops.yaml", ed.New)
			if err != nil {
				t.Fatalf("add returned text that does not parse: %v\n%s", err, ed.New)
			}
			changed := map[GroupRef]bool{}
			for _, g := range ed.Changed {
				changed[g] = true
			}
			if err := compareRules(c, nc, k, changed, true); err != nil {
				t.Fatalf("add returned an unverified edit: %v\n%s", err, ed.New)
			}
			if !ed.Unchanged() && !hasKey(nc.Rules[target.Rule].Groups[target.Group].Members, k) {
				t.Fatalf("key missing after add")
			}
		case 1:
			if len(members) == 0 {
				return
			}
			k := members[int(pick)%len(members)].Key
			ed, err := c.Remove(k)
			if err != nil {
				return
			}
			nc, err := ParseConfig(".sops.yaml", ed.New)
			if err != nil {
				t.Fatalf("remove returned text that does not parse: %v\n%s", err, ed.New)
			}
			if err := compareRules(c, nc, k, nil, false); err != nil {
				t.Fatalf("remove returned an unverified edit: %v\n%s", err, ed.New)
			}
		case 2:
			named := c.named()
			if len(named) == 0 {
				return
			}
			old := named[int(pick)%len(named)].name
			ed, err := c.Rename(old, "renamed")
			if err != nil {
				return
			}
			nc, err := ParseConfig(".sops.yaml", ed.New)
			if err != nil {
				t.Fatalf("rename returned text that does not parse: %v\n%s", err, ed.New)
			}
			if err := compareRules(c, nc, Key{}, nil, true); err != nil {
				t.Fatalf("rename returned an unverified edit: %v\n%s", err, ed.New)
			}
		}
	})
}
