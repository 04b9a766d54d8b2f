package rekey_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
	"github.com/sopsfleet/sopsfleet/rekey"
)

// exampleRepo makes a folder with a .sops.yaml naming the given recipients
// (anchors, one rule for every file) and one encrypted file per name in
// files, encrypted to all of them with the library.
func exampleRepo(ids map[string]*age.X25519Identity, order []string, files ...string) string {
	dir, err := os.MkdirTemp("", "sopsfleet-example")
	if err != nil {
		log.Fatal(err)
	}
	var cfg strings.Builder
	cfg.WriteString("keys:\n")
	var keys []recipients.Key
	for _, name := range order {
		fmt.Fprintf(&cfg, "  - &%s %s\n", name, ids[name].Recipient())
		keys = append(keys, recipients.Key{Type: recipients.TypeAge, ID: ids[name].Recipient().String()})
	}
	cfg.WriteString("creation_rules:\n  - key_groups:\n      - age:\n")
	for _, name := range order {
		fmt.Fprintf(&cfg, "          - *%s\n", name)
	}
	if err := os.WriteFile(filepath.Join(dir, ".sops.yaml"), []byte(cfg.String()), 0o644); err != nil {
		log.Fatal(err)
	}
	enc := sopsfile.NewOpener(nil)
	for _, name := range files {
		out, err := enc.EncryptNew(sopsfile.FormatYAML, []byte("db_password: hunter2\n"), [][]recipients.Key{keys}, 0)
		if err != nil {
			log.Fatal(err)
		}
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, out, 0o600); err != nil {
			log.Fatal(err)
		}
	}
	return dir
}

func newIdentity() *age.X25519Identity {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		log.Fatal(err)
	}
	return id
}

// printChange prints each affected file with what happened to it.
func printChange(dir string, plan *rekey.ChangePlan) {
	for _, f := range plan.Files {
		rel, _ := filepath.Rel(dir, f.Path)
		var what []string
		for _, c := range f.Added {
			what = append(what, "+"+c.Name)
		}
		for _, c := range f.Removed {
			what = append(what, "-"+c.Name)
		}
		fmt.Println(rel, f.Status, strings.Join(what, " "))
	}
}

// Onboarding a host: its key is added to .sops.yaml with the recipients
// package, and the change is planned, prepared and applied with rekey —
// the files first, .sops.yaml last.
func ExamplePlanChange_onboard() {
	ctx := context.Background()
	ids := map[string]*age.X25519Identity{"admin": newIdentity(), "web2": newIdentity()}
	dir := exampleRepo(ids, []string{"admin"}, "app.yaml", "hosts/db.yaml")
	defer os.RemoveAll(dir)

	cfg, err := recipients.LoadConfig(filepath.Join(dir, ".sops.yaml"))
	if err != nil {
		log.Fatal(err)
	}
	targets, err := cfg.Targets(recipients.TargetOptions{All: true, Group: -1})
	if err != nil {
		log.Fatal(err)
	}
	web2 := recipients.Key{Type: recipients.TypeAge, ID: ids["web2"].Recipient().String()}
	ed, err := cfg.Add(recipients.AddOptions{Name: "web2", Key: web2, Targets: targets})
	if err != nil {
		log.Fatal(err)
	}
	plan, err := rekey.PlanChange(ctx, rekey.ChangeOptions{
		ConfigPath: ed.Path, Old: ed.Old, New: ed.New, Root: dir,
		// The admin's identity opens the files to add web2.
		Opener: func() (*sopsfile.Opener, error) { return sopsfile.NewOpener([]age.Identity{ids["admin"]}), nil },
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := plan.Prepare(ctx); err != nil {
		log.Fatal(err)
	}
	if err := plan.Apply(ctx, nil); err != nil {
		log.Fatal(err)
	}
	printChange(dir, plan)

	// web2 now opens the files.
	data, _ := os.ReadFile(filepath.Join(dir, "app.yaml"))
	f, _ := sopsfile.Parse("app.yaml", data)
	_, err = sopsfile.NewOpener([]age.Identity{ids["web2"]}).OpenDataKey(f, data)
	fmt.Println("web2 opens app.yaml:", err == nil)
	// Output:
	// app.yaml updated +web2
	// hosts/db.yaml updated +web2
	// web2 opens app.yaml: true
}

// Retiring a host: its key is removed from .sops.yaml and from every file
// that holds it, each of which gets a new data key; nothing is written
// unless every file can be changed.
func ExamplePlanChange_retire() {
	ctx := context.Background()
	ids := map[string]*age.X25519Identity{"admin": newIdentity(), "web1": newIdentity()}
	dir := exampleRepo(ids, []string{"admin", "web1"}, "app.yaml", "legacy/copy.yaml")
	defer os.RemoveAll(dir)

	cfg, err := recipients.LoadConfig(filepath.Join(dir, ".sops.yaml"))
	if err != nil {
		log.Fatal(err)
	}
	web1, err := cfg.Lookup("web1")
	if err != nil {
		log.Fatal(err)
	}
	ed, err := cfg.Remove(web1)
	if err != nil {
		log.Fatal(err)
	}
	plan, err := rekey.PlanChange(ctx, rekey.ChangeOptions{
		ConfigPath: ed.Path, Old: ed.Old, New: ed.New, Root: dir,
		Removed: []recipients.Key{web1},
		Rotate:  true,
		Opener:  func() (*sopsfile.Opener, error) { return sopsfile.NewOpener([]age.Identity{ids["admin"]}), nil },
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range plan.Exposed() {
		rel, _ := filepath.Rel(dir, f.Path)
		fmt.Printf("web1 could read %s: %s\n", rel, strings.Join(f.Exposed, ", "))
	}
	if err := plan.Prepare(ctx); err != nil {
		log.Fatal(err)
	}
	if err := plan.Apply(ctx, nil); err != nil {
		log.Fatal(err)
	}
	printChange(dir, plan)

	data, _ := os.ReadFile(filepath.Join(dir, "legacy/copy.yaml"))
	f, _ := sopsfile.Parse("copy.yaml", data)
	_, err = sopsfile.NewOpener([]age.Identity{ids["web1"]}).OpenDataKey(f, data)
	fmt.Println("web1 opens legacy/copy.yaml:", !errors.Is(err, sopsfile.ErrNoIdentity))
	// Output:
	// web1 could read app.yaml: db_password
	// web1 could read legacy/copy.yaml: db_password
	// app.yaml rotated -web1
	// legacy/copy.yaml rotated -web1
	// web1 opens legacy/copy.yaml: false
}
