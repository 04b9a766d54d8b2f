package sopsfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sopsfleet/sopsfleet/internal/testsops"
)

// treeString renders an mnode with its lines, for comparisons.
func treeString(n *mnode) string {
	var b strings.Builder
	var walk func(n *mnode, ind string)
	walk = func(n *mnode, ind string) {
		switch n.kind {
		case kindNull:
			fmt.Fprintf(&b, "null\n")
		case kindScalar:
			fmt.Fprintf(&b, "%q @%d-%d\n", n.value, n.line, n.end)
		case kindMap:
			fmt.Fprintf(&b, "map @%d-%d\n", n.line, n.end)
			for i, k := range n.keys {
				fmt.Fprintf(&b, "%s%s @%d: ", ind, k, n.kline[i])
				walk(n.items[i], ind+"  ")
			}
		case kindList:
			fmt.Fprintf(&b, "list(%d) @%d-%d\n", len(n.items), n.line, n.end)
			for _, it := range n.items {
				fmt.Fprintf(&b, "%s- ", ind)
				walk(it, ind+"  ")
			}
		}
	}
	walk(n, "")
	return b.String()
}

// checkFastYAML compares the fast reader with yaml.v3 on every sops block
// of data; it returns whether the fast reader handled them.
func checkFastYAML(t *testing.T, name string, data []byte) bool {
	t.Helper()
	blocks, _ := scanYAML(data)
	handled := true
	for _, b := range blocks {
		slow, err := parseYAMLBlock(data[b.start:b.end], b.line-1)
		fast, ok := parseYAMLBlockFast(data[b.start:b.end], b.line-1)
		if !ok {
			handled = false
			continue
		}
		if err != nil {
			t.Errorf("%s: yaml.v3 fails (%v) where the fast reader does not", name, err)
			continue
		}
		if a, b := treeString(fast), treeString(slow); a != b {
			t.Errorf("%s: fast reader differs:\n%s\nyaml.v3:\n%s", name, a, b)
		}
	}
	return handled
}

func TestFastYAMLCorpus(t *testing.T) {
	n, handled := 0, 0
	for _, path := range corpusFiles(t) {
		if FormatFor(path) != FormatYAML {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if checkFastYAML(t, filepath.Base(path), data) {
			handled++
		} else {
			t.Logf("%s: left to yaml.v3", filepath.Base(path))
		}
	}
	t.Logf("%d of %d YAML files read by the fast reader", handled, n)
}

func TestFastYAMLShapes(t *testing.T) {
	for name, block := range map[string]string{
		"indentless": "sops:\n  age:\n  - recipient: age1x\n    enc: |\n      -----BEGIN-----\n      abc\n      -----END-----\n  - enc: 'it''s'\n    recipient: \"age1y\"\n  kms: []\n  lastmodified: '2024-01-01T00:00:00Z'\n  version: 3.7.3 # comment\n",
		"keep":       "sops:\n    pgp:\n        -   fp: ABC\n            enc: |+\n                x\n\n                y\n\n    mac: ~\n    hc_vault:\n    version: null\n",
		"groups":     "sops:\n    key_groups:\n        - age:\n            - enc: |-\n                a\n\n                b\n              recipient: r\n          hc_vault: []\n    shamir_threshold: 2\n# trailing comment\n",
		"comments":   "sops:\n    # a comment\n    age:\n        # between\n        - recipient: r # trailing\n          enc: x\n\n    mac: m\n",
	} {
		if !checkFastYAML(t, name, []byte(block)) {
			t.Errorf("%s: not handled by the fast reader", name)
		}
	}
	for name, block := range map[string]string{
		"anchor":   "sops:\n    age: &a\n        - recipient: r\n",
		"escape":   "sops:\n    mac: \"a\\nb\"\n",
		"folded":   "sops:\n    enc: >\n        a\n",
		"flow":     "sops: {age: []}\n",
		"continue": "sops:\n    mac: abc\n        def\n",
	} {
		if _, ok := parseYAMLBlockFast([]byte(block), 0); ok {
			t.Errorf("%s: the fast reader accepted it", name)
		}
	}
}

// TestYAMLDocuments checks the document count against yaml.v3.
func TestYAMLDocuments(t *testing.T) {
	for _, s := range []string{"a: 1\n", "---\na: 1\n", "a: 1\n---\n", "a: 1\n---\nb: 2\n", "# c\n---\na: 1\n...\n---\nb: 1\n", "--- a\n--- b\n"} {
		_, docs := scanYAML([]byte(s))
		d := yaml.NewDecoder(bytes.NewReader([]byte(s)))
		n := 0
		for {
			var x yaml.Node
			if err := d.Decode(&x); err != nil {
				break
			}
			n++
		}
		if n != docs {
			t.Errorf("%q: %d documents, yaml.v3 %d", s, docs, n)
		}
	}
	if _, ok := testsops.CorpusDir("encrypted"); !ok {
		return
	}
	for _, p := range corpusFiles(t) {
		if FormatFor(p) != FormatYAML {
			continue
		}
		data, _ := os.ReadFile(p)
		_, docs := scanYAML(data)
		d := yaml.NewDecoder(bytes.NewReader(data))
		n := 0
		for {
			var x yaml.Node
			if err := d.Decode(&x); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != docs {
			t.Errorf("%s: %d documents, yaml.v3 %d", p, docs, n)
		}
	}
}
