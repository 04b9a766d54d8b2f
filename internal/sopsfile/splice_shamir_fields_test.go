package sopsfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	sopsconfig "github.com/getsops/sops/v3/config"
	sopsjson "github.com/getsops/sops/v3/stores/json"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
)

// TestReSplitKeepsEveryGroupField: a re-split into key groups writes every
// field sops writes in each group (an empty "hc_vault: []"), so that the
// next sops write of the file changes nothing: sops' own store re-emits our
// output byte for byte.
func TestReSplitKeepsEveryGroupField(t *testing.T) {
	t.Parallel()
	k1, k2 := genAgeKey(t), genAgeKey(t)
	config := fmt.Sprintf("creation_rules:\n  - age: %s\n", k1.rcp)
	for _, name := range []string{"secrets.yaml", "secrets.json"} {
		enc := sopsEncrypt(t, name, plaintexts[name], config)
		f := mustParse(t, name, enc)
		part := make([]byte, 33)
		groups := [][]NewStanza{
			{AgeStanza(0, k1.rcp, ageEnc(t, part, k1.rcp))},
			{AgeStanza(1, k2.rcp, ageEnc(t, part, k2.rcp))},
		}
		out, err := ReplaceKeyGroups(f, enc, groups, 2)
		if err != nil {
			t.Fatal(err)
		}
		sopsAgrees(t, name, out)
		want := `hc_vault: []`
		if name == "secrets.json" {
			want = `"hc_vault": []`
		}
		if n := strings.Count(string(out), want); n != 2 {
			t.Errorf("%s: %d %q, want one per group:\n%s", name, n, want, out)
		}
		var again []byte
		switch name {
		case "secrets.yaml":
			st := sopsyaml.NewStore(&sopsconfig.YAMLStoreConfig{})
			tree, err := st.LoadEncryptedFile(out)
			if err != nil {
				t.Fatal(err)
			}
			again, err = st.EmitEncryptedFile(tree)
			if err != nil {
				t.Fatal(err)
			}
		case "secrets.json":
			st := sopsjson.NewStore(&sopsconfig.JSONStoreConfig{})
			tree, err := st.LoadEncryptedFile(out)
			if err != nil {
				t.Fatal(err)
			}
			again, err = st.EmitEncryptedFile(tree)
			if err != nil {
				t.Fatal(err)
			}
		}
		if name == "secrets.json" {
			// The store's indentation depends on its settings: compare
			// the JSON values.
			var a, b bytes.Buffer
			if err := json.Compact(&a, out); err != nil {
				t.Fatal(err)
			}
			if err := json.Compact(&b, again); err != nil {
				t.Fatal(err)
			}
			out, again = a.Bytes(), b.Bytes()
		}
		if strings.TrimSpace(string(again)) != strings.TrimSpace(string(out)) {
			t.Errorf("%s: sops re-emits the re-split file differently:\n--- ours\n%s\n--- sops\n%s", name, out, again)
		}
	}
}
