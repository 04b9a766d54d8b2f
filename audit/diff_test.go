package audit

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func accessOf(d *DiffResult, name string) *RecipientAccess {
	for i := range d.Access {
		if d.Access[i].Recipient.Name == name {
			return &d.Access[i]
		}
	}
	return nil
}

func fileOf(d *DiffResult, path string) *FileDiff {
	for i := range d.Files {
		if d.Files[i].Path == path {
			return &d.Files[i]
		}
	}
	return nil
}

// diffRepo is a history of two commits that does a bit of everything: a
// machine replaced by another without rotation, a value edited, a file
// rotated, one added, one renamed, one deleted, one left behind.
func diffRepo(t *testing.T) (*testRepo, string, string) {
	r := newTestRepo(t, "alice", "bob", "marvin", "newhost")
	r.config([2]string{`^secrets/`, "alice bob marvin"}, [2]string{`^other/`, "alice"})
	r.encrypt("secrets/a.yaml", "db: one\napi: two\n")
	r.encrypt("secrets/b.env", "TOKEN=x\n")
	r.encrypt("secrets/old.yaml", "k: v\n")
	r.encrypt("secrets/gone.yaml", "k: v\n")
	r.encrypt("other/c.yaml", "x: 1\ny: 2\n")
	r.write("README", "not a secret\n")
	base := r.commit("base")

	r.sops(nil, "set", "secrets/a.yaml", `["db"]`, `"three"`)
	r.config([2]string{`^secrets/`, "alice bob newhost"}, [2]string{`^other/`, "alice"})
	r.sops(nil, "updatekeys", "-y", "secrets/a.yaml")
	r.sops(nil, "rotate", "-i", "other/c.yaml")
	r.encrypt("secrets/new.yaml", "n: 1\n")
	r.git("mv", "secrets/old.yaml", "secrets/moved.yaml")
	r.git("rm", "-q", "secrets/gone.yaml")
	r.write("README", "still not a secret\n")
	head := r.commit("head")
	return r, base, head
}

func TestDiff(t *testing.T) {
	r, base, head := diffRepo(t)
	repo, err := OpenRepo(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	rg, err := ResolveRange(repo, []string{base, head})
	if err != nil {
		t.Fatal(err)
	}
	d, err := Diff(repo, rg)
	if err != nil {
		t.Fatal(err)
	}
	nh := accessOf(d, "newhost")
	if nh == nil || !reflect.DeepEqual(nh.Gains, []string{"secrets/a.yaml"}) || !reflect.DeepEqual(nh.NewFiles, []string{"secrets/new.yaml"}) {
		t.Errorf("newhost: %+v", nh)
	}
	mv := accessOf(d, "marvin")
	if mv == nil || !reflect.DeepEqual(mv.Loses, []string{"secrets/a.yaml"}) || !reflect.DeepEqual(mv.LosesKept, []string{"secrets/a.yaml"}) {
		t.Errorf("marvin: %+v", mv)
	}
	if !d.Gained() {
		t.Error("Gained() = false")
	}
	a := fileOf(d, "secrets/a.yaml")
	if a == nil || a.Status != "modified" || a.DataKey != "kept" || !reflect.DeepEqual(a.Changed, []string{"db"}) ||
		len(a.Groups) != 1 || len(a.Groups[0].Added) != 1 || a.Groups[0].Added[0].Name != "newhost" ||
		len(a.Groups[0].Removed) != 1 || a.Groups[0].Removed[0].Name != "marvin" {
		t.Errorf("secrets/a.yaml: %+v", a)
	}
	c := fileOf(d, "other/c.yaml")
	if c == nil || c.DataKey != "rotated" || len(c.Changed) != 0 || len(c.Groups) != 0 {
		t.Errorf("other/c.yaml: %+v", c)
	}
	if n := fileOf(d, "secrets/new.yaml"); n == nil || n.Status != "added" || len(n.Readers) != 3 {
		t.Errorf("secrets/new.yaml: %+v", n)
	}
	if m := fileOf(d, "secrets/moved.yaml"); m == nil || m.Status != "renamed" || m.OldPath != "secrets/old.yaml" {
		t.Errorf("secrets/moved.yaml: %+v", m)
	}
	if g := fileOf(d, "secrets/gone.yaml"); g == nil || g.Status != "deleted" {
		t.Errorf("secrets/gone.yaml: %+v", g)
	}
	if fileOf(d, "README") != nil {
		t.Error("README reported")
	}
	if len(d.Configs) != 1 {
		t.Fatalf("configs: %+v", d.Configs)
	}
	cd := d.Configs[0]
	if len(cd.Rules) != 1 || cd.Rules[0].Rule != 1 || labels(cd.Rules[0].Gained)[0] != "newhost" || labels(cd.Rules[0].Lost)[0] != "marvin" {
		t.Errorf("rules: %+v", cd.Rules)
	}
	var drifted []string
	for _, dr := range cd.Drift {
		drifted = append(drifted, dr.Path)
	}
	if !reflect.DeepEqual(drifted, []string{"secrets/b.env", "secrets/moved.yaml"}) {
		t.Errorf("drift: %q", drifted)
	}

	var text, md, js, gh bytes.Buffer
	for _, w := range []struct {
		fn  func(*bytes.Buffer) error
		buf *bytes.Buffer
	}{
		{func(b *bytes.Buffer) error { return WriteDiffText(b, d) }, &text},
		{func(b *bytes.Buffer) error { return WriteDiffMarkdown(b, d) }, &md},
		{func(b *bytes.Buffer) error { return WriteDiffJSON(b, d) }, &js},
		{func(b *bytes.Buffer) error { return WriteDiffGitHub(b, d) }, &gh},
	} {
		if err := w.fn(w.buf); err != nil {
			t.Fatal(err)
		}
		if ciphertext.MatchString(w.buf.String()) || strings.Contains(w.buf.String(), "three") {
			t.Errorf("output holds ciphertext or plaintext:\n%s", w.buf)
		}
	}
	t.Logf("text:\n%s\nmarkdown:\n%s\ngithub:\n%s", text.String(), md.String(), gh.String())
	for _, want := range []string{
		"  newhost gains 1 file, reads 1 new file\n",
		"  marvin loses 1 file (1 without rotation: it keeps their data key)\n",
		"    group 1: +newhost −marvin\n    data key kept (not rotated)\n    changed: db\n",
		"  other/c.yaml: modified\n    data key rotated: every value re-encrypted\n",
		"  secrets/old.yaml → secrets/moved.yaml: renamed\n",
		"  rule 1 (^secrets/): changed: +newhost −marvin\n",
		"  secrets/b.env: not updated, wants +newhost −marvin\n",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	if !strings.Contains(md.String(), "- **newhost** gains 1 file") || !strings.Contains(md.String(), "#### `.sops.yaml`: modified") {
		t.Errorf("markdown:\n%s", md.String())
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("json: %v\n%s", err, js.String())
	}
	if !strings.Contains(js.String(), `"name": "newhost"`) || !strings.Contains(js.String(), `"data_key": "rotated"`) {
		t.Errorf("json:\n%s", js.String())
	}
	if !strings.Contains(gh.String(), "::warning file=secrets/a.yaml,title=sopsfleet diff::gains access: newhost") {
		t.Errorf("github:\n%s", gh.String())
	}
}

// The work tree against HEAD, and A...B against the merge base.
func TestDiffRanges(t *testing.T) {
	r, base, _ := diffRepo(t)
	repo, err := OpenRepo(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	rg, err := ResolveRange(repo, nil)
	if err != nil || rg.Head != "" {
		t.Fatalf("%+v %v", rg, err)
	}
	d, err := Diff(repo, rg)
	if err != nil || !d.Empty() {
		t.Fatalf("clean work tree: %+v %v", d, err)
	}
	r.sops(nil, "set", "secrets/a.yaml", `["api"]`, `"four"`)
	d, err = Diff(repo, rg)
	if err != nil {
		t.Fatal(err)
	}
	if a := fileOf(d, "secrets/a.yaml"); a == nil || !reflect.DeepEqual(a.Changed, []string{"api"}) || d.Gained() {
		t.Fatalf("work tree: %+v", d.Files)
	}

	r.git("checkout", "-q", "--", "secrets/a.yaml")
	r.git("checkout", "-q", "-b", "side", base)
	r.encrypt("secrets/side.yaml", "s: 1\n")
	r.commit("side")
	rg, err = ResolveRange(repo, []string{"main...side"})
	if err != nil || rg.Base != base {
		t.Fatalf("main...side: %+v %v", rg, err)
	}
	d, err = Diff(repo, rg)
	if err != nil || len(d.Files) != 1 || d.Files[0].Path != "secrets/side.yaml" {
		t.Fatalf("main...side: %+v %v", d, err)
	}
	// A file committed in plaintext is a gain for everyone.
	r.write("secrets/side.yaml", "s: 1\n")
	d, err = Diff(repo, Range{Base: strings.TrimSpace(r.git("rev-parse", "HEAD"))})
	if err != nil || len(d.Files) != 1 || d.Files[0].Status != "decrypted" || !d.Gained() {
		t.Fatalf("decrypted: %+v %v", d.Files, err)
	}
	if _, err := ResolveRange(repo, []string{"nosuchrev"}); err == nil || !strings.Contains(err.Error(), `unknown revision "nosuchrev"`) {
		t.Errorf("bad revision: %v", err)
	}
}
