package rekey

// Interop with the real sops (the version pinned in go.mod, built once per
// machine by internal/testsops): files written by sops are updated by the engine, and sops
// reads the result. Skipped when the go command is not available.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/internal/testsops"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// sopsBinary returns the path of the pinned sops (see testsops), or skips
// in -short mode.
func sopsBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("interop with the real sops skipped in -short mode")
	}
	bin, err := testsops.Bin()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// sopsRun runs sops in dir with the identity of key (or none); on success
// it returns standard output followed by standard error.
func sopsRun(t *testing.T, dir string, identity *age.X25519Identity, args ...string) ([]byte, error) {
	t.Helper()
	sopsBinary(t)
	var env []string
	if identity != nil {
		env = append(env, "SOPS_AGE_KEY="+identity.String())
	}
	cmd, err := testsops.Command(dir, env, args...)
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("sops %s: %v: %s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return append(out, stderr.Bytes()...), nil
}

// sopsDecryptWith runs sops decrypt with several identities.
func sopsDecryptWith(t *testing.T, dir, name string, ids ...*age.X25519Identity) ([]byte, error) {
	t.Helper()
	var keys []string
	for _, id := range ids {
		keys = append(keys, id.String())
	}
	sopsBinary(t)
	out, err := testsops.Run(dir, []string{"SOPS_AGE_KEY=" + strings.Join(keys, "\n")}, "decrypt", name)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// interopFormats are plaintexts sops accepts, by file name.
var interopFormats = []struct{ name, plain string }{
	{"app.yaml", "db:\n    user: app\n    password: hunter2\nlist:\n    - one\n    - two\n"},
	{"multi.yaml", "a: first\n---\nb: second\n"},
	{"web.json", "{\n    \"token\": \"hunter2\",\n    \"nested\": {\n        \"n\": 3\n    }\n}\n"},
	{"db.env", "DB_PASSWORD=hunter2\nAPI_TOKEN=t0ken\n"},
	{"mail.ini", "[smtp]\npassword = hunter2\nuser = mail\n"},
	{"cert.pem", "-----BEGIN PRIVATE KEY-----\nnot really\n-----END PRIVATE KEY-----\n"},
}

// dataSection returns the part of a sops file that holds the values: what
// must stay byte-identical when only recipients change.
func dataSection(name string, b []byte) []byte {
	s := string(b)
	switch sopsfile.FormatFor(name) {
	case sopsfile.FormatYAML:
		// Every document without its sops block.
		var keep []string
		for _, doc := range strings.Split(s, "\n---\n") {
			if i := strings.Index(doc, "sops:\n"); i >= 0 {
				doc = doc[:i]
			}
			keep = append(keep, doc)
		}
		return []byte(strings.Join(keep, "\n---\n"))
	case sopsfile.FormatDotenv:
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "sops_") {
				keep = append(keep, l)
			}
		}
		return []byte(strings.Join(keep, "\n"))
	case sopsfile.FormatINI:
		return b[:strings.Index(s, "[sops]")]
	default:
		return b[:strings.Index(s, "\"sops\": {")]
	}
}

func TestInteropSingleGroup(t *testing.T) {
	sopsBinary(t)
	keys := genKeys(t, "alice", "bob", "carol")
	rec := func(n string) string { return keys[n].id.Recipient().String() }
	dir := t.TempDir()
	writeConfig := func(names ...string) *recipients.Config {
		var ids []string
		for _, n := range names {
			ids = append(ids, rec(n))
		}
		p := filepath.Join(dir, ".sops.yaml")
		os.WriteFile(p, []byte("creation_rules:\n  - age: "+strings.Join(ids, ",")+"\n"), 0o644)
		cfg, err := recipients.LoadConfig(p)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	writeConfig("alice", "bob")
	var files []string
	plain := map[string][]byte{}
	for _, f := range interopFormats {
		p := filepath.Join(dir, f.name)
		os.WriteFile(p, []byte(f.plain), 0o644)
		if _, err := sopsRun(t, dir, nil, "encrypt", "-i", f.name); err != nil {
			t.Fatal(err)
		}
		out, err := sopsRun(t, dir, keys["bob"].id, "decrypt", f.name)
		if err != nil {
			t.Fatal(err)
		}
		plain[p] = out
		files = append(files, p)
	}
	before := map[string][]byte{}
	for _, p := range files {
		before[p] = mustRead(t, p)
	}

	// bob out, carol in; alice runs it.
	cfg := writeConfig("alice", "carol")
	opener := func() (*sopsfile.Opener, error) {
		return sopsfile.NewOpener([]age.Identity{keys["alice"].id}), nil
	}
	for _, r := range Run(context.Background(), files, Options{Config: cfg, Opener: opener}) {
		if r.Status != StatusUpdated || len(r.Added) != 1 || len(r.Removed) != 1 {
			t.Fatalf("%s: %s %s", r.Path, r.Status, r.Error)
		}
	}
	for _, p := range files {
		name := filepath.Base(p)
		after := mustRead(t, p)
		if !bytes.Equal(dataSection(name, before[p]), dataSection(name, after)) {
			t.Errorf("%s: data section changed", name)
		}
		fb, _ := sopsfile.Parse(p, before[p])
		fa, err := sopsfile.Parse(p, after)
		if err != nil {
			t.Fatal(err)
		}
		if fa.MAC != fb.MAC || fa.LastModified != fb.LastModified {
			t.Errorf("%s: mac or lastmodified changed", name)
		}
		encOf := func(f *sopsfile.File, k recipients.Key) string {
			for _, s := range f.Groups[0] {
				if s.Key == k {
					return s.Enc
				}
			}
			return ""
		}
		if a := encOf(fb, keys["alice"].key()); a == "" || a != encOf(fa, keys["alice"].key()) {
			t.Errorf("%s: alice's enc block changed", name)
		}
		for _, who := range []string{"alice", "carol"} {
			out, err := sopsRun(t, dir, keys[who].id, "decrypt", name)
			if err != nil {
				t.Errorf("%s: %s cannot decrypt: %v", name, who, err)
			} else if !bytes.Equal(out, plain[p]) {
				t.Errorf("%s: %s decrypts something else", name, who)
			}
		}
		out, err := sopsRun(t, dir, keys["alice"].id, "updatekeys", "-y", name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "already up to date") {
			t.Errorf("%s: sops updatekeys wants changes after ours:\n%s", name, out)
		}
		if !bytes.Equal(after, mustRead(t, p)) {
			t.Errorf("%s: sops updatekeys rewrote the file", name)
		}
	}

	// Rotation after removing carol: carol cannot read the new files.
	cfg = writeConfig("alice")
	for _, r := range Run(context.Background(), files, Options{Config: cfg, Opener: opener, Rotate: true}) {
		if r.Status != StatusRotated {
			t.Fatalf("%s: %s %s", r.Path, r.Status, r.Error)
		}
	}
	for _, p := range files {
		name := filepath.Base(p)
		if _, err := sopsRun(t, dir, keys["carol"].id, "decrypt", name); err == nil {
			t.Errorf("%s: carol still decrypts after rotation", name)
		}
		out, err := sopsRun(t, dir, keys["alice"].id, "decrypt", name)
		if err != nil || !bytes.Equal(out, plain[p]) {
			t.Errorf("%s: alice after rotation: %v", name, err)
		}
		out, err = sopsRun(t, dir, keys["alice"].id, "updatekeys", "-y", name)
		if err != nil || !strings.Contains(string(out), "already up to date") {
			t.Errorf("%s: sops updatekeys after rotation: %v\n%s", name, err, out)
		}
	}
}

func TestInteropKeyGroups(t *testing.T) {
	sopsBinary(t)
	keys := genKeys(t, "alice", "bob", "carol", "dave")
	rec := func(n string) string { return keys[n].id.Recipient().String() }
	dir := t.TempDir()
	writeConfig := func(threshold int, groups ...[]string) *recipients.Config {
		var b strings.Builder
		b.WriteString("creation_rules:\n  - shamir_threshold: " + fmt.Sprint(threshold) + "\n    key_groups:\n")
		for _, g := range groups {
			b.WriteString("      - age:\n")
			for _, n := range g {
				b.WriteString("          - " + rec(n) + "\n")
			}
		}
		p := filepath.Join(dir, ".sops.yaml")
		os.WriteFile(p, []byte(b.String()), 0o644)
		cfg, err := recipients.LoadConfig(p)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	writeConfig(2, []string{"alice"}, []string{"bob", "carol"})
	var files []string
	plain := map[string][]byte{}
	for _, f := range interopFormats {
		p := filepath.Join(dir, f.name)
		os.WriteFile(p, []byte(f.plain), 0o644)
		if _, err := sopsRun(t, dir, nil, "encrypt", "-i", f.name); err != nil {
			t.Fatal(err)
		}
		out, err := sopsDecryptWith(t, dir, f.name, keys["alice"].id, keys["bob"].id)
		if err != nil {
			t.Fatal(err)
		}
		plain[p] = out
		files = append(files, p)
	}
	// carol leaves the second group, dave joins the first.
	cfg := writeConfig(2, []string{"alice", "dave"}, []string{"bob"})
	opener := func() (*sopsfile.Opener, error) {
		return sopsfile.NewOpener([]age.Identity{keys["alice"].id, keys["bob"].id}), nil
	}
	for _, r := range Run(context.Background(), files, Options{Config: cfg, Opener: opener}) {
		if r.Status != StatusUpdated || !r.AllStanzasChanged {
			t.Fatalf("%s: %s %s", r.Path, r.Status, r.Error)
		}
	}
	for _, p := range files {
		name := filepath.Base(p)
		// sops needs one identity per group: dave (group 1) and bob (group 2).
		out, err := sopsDecryptWith(t, dir, name, keys["dave"].id, keys["bob"].id)
		if err != nil {
			t.Errorf("%s: dave+bob cannot decrypt: %v", name, err)
			continue
		}
		if !bytes.Equal(out, plain[p]) {
			t.Errorf("%s: decrypts to something else", name)
		}
		// alice opens group 1, but carol is no longer in group 2.
		if _, err := sopsDecryptWith(t, dir, name, keys["alice"].id, keys["carol"].id); err == nil {
			t.Errorf("%s: alice+carol still reach the threshold", name)
		}
		out, err = sopsRun(t, dir, keys["alice"].id, "updatekeys", "-y", name)
		if err != nil || !strings.Contains(string(out), "already up to date") {
			t.Errorf("%s: sops updatekeys after re-split: %v\n%s", name, err, out)
		}
	}
}

// Removing a recipient without rotation from the real-world corpus needs no
// key, and changes nothing but the removed entry's lines (and, in dotenv and
// INI, the renumbered index of later entries); sops still loads the result.
func TestInteropCorpusRemoval(t *testing.T) {
	files := testsops.CorpusFiles(t, "encrypted")
	dir := t.TempDir()
	read, removed := 0, 0
	for _, src := range files {
		name := filepath.Base(src)
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		f, err := sopsfile.Parse(p, data)
		if err != nil {
			t.Errorf("%s: metadata not readable: %v", name, err)
			continue
		}
		read++
		if len(f.Groups) != 1 || len(f.Groups[0]) < 2 || !expressible(f.Groups[0]) {
			continue
		}
		// A config wanting every key of the file but the first.
		cfgText := configWanting(f.Groups[0][1:])
		os.WriteFile(p, data, 0o644)
		cfg, err := recipients.ParseConfig(filepath.Join(dir, ".sops.yaml"), []byte(cfgText))
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, cfgText)
		}
		r := Run(context.Background(), []string{p}, Options{Config: cfg})[0]
		if r.Status != StatusUpdated || len(r.Removed) != 1 || len(r.Added) != 0 {
			t.Errorf("%s: %s %s", name, r.Status, r.Error)
			continue
		}
		removed++
		after := mustRead(t, p)
		if _, err := sopsfile.SecretNames(f, after); err != nil {
			t.Errorf("%s: sops cannot load the result: %v", name, err)
		}
		// Only lines went away (dotenv/INI: the later entries' indices are
		// renumbered, so compare with digits masked there).
		mask := func(s string) string { return s }
		if f.Format == sopsfile.FormatDotenv || f.Format == sopsfile.FormatINI {
			mask = func(s string) string {
				return strings.Map(func(r rune) rune {
					if r >= '0' && r <= '9' {
						return '#'
					}
					return r
				}, s)
			}
		}
		oldLines := strings.Split(mask(string(data)), "\n")
		newLines := strings.Split(mask(string(after)), "\n")
		j := 0
		for _, l := range oldLines {
			if j < len(newLines) && l == newLines[j] {
				j++
			}
		}
		if j != len(newLines) {
			t.Errorf("%s: the removal changed lines other than the removed entry's", name)
		}
	}
	if read != len(files) {
		t.Errorf("read the metadata of %d of %d files", read, len(files))
	}
	t.Logf("metadata read: %d files; recipient removed without a key: %d files", read, removed)
}

// expressible reports whether the stanzas are distinct age or PGP keys,
// which a generated .sops.yaml can name exactly.
func expressible(ss []sopsfile.Stanza) bool {
	seen := map[recipients.Key]bool{}
	for _, s := range ss {
		if seen[s.Key] {
			return false // a duplicate entry: removing one changes nothing sops sees
		}
		seen[s.Key] = true
		if s.Key.Type != recipients.TypeAge && s.Key.Type != recipients.TypePGP {
			return false
		}
	}
	return true
}

func configWanting(ss []sopsfile.Stanza) string {
	var b strings.Builder
	b.WriteString("creation_rules:\n  - key_groups:\n      - ")
	first := true
	for _, t := range []recipients.KeyType{recipients.TypeAge, recipients.TypePGP} {
		var ids []string
		for _, s := range ss {
			if s.Key.Type == t {
				ids = append(ids, s.Key.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		if !first {
			b.WriteString("        ")
		}
		first = false
		b.WriteString(string(t) + ":\n")
		for _, id := range ids {
			fmt.Fprintf(&b, "          - %q\n", id)
		}
	}
	return b.String()
}
