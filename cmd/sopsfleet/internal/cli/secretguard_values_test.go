package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/internal/secretguard/guardtest"
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// valueFixture is a repository whose sops files of every format are broken
// in ways that make sops' stores and decoders quote file text, each with a
// planted SECRETVAL-… value.
type valueFixture struct {
	dir, config, keyFile string
	ids                  map[string]*age.X25519Identity
	values               []string
	broken               []string // file names
}

var encValue = regexp.MustCompile(`ENC\[AES256_GCM,[^\]]*\]`)

func newValueFixture(t *testing.T) *valueFixture {
	t.Helper()
	fx := &valueFixture{dir: t.TempDir(), ids: map[string]*age.X25519Identity{}}
	for _, n := range []string{"admin", "web2", "web3", "web4"} {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		fx.ids[n] = id
	}
	fx.keyFile = filepath.Join(fx.dir, "admin.key")
	if err := os.WriteFile(fx.keyFile, []byte(fx.ids["admin"].String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fx.config = filepath.Join(fx.dir, ".sops.yaml")
	fx.writeConfig(t, "admin", "web2", "web3")

	secret := func() string {
		v := guardtest.SecretValue(t)
		fx.values = append(fx.values, v)
		return v
	}
	groups := [][]recipients.Key{{
		{Type: recipients.TypeAge, ID: fx.ids["admin"].Recipient().String()},
		{Type: recipients.TypeAge, ID: fx.ids["web2"].Recipient().String()},
	}}
	encrypt := func(format sopsfile.Format, plain string) string {
		enc, err := sopsfile.NewOpener(nil).EncryptNew(format, []byte(plain), groups, 0)
		if err != nil {
			t.Fatal(err)
		}
		return string(enc)
	}
	write := func(name, text string) {
		fx.broken = append(fx.broken, name)
		p := filepath.Join(fx.dir, "secrets", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// plainValue replaces the first encrypted value by a plaintext one.
	plainValue := func(text, v string) string {
		loc := encValue.FindStringIndex(text)
		if loc == nil {
			t.Fatalf("no encrypted value in %q", text)
		}
		return text[:loc[0]] + v + text[loc[1]:]
	}

	yaml := func() string { return encrypt(sopsfile.FormatYAML, "password: "+secret()+"\nport: 5432\n") }
	write("tag.yaml", "extra: !!int "+secret()+"\n"+yaml())
	write("stray.yaml", secret()+"\n"+yaml())
	write("plain.yaml", plainValue(yaml(), secret()))
	write("badtype.yaml", "nested:\n    n: !!float "+secret()+"\n"+yaml())

	json := func() string { return encrypt(sopsfile.FormatJSON, `{"password": "`+secret()+`", "port": 5432}`) }
	write("stray.json", strings.Replace(json(), "{", "{\n\t\"stray\": "+secret()+",", 1))
	write("plain.json", plainValue(json(), secret()))
	write("top.json", json()+"\n"+`"`+secret()+`"`)

	env := func() string { return encrypt(sopsfile.FormatDotenv, "PASSWORD="+secret()+"\nPORT=5432\n") }
	write("stray.env", secret()+"\n"+env())
	write("plain.env", plainValue(env(), secret()))
	write("middle.env", strings.Replace(env(), "\n", "\n"+secret()+"\n", 1))

	ini := func() string { return encrypt(sopsfile.FormatINI, "[db]\npassword = "+secret()+"\nport = 5432\n") }
	write("stray.ini", strings.Replace(ini(), "[db]\n", "[db]\n"+secret()+"\n", 1))
	write("plain.ini", plainValue(ini(), secret()))
	write("section.ini", strings.Replace(ini(), "[db]\n", "[db]\n["+secret()+"\n", 1))

	bin := func() string { return encrypt(sopsfile.FormatBinary, "binary "+secret()+"\n") }
	write("plain.bin", plainValue(bin(), secret()))
	write("stray.bin", strings.Replace(bin(), "{", "{\n\t\"stray\": "+secret()+",", 1))

	// A private key pasted where a recipient belongs.
	for _, name := range []string{"pasted.yaml", "pasted.json", "pasted.env", "pasted.ini"} {
		text := encrypt(sopsfile.FormatFor(name), map[string]string{
			"pasted.yaml": "a: 1\n", "pasted.json": `{"a": 1}`, "pasted.env": "A=1\n", "pasted.ini": "[s]\na = 1\n",
		}[name])
		write(name, strings.Replace(text, fx.ids["web2"].Recipient().String(), fx.ids["web2"].String(), 1))
	}

	// One intact file of each format, so that commands have work to do.
	for _, f := range []struct {
		name string
		text string
	}{{"ok.yaml", yaml()}, {"ok.json", json()}, {"ok.env", env()}, {"ok.ini", ini()}, {"ok.bin", bin()}} {
		p := filepath.Join(fx.dir, "secrets", f.name)
		if err := os.WriteFile(p, []byte(f.text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return fx
}

// writeConfig writes .sops.yaml with one rule for the recipients names.
func (fx *valueFixture) writeConfig(t *testing.T, names ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("keys:\n")
	for _, n := range []string{"admin", "web2", "web3", "web4"} {
		b.WriteString("  - &" + n + " " + fx.ids[n].Recipient().String() + "\n")
	}
	b.WriteString("creation_rules:\n  - path_regex: ^secrets/\n    age:\n")
	for _, n := range names {
		b.WriteString("      - *" + n + "\n")
	}
	if err := os.WriteFile(fx.config, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (fx *valueFixture) io() (*IOStreams, *strings.Builder) {
	ios, _, _ := TestIO("")
	var all strings.Builder
	ios.Out, ios.ErrOut = &all, &all
	env := map[string]string{
		"HOME":              filepath.Join(fx.dir, "home"),
		"XDG_CONFIG_HOME":   filepath.Join(fx.dir, "home", ".config"),
		"SOPS_AGE_KEY_FILE": fx.keyFile,
	}
	ios.Getenv = func(k string) string { return env[k] }
	return ios, &all
}

// TestNoSecretValueEchoed gives broken files of every format, each with a
// planted plaintext value, to every command that reads files, and fails on
// any trace of the values (or of the identity) in stdout or stderr.
func TestNoSecretValueEchoed(t *testing.T) {
	fx := newValueFixture(t)
	secrets := filepath.Join(fx.dir, "secrets")
	var identity []guardtest.Key
	for _, n := range []string{"admin", "web2"} {
		identity = append(identity, guardtest.Key{Name: n, Needles: []string{strings.TrimPrefix(fx.ids[n].String(), "AGE-SECRET-KEY-1")[:20]}})
	}
	c := "--config=" + fx.config
	runs := [][]string{
		{c, "check", secrets},
		{c, "check", "--format", "json", secrets},
		{c, "check", "--format", "github", secrets},
		{c, "check", "--format", "sarif", secrets},
		{c, "-v", "check", "--strict", secrets},
		{c, "report", secrets},
		{c, "report", "--format", "json", secrets},
		{c, "report", "--by", "recipient", secrets},
		{c, "report", "--recipient", "web2", secrets},
		{c, "-v", "updatekeys", "--dry-run", secrets},
		{c, "-v", "updatekeys", secrets},
		{c, "updatekeys", "--json", secrets},
		{c, "-v", "updatekeys", "--rotate", "-i", fx.keyFile, secrets},
		{c, "recipients", "add", "web4", fx.ids["web4"].Recipient().String(), "--all", "-i", fx.keyFile},
		{c, "recipients", "remove", "web2", "-i", fx.keyFile},
		{c, "recipients", "remove", "web3", "--no-rotate"},
	}
	run := func(args []string) {
		ios, all := fx.io()
		code := Run(ios, args)
		out := all.String()
		label := strings.Join(args[1:], " ")
		if os.Getenv("GUARD_DEBUG") != "" {
			t.Logf("%s (exit %d):\n%s", label, code, out)
		}
		if leaks := guardtest.Leaks(out, identity, fx.values); len(leaks) > 0 {
			t.Errorf("%s (exit %d) shows %v:\n%s", label, code, leaks, out)
		}
		if args[1] == "check" && args[2] == "--format" && args[3] == "json" {
			// The broken files were read: check names every one of them.
			for _, name := range fx.broken {
				if !strings.Contains(out, name) {
					t.Errorf("check does not mention %s:\n%s", name, out)
				}
			}
		}
	}
	for _, args := range runs {
		run(args)
	}
	// Without the files that fail planning, the config changes reach the
	// files sops' own store cannot load (rotation, secret names).
	for _, name := range []string{"middle.env", "section.ini", "stray.bin", "stray.env", "stray.json"} {
		if err := os.Remove(filepath.Join(secrets, name)); err != nil {
			t.Fatal(err)
		}
	}
	fx.writeConfig(t, "admin", "web2", "web3")
	for _, args := range [][]string{
		{c, "-v", "recipients", "remove", "web2", "-i", fx.keyFile},
		{c, "-v", "recipients", "add", "web4", fx.ids["web4"].Recipient().String(), "--all", "-i", fx.keyFile},
		{c, "-v", "recipients", "remove", "web3", "--no-rotate"},
		{c, "-v", "updatekeys", "--rotate", "-i", fx.keyFile, secrets},
	} {
		run(args)
	}
}
