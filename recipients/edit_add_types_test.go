package recipients

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/plugin"
)

// TestAddEveryKind adds a recipient of every kind to flat rules and to key
// groups (block, flow, with and without the field), checks with sops' own
// config loader that the target group gains exactly that key, that the new
// recipient carries its name, and that Remove gives the file back byte for
// byte.
func TestAddEveryKind(t *testing.T) {
	admin, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	pq, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	a := admin.Recipient().String()
	inputs := []struct {
		in string
		o  ParseOptions
	}{
		{in: pq.Recipient().String()},
		{in: plugin.EncodeRecipient("yubikey", []byte("slot 1"))},
		{in: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBoPJsHzG+STOamBdOqjr6ydnVD9X6r1RrGv4xnEcx0K bob@laptop"},
		{in: "85D77543B3D624B63CEA9E6DBC17301B491B3F21"},
		{in: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
		{in: "arn:aws:kms:eu-west-1:111122223333:alias/sops", o: ParseOptions{KMSRole: "arn:aws:iam::111122223333:role/sops", KMSContext: map[string]string{"app": "web", "env": "1"}, AWSProfile: "prod"}},
		{in: "projects/p/locations/global/keyRings/r/cryptoKeys/k"},
		{in: "https://v.vault.azure.net/keys/sops/0123456789abcdef"},
		{in: "https://vault.example.com:8200/v1/transit/keys/sops"},
		{in: "cn-north-4:0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"},
	}
	configs := map[string]string{
		"flat":        "creation_rules:\n  - path_regex: secrets/\n    age: ADMIN # admin\n",
		"flat-list":   "creation_rules:\n  - path_regex: secrets/\n    age:\n      - ADMIN # admin\n    pgp:\n      - 0000000000000000000000000000000000000AAA # old\n",
		"groups":      "creation_rules:\n  - path_regex: secrets/\n    key_groups:\n      - age:\n          - ADMIN # admin\n",
		"groups-full": "creation_rules:\n  - path_regex: secrets/\n    key_groups:\n    - age:\n      - ADMIN # admin\n      pgp:\n      - 0000000000000000000000000000000000000AAA # old\n      kms:\n      - arn: arn:aws:kms:us-east-1:111122223333:key/old # oldkms\n      gcp_kms:\n      - resource_id: projects/o/locations/global/keyRings/r/cryptoKeys/old\n      azure_keyvault:\n      - vaultUrl: https://o.vault.azure.net\n        key: old\n        version: \"1\"\n      hc_vault:\n      - https://vault.example.com:8200/v1/transit/keys/old\n      hckms:\n      - key_id: cn-north-4:00000000-0000-0000-0000-000000000000\n",
		"groups-flow": "creation_rules:\n  - path_regex: secrets/\n    key_groups:\n      - {age: [ADMIN]}\n",
		"anchors":     "keys:\n  - &admin ADMIN\ncreation_rules:\n  - path_regex: secrets/\n    key_groups:\n      - age:\n          - *admin\n",
	}
	dir := t.TempDir()
	for cname, text := range configs {
		text = strings.ReplaceAll(text, "ADMIN", a)
		for _, in := range inputs {
			r, err := ParseRecipient(in.in, in.o)
			if err != nil {
				t.Fatalf("%q: %v", in.in, err)
			}
			if r.Kind == KindKMS && len(in.o.KMSContext) > 0 && strings.HasPrefix(cname, "flat") {
				continue // tested below: refused
			}
			conf := filepath.Join(dir, ".sops.yaml")
			c, err := ParseConfig(conf, []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			ed, err := c.Add(AddOptions{Name: "bob", Key: r.Key, Recipient: r, Targets: []GroupRef{{0, 0}}})
			if err != nil {
				t.Errorf("%s, %s: %v", cname, r.Kind, err)
				continue
			}
			if err := os.WriteFile(conf, ed.New, 0o644); err != nil {
				t.Fatal(err)
			}
			groups := sopsGroups(t, conf, "secrets/x.yaml")
			if len(groups) != 1 || !strings.Contains(","+groups[0]+",", ","+r.Key.ID+",") {
				t.Errorf("%s, %s: sops reads %v, want it to hold %q\n%s", cname, r.Kind, groups, r.Key.ID, ed.New)
				continue
			}
			nc, err := ParseConfig(conf, ed.New)
			if err != nil {
				t.Fatal(err)
			}
			if got := nc.NameOf(r.Key); got != "bob" && !strings.Contains(cname, "flow") {
				t.Errorf("%s, %s: named %q, want bob\n%s", cname, r.Kind, got, ed.New)
			}
			red, err := nc.Remove(r.Key)
			if err != nil {
				t.Errorf("%s, %s: remove: %v\n%s", cname, r.Kind, err, ed.New)
				continue
			}
			if strings.Contains(cname, "flow") {
				// Remove keeps an emptied flow field ("pgp: []"): the same
				// key groups for sops.
				orig := filepath.Join(dir, "orig.sops.yaml")
				if err := os.WriteFile(orig, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(conf, red.New, 0o644); err != nil {
					t.Fatal(err)
				}
				if g, w := sopsGroups(t, conf, "secrets/x.yaml"), sopsGroups(t, orig, "secrets/x.yaml"); strings.Join(g, ";") != strings.Join(w, ";") {
					t.Errorf("%s, %s: after remove sops reads %v, want %v", cname, r.Kind, g, w)
				}
			} else if string(red.New) != text {
				t.Errorf("%s, %s: add then remove gives\n%s\nwant\n%s", cname, r.Kind, red.New, text)
			}
		}
	}
}

func TestAddKMSSettingsFlatRefused(t *testing.T) {
	c, err := ParseConfig(".sops.yaml", []byte("creation_rules:\n  - kms: arn:aws:kms:eu-west-1:111122223333:key/a\n    aws_profile: dev\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []ParseOptions{{KMSContext: map[string]string{"a": "b"}, AWSProfile: "dev"}, {AWSProfile: "prod"}} {
		r, err := ParseRecipient("arn:aws:kms:eu-west-1:111122223333:key/b", o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Add(AddOptions{Name: "b", Key: r.Key, Recipient: r, Targets: []GroupRef{{0, 0}}}); err == nil || !strings.Contains(err.Error(), "key_groups") {
			t.Errorf("%+v: got %v, want a refusal naming key_groups", o, err)
		}
	}
	r, _ := ParseRecipient("arn:aws:kms:eu-west-1:111122223333:key/b", ParseOptions{AWSProfile: "dev"})
	ed, err := c.Add(AddOptions{Name: "b", Key: r.Key, Recipient: r, Targets: []GroupRef{{0, 0}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "kms: arn:aws:kms:eu-west-1:111122223333:key/a,arn:aws:kms:eu-west-1:111122223333:key/b\n"; !strings.Contains(string(ed.New), want) {
		t.Errorf("got\n%s\nwant the line %q", ed.New, want)
	}
}
