package recipients_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/getsops/sops/v3"
	sopsconfig "github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/stores/dotenv"
	"github.com/getsops/sops/v3/stores/ini"
	sopsjson "github.com/getsops/sops/v3/stores/json"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// kmsConfig has KMS keys with every setting that goes into their ID: a role,
// an encryption context (written unsorted), an AWS profile, in key groups
// and in the flat form ("ARN+ROLE_ARN", the rule's aws_profile).
const kmsConfig = `creation_rules:
  - path_regex: ^groups/
    key_groups:
      - kms:
          - arn: arn:aws:kms:eu-west-1:111122223333:key/1111aaaa-0000-0000-0000-000000000001
            role: arn:aws:iam::111122223333:role/sops-writer
            context:
              team: payments
              Environment: prod
            aws_profile: fleet
          - arn: arn:aws:kms:eu-west-1:111122223333:key/1111aaaa-0000-0000-0000-000000000002
            context:
              app: web
          - arn: arn:aws:kms:eu-west-1:111122223333:key/1111aaaa-0000-0000-0000-000000000003
  - path_regex: ^flat/
    aws_profile: ops
    kms: arn:aws:kms:us-east-1:111122223333:key/2222bbbb-0000-0000-0000-000000000001+arn:aws:iam::111122223333:role/ops,arn:aws:kms:us-east-1:111122223333:key/2222bbbb-0000-0000-0000-000000000002
  - path_regex: ^plain/
    kms:
      - arn:aws:kms:us-east-1:111122223333:key/3333cccc-0000-0000-0000-000000000001
`

// TestKMSIDsMatchFiles: for a KMS key with a role, a context and a profile,
// the Key.ID the config model gives equals the ID sopsfile.Parse reads from
// a file sops writes with that rule (in every format), and both equal sops'
// own ToString. If they differed, check would report drift that is not there.
func TestKMSIDsMatchFiles(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, ".sops.yaml")
	if err := os.WriteFile(conf, []byte(kmsConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := recipients.ParseConfig(conf, []byte(kmsConfig))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"groups/a.yaml", "flat/a.yaml", "plain/a.yaml"} {
		r, err := c.RuleFor(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		var model []string
		for _, g := range r.Groups {
			for _, m := range g.Members {
				if m.Err != nil {
					t.Errorf("%s: %v", file, m.Err)
				}
				model = append(model, m.Key.String())
			}
		}
		sort.Strings(model)
		if file == "groups/a.yaml" {
			// arn[+role][|context][|profile], context sorted by name.
			want := "kms:arn:aws:kms:eu-west-1:111122223333:key/1111aaaa-0000-0000-0000-000000000001+arn:aws:iam::111122223333:role/sops-writer|Environment:prod,team:payments|fleet"
			if len(model) != 3 || model[0] != want {
				t.Errorf("first key %q, want %q", model, want)
			}
		}

		sc, err := sopsconfig.LoadCreationRuleForFile(conf, filepath.Join(dir, file), nil)
		if err != nil {
			t.Fatal(err)
		}
		var fromSops []string
		for _, g := range sc.KeyGroups {
			for _, k := range g {
				fromSops = append(fromSops, k.TypeToIdentifier()+":"+k.ToString())
				k.SetEncryptedDataKey([]byte("not a real data key"))
			}
		}
		sort.Strings(fromSops)
		if !equal(model, fromSops) {
			t.Errorf("%s: model %q\nsops ToString %q", file, model, fromSops)
		}

		tree := sops.Tree{
			Branches: sops.TreeBranches{sops.TreeBranch{sops.TreeItem{Key: "password", Value: "ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]"}}},
			Metadata: sops.Metadata{
				KeyGroups:                 sc.KeyGroups,
				LastModified:              time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
				MessageAuthenticationCode: "ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]",
				Version:                   "3.13.3",
			},
		}
		stores := map[string]interface {
			EmitEncryptedFile(sops.Tree) ([]byte, error)
		}{
			"f.yaml": sopsyaml.NewStore(&sopsconfig.YAMLStoreConfig{}),
			"f.json": sopsjson.NewStore(&sopsconfig.JSONStoreConfig{}),
			"f.env":  dotenv.NewStore(&sopsconfig.DotenvStoreConfig{}),
			"f.ini":  ini.NewStore(&sopsconfig.INIStoreConfig{}),
		}
		for name, st := range stores {
			tr := tree
			if name == "f.ini" { // INI values live in sections
				tr.Branches = sops.TreeBranches{sops.TreeBranch{sops.TreeItem{Key: "db", Value: tree.Branches[0]}}}
			}
			data, err := st.EmitEncryptedFile(tr)
			if err != nil {
				t.Fatalf("%s %s: %v", file, name, err)
			}
			f, err := sopsfile.Parse(name, data)
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", file, name, err, data)
			}
			var parsed []string
			for _, g := range f.Groups {
				for _, s := range g {
					if s.Problem != "" {
						t.Errorf("%s %s: %s", file, name, s.Problem)
					}
					parsed = append(parsed, s.Key.String())
				}
			}
			sort.Strings(parsed)
			if !equal(model, parsed) {
				t.Errorf("%s %s: model %q\nfile     %q\n%s", file, name, model, parsed, data)
			}
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
