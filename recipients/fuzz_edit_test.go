package recipients

import (
	"math/rand"
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

// FuzzGeneratedConfigs fuzzes the seed of the generator of realistic
// configs: every key group must take a fresh key and give it back byte for
// byte, and every removal and rename must verify.
func FuzzGeneratedConfigs(f *testing.F) {
	for seed := int64(0); seed < 8; seed++ {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed int64) {
		text := genConfig(rand.New(rand.NewSource(seed)))
		c, err := ParseConfig(".sops.yaml", []byte(text))
		if err != nil {
			t.Fatalf("generated config does not parse: %v\n%s", err, text)
		}
		for _, r := range c.Rules {
			for gi := range r.Groups {
				checkRoundTrip(t, c, GroupRef{r.Index, gi}, keyG, "newbie", false)
			}
		}
		checkRemoveAndRename(t, c, false, nil)
	})
}
