package audit

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/internal/testsops"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// TestMain lets the test binary act as a git textconv driver: git runs it
// with SOPSFLEET_TEST_TEXTCONV=1 and the temporary file git wrote.
func TestMain(m *testing.M) {
	if os.Getenv("SOPSFLEET_TEST_TEXTCONV") == "1" {
		os.Exit(textconvMain(os.Args[len(os.Args)-1]))
	}
	os.Exit(m.Run())
}

func textconvMain(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	var names *Namer
	if cfg, err := recipients.LoadConfig(".sops.yaml"); err == nil {
		names = NewNamer(cfg)
	}
	out, err := Textconv(data, names)
	if err != nil && !errors.Is(err, sopsfile.ErrNotEncrypted) {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	os.Stdout.Write(out)
	return 0
}

var ciphertext = regexp.MustCompile(`ENC\[|BEGIN AGE|AES256_GCM`)

// Every format comes out with digests instead of ciphertext, the same
// value always gives the same digest, and a non-sops file is unchanged.
func TestTextconvFormats(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	key := recipients.Key{Type: recipients.TypeAge, ID: id.Recipient().String()}
	cfg, err := recipients.ParseConfig(".sops.yaml", []byte("keys:\n  - &alice "+key.ID+"\ncreation_rules:\n  - age: *alice\n"))
	if err != nil {
		t.Fatal(err)
	}
	names := NewNamer(cfg)
	o := sopsfile.NewOpener(nil)
	cases := []struct {
		format sopsfile.Format
		plain  string
		want   []string
	}{
		{sopsfile.FormatYAML, "db:\n  password: hunter2\n  port_unencrypted: 5432\n", []string{"db:", "password: sha:", "port_unencrypted: 5432"}},
		{sopsfile.FormatJSON, `{"db": {"password": "hunter2"}, "list": ["a", "b"]}`, []string{`"password": "sha:`, `"list": [`}},
		{sopsfile.FormatDotenv, "DB_PASSWORD=hunter2\nAPI=xyz\n", []string{"DB_PASSWORD=sha:", "API=sha:"}},
		{sopsfile.FormatINI, "[db]\npassword = hunter2\n", []string{"[db]", "password", "sha:"}},
		{sopsfile.FormatBinary, "raw secret bytes\n", []string{"data: sha:"}},
	}
	for _, c := range cases {
		t.Run(c.format.String(), func(t *testing.T) {
			enc, err := o.EncryptNew(c.format, []byte(c.plain), [][]recipients.Key{{key}}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := DetectFormat(enc); got != c.format {
				t.Fatalf("DetectFormat = %v, want %v", got, c.format)
			}
			out, err := Textconv(enc, names)
			if err != nil {
				t.Fatal(err)
			}
			s := string(out)
			for _, w := range append(c.want, "age alice age1", "entry:", "# mac: sha:") {
				if !strings.Contains(s, w) {
					t.Errorf("output lacks %q:\n%s", w, s)
				}
			}
			if ciphertext.MatchString(s) || strings.Contains(s, "hunter2") {
				t.Errorf("output holds ciphertext or plaintext:\n%s", s)
			}
			again, err := Textconv(enc, names)
			if err != nil || string(again) != s {
				t.Errorf("second run differs")
			}
		})
	}
	plain := []byte("just: a file\n")
	out, err := Textconv(plain, names)
	if !errors.Is(err, sopsfile.ErrNotEncrypted) || string(out) != string(plain) {
		t.Errorf("non-sops file: %q, %v", out, err)
	}
}

// TestTextconvGitDiff runs the real git diff with the driver configured as
// the docs say: the diff names the changed key and the added recipient, and
// shows neither ciphertext nor the unchanged key.
func TestTextconvGitDiff(t *testing.T) {
	r := newTestRepo(t, "alice", "bob", "newhost")
	r.config([2]string{`secrets/`, "alice bob"})
	r.encrypt("secrets/app.yaml", "db_password: one\napi_token: two\n")
	r.write(".gitattributes", "secrets/*.yaml diff=sopsfleet\n")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r.git("config", "diff.sopsfleet.textconv", "SOPSFLEET_TEST_TEXTCONV=1 "+self)
	r.commit("first")
	r.sops(nil, "set", "secrets/app.yaml", `["db_password"]`, `"three"`)
	r.config([2]string{`secrets/`, "alice bob newhost"})
	r.sops(nil, "updatekeys", "-y", "secrets/app.yaml")
	diff := r.git("diff", "HEAD", "--", "secrets/app.yaml")
	if ciphertext.MatchString(diff) || strings.Contains(diff, "three") {
		t.Fatalf("diff holds ciphertext or plaintext:\n%s", diff)
	}
	changed := regexp.MustCompile(`(?m)^\+db_password: sha:`)
	added := regexp.MustCompile(`(?m)^\+#   age newhost age1`)
	unchanged := regexp.MustCompile(`(?m)^[-+]api_token`)
	if !changed.MatchString(diff) || !added.MatchString(diff) || unchanged.MatchString(diff) {
		t.Fatalf("diff does not show the changed key and the added recipient only:\n%s", diff)
	}
	t.Logf("git diff:\n%s", diff)
}

// Every real-world sops file of the corpus comes out readable: no error,
// and neither ciphertext nor an encrypted data key in the output. The
// format is detected from the content alone (many have no extension).
func TestTextconvCorpus(t *testing.T) {
	for _, path := range testsops.CorpusFiles(t, "encrypted") {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Textconv(data, nil)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if ciphertext.Match(out) || strings.Contains(string(out), "BEGIN PGP") {
			t.Errorf("%s: output holds ciphertext", path)
		}
	}
}
