package sopsfile

import (
	"testing"

	"github.com/sopsfleet/sopsfleet/recipients"
)

var fuzzSeeds = []struct{ name, data string }{
	{"a.yaml", "a: ENC[x]\nsops:\n    age:\n        - recipient: age1x\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            abc\n            -----END AGE ENCRYPTED FILE-----\n        - recipient: age1y\n          enc: x\n    pgp: []\n    lastmodified: \"2024-01-01T00:00:00Z\"\n    mac: m\n    version: 3.9.0\n"},
	{"b.yaml", "a: 1\nsops:\n  key_groups:\n  - age:\n    - recipient: r\n      enc: e\n  - pgp:\n    - fp: F\n      created_at: '2024-01-01T00:00:00Z'\n      enc: |-\n        x\n\n        y\n  shamir_threshold: 2\n---\nb: 2\nsops:\n  version: 1\n"},
	{"c.json", "{\n\t\"a\": \"x\",\n\t\"sops\": {\n\t\t\"age\": [\n\t\t\t{\n\t\t\t\t\"enc\": \"a\\nb\",\n\t\t\t\t\"recipient\": \"r\"\n\t\t\t},\n\t\t\t{\"enc\": \"e\", \"recipient\": \"s\"}\n\t\t],\n\t\t\"mac\": \"m\"\n\t}\n}\n"},
	{"d.env", "A=1\nsops_age__list_0__map_enc=a\\nb\nsops_age__list_0__map_recipient=r\nsops_age__list_1__map_enc=e\nsops_age__list_1__map_recipient=s\nsops_version=3\n"},
	{"e.ini", "[x]\nk = v\n\n[sops]\nage__list_0__map_enc       = a\\nb\nage__list_0__map_recipient = r\nage__list_1__map_enc = e\nage__list_1__map_recipient = s\nversion = 3\n"},
}

// FuzzParse checks that Parse never panics and that the fast YAML reader
// agrees with yaml.v3 whenever it accepts a block.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.name, []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		_, _ = Parse(name, data)
		blocks, _ := scanYAML(data)
		for _, b := range blocks {
			fast, ok := parseYAMLBlockFast(data[b.start:b.end], b.line-1)
			if !ok {
				continue
			}
			slow, err := parseYAMLBlock(data[b.start:b.end], b.line-1)
			if err != nil {
				t.Fatalf("fast reader accepts what yaml.v3 rejects (%v):\n%s", err, data[b.start:b.end])
			}
			if a, b := treeString(fast), treeString(slow); a != b {
				t.Fatalf("fast reader differs:\n%s\nyaml.v3:\n%s\ninput:\n%s", a, b, data)
			}
		}
	})
}

// FuzzRemove checks that removing an entry never panics and never returns
// bytes that do not read back.
func FuzzRemove(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.name, []byte(s.data), uint8(0))
	}
	f.Fuzz(func(t *testing.T, name string, data []byte, which uint8) {
		file, err := Parse(name, data)
		if err != nil || len(file.Groups) == 0 || len(file.Groups[0]) == 0 {
			return
		}
		g := file.Groups[0]
		k := g[int(which)%len(g)].Key
		out, err := RemoveStanzas(file, data, []recipients.Key{k})
		if err != nil {
			return
		}
		if _, err := Parse(name, out); err != nil {
			t.Fatalf("result does not parse: %v", err)
		}
		add, err := AddStanzas(file, data, []NewStanza{AgeStanza(0, "age1fuzz", "x\ny\n")})
		if err == nil {
			if _, err := Parse(name, add); err != nil {
				t.Fatalf("result does not parse: %v", err)
			}
		}
	})
}
