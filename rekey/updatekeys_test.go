package rekey

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

type tkey struct {
	name string
	id   *age.X25519Identity
}

func (k tkey) key() recipients.Key {
	return recipients.Key{Type: recipients.TypeAge, ID: k.id.Recipient().String()}
}

func genKeys(t testing.TB, names ...string) map[string]tkey {
	t.Helper()
	out := map[string]tkey{}
	for _, n := range names {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		out[n] = tkey{n, id}
	}
	return out
}

// fixture is a folder with .sops.yaml and encrypted files.
type fixture struct {
	t    testing.TB
	dir  string
	keys map[string]tkey
}

func newFixture(t *testing.T) *fixture {
	return &fixture{t: t, dir: t.TempDir(), keys: genKeys(t, "alice", "bob", "carol", "dave")}
}

// encrypt writes name encrypted to groups of key names.
func (fx *fixture) encrypt(name, plain string, threshold int, groups ...[]string) string {
	fx.t.Helper()
	var gs [][]recipients.Key
	for _, g := range groups {
		var ks []recipients.Key
		for _, n := range g {
			ks = append(ks, fx.keys[n].key())
		}
		gs = append(gs, ks)
	}
	p := filepath.Join(fx.dir, name)
	enc, err := sopsfile.NewOpener(nil).EncryptNew(sopsfile.FormatFor(p), []byte(plain), gs, threshold)
	if err != nil {
		fx.t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		fx.t.Fatal(err)
	}
	if err := os.WriteFile(p, enc, 0o640); err != nil {
		fx.t.Fatal(err)
	}
	return p
}

// config writes .sops.yaml with one rule wanting groups of key names.
func (fx *fixture) config(threshold int, groups ...[]string) *recipients.Config {
	fx.t.Helper()
	var b strings.Builder
	b.WriteString("creation_rules:\n  - path_regex: .*\n")
	if threshold > 0 {
		fmt.Fprintf(&b, "    shamir_threshold: %d\n", threshold)
	}
	b.WriteString("    key_groups:\n")
	for _, g := range groups {
		b.WriteString("      - age:\n")
		for _, n := range g {
			fmt.Fprintf(&b, "          - %s # %s\n", fx.keys[n].id.Recipient(), n)
		}
	}
	p := filepath.Join(fx.dir, ".sops.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		fx.t.Fatal(err)
	}
	cfg, err := recipients.LoadConfig(p)
	if err != nil {
		fx.t.Fatal(err)
	}
	return cfg
}

func (fx *fixture) opener(names ...string) func() (*sopsfile.Opener, error) {
	var ids []age.Identity
	for _, n := range names {
		ids = append(ids, fx.keys[n].id)
	}
	return func() (*sopsfile.Opener, error) { return sopsfile.NewOpener(ids), nil }
}

// canOpen reports whether the identity of name opens the file at p.
func (fx *fixture) canOpen(p string, names ...string) bool {
	fx.t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		fx.t.Fatal(err)
	}
	f, err := sopsfile.Parse(p, data)
	if err != nil {
		fx.t.Fatal(err)
	}
	op, _ := fx.opener(names...)()
	_, err = op.OpenDataKey(f, data)
	return err == nil
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var formats = map[string]string{
	"a.yaml": "db:\n    password: hunter2\n    user: app\n",
	"b.json": "{\"db\": {\"password\": \"hunter2\"}}\n",
	"c.env":  "PASSWORD=hunter2\nUSER=app\n",
	"d.ini":  "[db]\npassword = hunter2\n",
	"e.bin":  "raw secret bytes\n",
}

func TestRunMinimalChurnEveryFormat(t *testing.T) {
	fx := newFixture(t)
	var files []string
	for name, plain := range formats {
		files = append(files, fx.encrypt(name, plain, 0, []string{"alice", "bob"}))
	}
	before := map[string][]byte{}
	for _, p := range files {
		before[p] = mustRead(t, p)
	}
	old := fx.config(0, []string{"alice", "bob"})
	cfg := fx.config(0, []string{"alice", "carol"})
	results := Run(context.Background(), files, Options{Config: cfg, Opener: fx.opener("alice"), Jobs: 2, NameSources: []*recipients.Config{old}})
	for _, r := range results {
		if r.Status != StatusUpdated || len(r.Added) != 1 || len(r.Removed) != 1 || r.AllStanzasChanged {
			t.Fatalf("%s: %+v", r.Path, r)
		}
		if r.Added[0].Name != "carol" || r.Removed[0].Name != "bob" {
			t.Errorf("%s: names %q %q", r.Path, r.Added[0].Name, r.Removed[0].Name)
		}
		if !fx.canOpen(r.Path, "carol") || fx.canOpen(r.Path, "bob") || !fx.canOpen(r.Path, "alice") {
			t.Errorf("%s: wrong recipients after update", r.Path)
		}
		old, err := sopsfile.Parse(r.Path, before[r.Path])
		if err != nil {
			t.Fatal(err)
		}
		data := mustRead(t, r.Path)
		now, err := sopsfile.Parse(r.Path, data)
		if err != nil {
			t.Fatal(err)
		}
		if now.MAC != old.MAC || now.LastModified != old.LastModified {
			t.Errorf("%s: mac or lastmodified changed", r.Path)
		}
		// Alice's entry is unchanged, byte for byte.
		for _, s := range old.Groups[0] {
			if s.Key == fx.keys["alice"].key() {
				for _, n := range now.Groups[0] {
					if n.Key == s.Key && n.Enc != s.Enc {
						t.Errorf("%s: alice's enc changed", r.Path)
					}
				}
			}
		}
		// Every line of the old file that is not bob's entry is still there.
		if st, err := os.Stat(r.Path); err != nil || st.Mode().Perm() != 0o640 {
			t.Errorf("%s: mode not kept: %v", r.Path, st.Mode())
		}
	}
	// A second run has nothing to do and rewrites nothing.
	again := Run(context.Background(), files, Options{Config: cfg, Opener: func() (*sopsfile.Opener, error) {
		t.Fatal("identities loaded for a no-op run")
		return nil, nil
	}})
	for _, r := range again {
		if r.Status != StatusUnchanged {
			t.Errorf("%s: second run: %s", r.Path, r.Status)
		}
	}
}

func TestRunDataSectionUnchangedYAML(t *testing.T) {
	fx := newFixture(t)
	p := fx.encrypt("s.yaml", "a: 1\nb:\n    c: secret\n", 0, []string{"alice"})
	before := mustRead(t, p)
	cfg := fx.config(0, []string{"alice", "bob"})
	r := Run(context.Background(), []string{p}, Options{Config: cfg, Opener: fx.opener("alice")})[0]
	if r.Status != StatusUpdated {
		t.Fatal(r.Error)
	}
	after := mustRead(t, p)
	dataOf := func(b []byte) []byte { return b[:bytes.Index(b, []byte("\nsops:"))] }
	if !bytes.Equal(dataOf(before), dataOf(after)) {
		t.Fatal("data section changed")
	}
	// Only lines were added: every old line is still present, in order.
	oldLines := strings.Split(string(before), "\n")
	newLines := strings.Split(string(after), "\n")
	j := 0
	for _, l := range newLines {
		if j < len(oldLines) && l == oldLines[j] {
			j++
		}
	}
	if j != len(oldLines) {
		t.Fatalf("an old line was changed or moved (kept %d of %d)", j, len(oldLines))
	}
}

func TestRunRemovalNeedsNoIdentity(t *testing.T) {
	fx := newFixture(t)
	p := fx.encrypt("s.env", "A=1\n", 0, []string{"alice", "bob", "carol"})
	cfg := fx.config(0, []string{"alice", "carol"})
	r := Run(context.Background(), []string{p}, Options{Config: cfg, Opener: func() (*sopsfile.Opener, error) {
		return nil, errors.New("identities must not be loaded")
	}})[0]
	if r.Status != StatusUpdated || len(r.Removed) != 1 || len(r.Added) != 0 {
		t.Fatalf("%+v", r)
	}
	if fx.canOpen(p, "bob") || !fx.canOpen(p, "carol") {
		t.Fatal("wrong recipients")
	}
}

func TestRunDryRunWritesAndDecryptsNothing(t *testing.T) {
	fx := newFixture(t)
	p := fx.encrypt("s.yaml", "a: 1\n", 0, []string{"alice"})
	before := mustRead(t, p)
	cfg := fx.config(0, []string{"bob"})
	for _, rotate := range []bool{false, true} {
		r := Run(context.Background(), []string{p}, Options{Config: cfg, DryRun: true, Rotate: rotate, Opener: func() (*sopsfile.Opener, error) {
			t.Fatal("dry run loaded identities")
			return nil, nil
		}})[0]
		want := StatusUpdated
		if rotate {
			want = StatusRotated
		}
		if !r.DryRun || r.Status != want || len(r.Added) != 1 || len(r.Removed) != 1 {
			t.Fatalf("%+v", r)
		}
	}
	if !bytes.Equal(before, mustRead(t, p)) {
		t.Fatal("dry run wrote the file")
	}
}

func TestRunFailureDoesNotStopOthers(t *testing.T) {
	fx := newFixture(t)
	good := fx.encrypt("good.yaml", "a: 1\n", 0, []string{"alice"})
	locked := fx.encrypt("locked.yaml", "a: 1\n", 0, []string{"dave"})
	lockedBefore := mustRead(t, locked)
	corrupt := filepath.Join(fx.dir, "corrupt.yaml")
	os.WriteFile(corrupt, []byte("a: ENC[x]\nsops:\n    age: 7\n"), 0o644)
	cfg := fx.config(0, []string{"alice", "bob", "dave"})
	results := Run(context.Background(), []string{corrupt, locked, good}, Options{Config: cfg, Opener: fx.opener("alice"), Jobs: 1})
	if results[0].Status != StatusFailed || results[1].Status != StatusFailed || results[2].Status != StatusUpdated {
		t.Fatalf("%+v", results)
	}
	if !errors.Is(results[1].Err, sopsfile.ErrNoIdentity) {
		t.Errorf("locked: %v", results[1].Err)
	}
	if !bytes.Equal(lockedBefore, mustRead(t, locked)) {
		t.Error("a failed file was changed")
	}
	for _, r := range results {
		if strings.Contains(r.Error, "AGE-SECRET-KEY") {
			t.Error("secret in an error")
		}
	}
}

func TestRunShamirReshareAndThreshold(t *testing.T) {
	fx := newFixture(t)
	p := fx.encrypt("s.yaml", "a: secret\n", 2, []string{"alice"}, []string{"bob"}, []string{"carol"})
	before, _ := sopsfile.Parse(p, mustRead(t, p))
	// Same groups, threshold 2 → 3: a change.
	cfg := fx.config(3, []string{"alice"}, []string{"bob"}, []string{"carol"})
	r := Run(context.Background(), []string{p}, Options{Config: cfg, Opener: fx.opener("alice", "bob")})[0]
	if r.Status != StatusUpdated || !r.AllStanzasChanged || r.ThresholdFrom != 2 || r.ThresholdTo != 3 {
		t.Fatalf("%+v", r)
	}
	after, _ := sopsfile.Parse(p, mustRead(t, p))
	if after.ShamirThreshold != 3 || after.MAC != before.MAC {
		t.Fatalf("threshold %d, mac changed %v", after.ShamirThreshold, after.MAC != before.MAC)
	}
	if fx.canOpen(p, "alice", "bob") || !fx.canOpen(p, "alice", "bob", "carol") {
		t.Fatal("threshold 3 not in force")
	}
	// Down to one group: every entry gets the whole data key.
	cfg = fx.config(0, []string{"alice", "dave"})
	r = Run(context.Background(), []string{p}, Options{Config: cfg, Opener: fx.opener("alice", "bob", "carol")})[0]
	if r.Status != StatusUpdated || !r.AllStanzasChanged {
		t.Fatalf("%+v", r)
	}
	if !fx.canOpen(p, "dave") || fx.canOpen(p, "bob") {
		t.Fatal("single group after re-split is wrong")
	}
}

func TestRunRotate(t *testing.T) {
	fx := newFixture(t)
	p := fx.encrypt("s.json", "{\"a\": \"secret\"}\n", 0, []string{"alice", "bob"})
	before, _ := sopsfile.Parse(p, mustRead(t, p))
	cfg := fx.config(0, []string{"alice"})
	r := Run(context.Background(), []string{p}, Options{Config: cfg, Rotate: true, Opener: fx.opener("alice")})[0]
	if r.Status != StatusRotated || len(r.Removed) != 1 {
		t.Fatalf("%+v", r)
	}
	after, _ := sopsfile.Parse(p, mustRead(t, p))
	if after.MAC == before.MAC {
		t.Fatal("mac unchanged after rotation")
	}
	if fx.canOpen(p, "bob") || !fx.canOpen(p, "alice") {
		t.Fatal("wrong recipients after rotation")
	}
	if bytes.Contains(mustRead(t, p), []byte("secret")) {
		t.Fatal("plaintext written")
	}
	// --rotate rotates even a file that already matches.
	r = Run(context.Background(), []string{p}, Options{Config: cfg, Rotate: true, Opener: fx.opener("alice")})[0]
	if r.Status != StatusRotated {
		t.Fatalf("%+v", r)
	}
}

func TestRunWritesThroughSymlink(t *testing.T) {
	fx := newFixture(t)
	target := fx.encrypt("real/s.yaml", "a: 1\n", 0, []string{"alice"})
	link := filepath.Join(fx.dir, "link.yaml")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symlinks:", err)
	}
	cfg := fx.config(0, []string{"alice", "bob"})
	r := Run(context.Background(), []string{link}, Options{Config: cfg, Opener: fx.opener("alice")})[0]
	if r.Status != StatusUpdated {
		t.Fatal(r.Error)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the link was replaced by a file")
	}
	if !fx.canOpen(target, "bob") {
		t.Fatal("the target was not updated")
	}
}

func TestRunNoRule(t *testing.T) {
	fx := newFixture(t)
	p := fx.encrypt("s.yaml", "a: 1\n", 0, []string{"alice"})
	os.WriteFile(filepath.Join(fx.dir, ".sops.yaml"), []byte("creation_rules:\n  - path_regex: ^other/\n    age: "+fx.keys["alice"].id.Recipient().String()+"\n"), 0o644)
	cfg, err := recipients.LoadConfig(filepath.Join(fx.dir, ".sops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r := Run(context.Background(), []string{p}, Options{Config: cfg})[0]
	if r.Status != StatusFailed || !strings.Contains(r.Error, "no creation rule") {
		t.Fatalf("%+v", r)
	}
}

func TestRunVerifyWritesNothing(t *testing.T) {
	fx := newFixture(t)
	p := fx.encrypt("s.yaml", "a: 1\n", 0, []string{"alice"})
	before := mustRead(t, p)
	cfg := fx.config(0, []string{"alice", "bob"})
	ok := Run(context.Background(), []string{p}, Options{Config: cfg, Verify: true, Opener: fx.opener("alice")})[0]
	bad := Run(context.Background(), []string{p}, Options{Config: cfg, Verify: true, Opener: fx.opener("carol")})[0]
	if ok.Status != StatusOK || bad.Status != StatusFailed {
		t.Fatalf("%+v / %+v", ok, bad)
	}
	if !bytes.Equal(before, mustRead(t, p)) {
		t.Fatal("verify wrote the file")
	}
}

// A file that changed on disk after it was read is refused, not overwritten.
func TestRunRefusesFileChangedOnDisk(t *testing.T) {
	fx := newFixture(t)
	p := fx.encrypt("s.yaml", "a: 1\n", 0, []string{"alice"})
	read := mustRead(t, p)
	f, err := sopsfile.Parse(p, read)
	if err != nil {
		t.Fatal(err)
	}
	// Someone else rewrites the file after we read it.
	fx.encrypt("s.yaml", "a: 2\n", 0, []string{"alice"})
	theirs := mustRead(t, p)
	cfg := fx.config(0, []string{"alice", "bob"})
	r := RunFound(context.Background(), []sopsfile.Found{{Path: p, Data: read, File: f}}, Options{Config: cfg, Opener: fx.opener("alice")})[0]
	if r.Status != StatusFailed || !strings.Contains(r.Error, "changed on disk") {
		t.Fatalf("%+v", r)
	}
	if !bytes.Equal(theirs, mustRead(t, p)) {
		t.Fatal("the other change was overwritten")
	}
}

// After an interruption, files not yet started are skipped and reported.
func TestRunInterrupted(t *testing.T) {
	fx := newFixture(t)
	p := fx.encrypt("s.yaml", "a: 1\n", 0, []string{"alice"})
	before := mustRead(t, p)
	cfg := fx.config(0, []string{"alice", "bob"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := Run(ctx, []string{p}, Options{Config: cfg, Opener: fx.opener("alice")})[0]
	if r.Status != StatusFailed || !errors.Is(r.Err, ErrInterrupted) {
		t.Fatalf("%+v", r)
	}
	if !bytes.Equal(before, mustRead(t, p)) {
		t.Fatal("written after the interruption")
	}
}
