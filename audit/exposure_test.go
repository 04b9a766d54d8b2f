package audit

import (
	"reflect"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

func exposureRepo(t *testing.T) *testRepo {
	r := newTestRepo(t, "alice", "marvin")
	r.config([2]string{`^secrets/`, "alice marvin"}, [2]string{`^other/`, "alice"})
	r.encrypt("secrets/a.yaml", "db: one\napi: two\n")
	r.encrypt("secrets/b.yaml", "x: 1\n")
	r.encrypt("secrets/d.yaml", "p: 1\nq: 2\n")
	r.encrypt("secrets/e.yaml", "gone: 1\n")
	r.encrypt("other/c.yaml", "c: 1\n")
	r.commit("marvin can read secrets/")

	// marvin is removed without rotation: it keeps the data keys, and reads
	// even the value added afterwards.
	r.config([2]string{`^secrets/`, "alice"}, [2]string{`^other/`, "alice"})
	for _, f := range []string{"secrets/a.yaml", "secrets/b.yaml", "secrets/d.yaml"} {
		r.sops(nil, "updatekeys", "-y", f)
	}
	r.sops(nil, "set", "secrets/a.yaml", `["late"]`, `"added later"`)
	r.git("rm", "-q", "secrets/e.yaml")
	r.commit("retire marvin without rotation")

	// Rotations: b keeps its value, d changes one of two.
	r.sops(nil, "rotate", "-i", "secrets/b.yaml")
	r.sops(nil, "rotate", "-i", "secrets/d.yaml")
	r.sops(nil, "set", "secrets/d.yaml", `["p"]`, `"new"`)
	r.commit("rotate")
	return r
}

func exposureOf(res *ExposureResult, path string) *FileExposure {
	for i := range res.Files {
		if res.Files[i].Path == path {
			return &res.Files[i]
		}
	}
	return nil
}

func statuses(fe *FileExposure) map[string]string {
	m := map[string]string{}
	for _, s := range fe.Secrets {
		m[s.Name] = s.Status
	}
	return m
}

func TestExposure(t *testing.T) {
	r := exposureRepo(t)
	alice := r.ids["alice"]
	repo, err := OpenRepo(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	for _, keyless := range []bool{true, false} {
		opts := ExposureOptions{}
		if !keyless {
			opts.Opener = sopsfile.NewOpener([]age.Identity{alice})
		}
		res, err := Exposure(repo, "marvin", opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Keyless != keyless || res.Commits != 3 || len(res.Keys) != 1 || res.Keys[0].Name != "marvin" {
			t.Fatalf("keyless=%v: %+v", keyless, res)
		}
		var paths []string
		for _, f := range res.Files {
			paths = append(paths, f.Path)
		}
		if !reflect.DeepEqual(paths, []string{"secrets/a.yaml", "secrets/b.yaml", "secrets/d.yaml", "secrets/e.yaml"}) {
			t.Fatalf("files: %q", paths)
		}
		a := exposureOf(res, "secrets/a.yaml")
		if a.Current != "readable" || a.Revisions != 3 ||
			!reflect.DeepEqual(statuses(a), map[string]string{"db": StillExposed, "api": StillExposed, "late": StillExposed}) {
			t.Errorf("a: %+v", a)
		}
		b := exposureOf(res, "secrets/b.yaml")
		d := exposureOf(res, "secrets/d.yaml")
		if b.Current != "rotated" || b.Revisions != 2 || d.Current != "rotated" {
			t.Errorf("b: %+v d: %+v", b, d)
		}
		wantB := map[string]string{"x": Unknown}
		wantD := map[string]string{"p": Unknown, "q": Unknown}
		if !keyless {
			wantB = map[string]string{"x": StillExposed}
			wantD = map[string]string{"p": Changed, "q": StillExposed}
		}
		if !reflect.DeepEqual(statuses(b), wantB) || !reflect.DeepEqual(statuses(d), wantD) {
			t.Errorf("keyless=%v: b %v, d %v", keyless, statuses(b), statuses(d))
		}
		e := exposureOf(res, "secrets/e.yaml")
		if e.Current != "deleted" || !reflect.DeepEqual(statuses(e), map[string]string{"gone": Removed}) {
			t.Errorf("e: %+v", e)
		}
		want := 3
		if !keyless {
			want = 5
		}
		if wantUnknown := map[bool]int{true: 3, false: 0}[keyless]; res.Unknown != wantUnknown {
			t.Errorf("keyless=%v: unknown %d, want %d", keyless, res.Unknown, wantUnknown)
		}
		if res.StillExposed != want {
			t.Errorf("keyless=%v: still exposed %d, want %d", keyless, res.StillExposed, want)
		}
	}
}

// After a replace, the name stands for the old key and the new one.
func TestExposureReplacedName(t *testing.T) {
	r := exposureRepo(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	r.ids["marvin"] = id
	r.config([2]string{`^secrets/`, "alice"}, [2]string{`^other/`, "alice marvin"})
	r.sops([]string{"alice"}, "updatekeys", "-y", "other/c.yaml")
	r.commit("marvin has a new key")
	repo, err := OpenRepo(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	res, err := Exposure(repo, "marvin", ExposureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Keys) != 2 || exposureOf(res, "other/c.yaml") == nil || exposureOf(res, "secrets/a.yaml") == nil {
		t.Fatalf("%+v", res)
	}
	byKey, err := ExposureOfKeys(repo, []recipients.Key{res.Keys[0].Key}, nil, ExposureOptions{})
	if err != nil || len(byKey.Keys) != 1 || len(byKey.Files) == 0 {
		t.Errorf("ExposureOfKeys: %+v %v", byKey, err)
	}
	if _, err := Exposure(repo, "nobody", ExposureOptions{}); err == nil {
		t.Error("unknown name accepted")
	}
	since, err := Exposure(repo, "marvin", ExposureOptions{Since: "HEAD~1"})
	if err != nil || since.Commits != 1 || len(since.Files) != 1 || since.Files[0].Path != "other/c.yaml" {
		t.Errorf("--since HEAD~1: %+v %v", since, err)
	}
}

// A file moved with git mv is one file: its old path is folded into the new
// one (renamed_from), its revisions counted once, its names compared with
// the new path's values; a file moved and rotated cannot be linked keyless
// and stays listed under its old path, as deleted.
func TestExposureFollowsRenames(t *testing.T) {
	r := exposureRepo(t)
	r.git("mv", "secrets/a.yaml", "secrets/moved.yaml")
	r.commit("move a")
	r.git("mv", "secrets/b.yaml", "secrets/b2.yaml")
	r.sops(nil, "rotate", "-i", "secrets/b2.yaml")
	r.commit("move and rotate b")
	repo, err := OpenRepo(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	res, err := Exposure(repo, "marvin", ExposureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if exposureOf(res, "secrets/a.yaml") != nil {
		t.Errorf("the old path of a moved file is listed on its own: %+v", res.Files)
	}
	m := exposureOf(res, "secrets/moved.yaml")
	if m == nil || !reflect.DeepEqual(m.RenamedFrom, []string{"secrets/a.yaml"}) || m.Current != "readable" || m.Revisions != 5 ||
		!reflect.DeepEqual(statuses(m), map[string]string{"db": StillExposed, "api": StillExposed, "late": StillExposed}) {
		t.Errorf("moved: %+v", m)
	}
	if b := exposureOf(res, "secrets/b.yaml"); b == nil || b.Current != "deleted" || len(b.RenamedFrom) != 0 {
		t.Errorf("b (moved and rotated): %+v", b)
	}
	if res.StillExposed != 3 {
		t.Errorf("still exposed %d, want 3 (a's names once)", res.StillExposed)
	}
	var out strings.Builder
	if err := WriteExposureText(&out, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "secrets/moved.yaml\n  renamed from secrets/a.yaml (same data key)\n") {
		t.Errorf("text:\n%s", out.String())
	}
}
