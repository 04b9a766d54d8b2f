// Command check generates the repository that bench/check.sh times
// `sopsfleet check` on: a .sops.yaml with named age recipients and a Shamir
// rule, and N sops-encrypted files in all five formats.
//
// Encrypting 5,000 files with sops one by one would take minutes, so a set
// of templates (different formats, sizes, recipient sets, Shamir groups) is
// encrypted for real with the sops binary given, and the N files are copies
// of them under distinct paths. Their metadata is exactly what sops writes;
// check reads metadata and data sections, never values, so copies cost what
// originals would. About 2% of the files are encrypted to a different
// recipient set, so check has drift to report, as in a real fleet.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"filippo.io/age"
)

func main() {
	dir := flag.String("dir", "", "folder to create (must not exist)")
	files := flag.Int("files", 5000, "number of encrypted files")
	sops := flag.String("sops", "sops", "sops binary used to encrypt the templates")
	flag.Parse()
	if *dir == "" {
		log.Fatal("-dir is required")
	}
	if err := os.Mkdir(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	names := []string{"admin", "ci", "web1", "web2", "db1", "db2", "backup", "old"}
	keys := recipientsByName
	for _, n := range names {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			log.Fatal(err)
		}
		keys[n] = id.Recipient().String()
	}
	var cfg strings.Builder
	cfg.WriteString("keys:\n")
	for _, n := range names {
		fmt.Fprintf(&cfg, "  - &%s %s\n", n, keys[n])
	}
	cfg.WriteString(`creation_rules:
  - path_regex: ^secrets/shamir/
    shamir_threshold: 2
    key_groups:
      - age: [*admin, *ci]
      - age: [*web1, *web2]
      - age: [*db1, *db2]
  - path_regex: ^secrets/
    key_groups:
      - age: [*admin, *ci, *web1, *web2, *db1, *backup]
`)
	write(filepath.Join(*dir, ".sops.yaml"), []byte(cfg.String()))

	normal := [][]string{{"admin", "ci", "web1", "web2", "db1", "backup"}}
	drift := [][]string{{"admin", "ci", "web1", "web2", "db1", "old"}}
	shamir := [][]string{{"admin", "ci"}, {"web1", "web2"}, {"db1", "db2"}}
	type tmpl struct {
		ext    string
		data   []byte
		shamir bool
	}
	var templates, drifted []tmpl
	for i, t := range []struct {
		ext     string
		entries int
	}{
		{".yaml", 5}, {".yaml", 20}, {".yaml", 60}, {".yaml", 12}, {".yaml", 30}, {".yaml", 8},
		{".json", 5}, {".json", 25}, {".json", 10}, {".env", 6}, {".env", 15}, {".ini", 8}, {".pem", 0},
	} {
		plain := plaintext(t.ext, t.entries, i)
		templates = append(templates, tmpl{t.ext, encrypt(*sops, t.ext, plain, normal, 0), false})
		if i < 4 {
			templates = append(templates, tmpl{t.ext, encrypt(*sops, t.ext, plain, shamir, 2), true})
			drifted = append(drifted, tmpl{t.ext, encrypt(*sops, t.ext, plain, drift, 0), false})
		}
	}
	for i := 0; i < *files; i++ {
		t := templates[i%len(templates)]
		if i%50 == 49 {
			t = drifted[i%len(drifted)]
		}
		sub := fmt.Sprintf("secrets/team%02d", i%40)
		if t.shamir {
			sub = fmt.Sprintf("secrets/shamir/team%02d", i%40)
		}
		p := filepath.Join(*dir, sub, fmt.Sprintf("svc%05d%s", i, t.ext))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			log.Fatal(err)
		}
		write(p, t.data)
	}
	// Some plain files too: a repository is not only secrets.
	if err := os.MkdirAll(filepath.Join(*dir, "docs"), 0o755); err != nil {
		log.Fatal(err)
	}
	for i := 0; i < *files/10; i++ {
		write(filepath.Join(*dir, fmt.Sprintf("docs/page%04d.md", i)), []byte("# notes\n\nnothing secret here\n"))
	}
}

func plaintext(ext string, n, seed int) []byte {
	var b bytes.Buffer
	switch ext {
	case ".yaml":
		b.WriteString("# service configuration\n")
		for i := 0; i < n; i++ {
			if i%5 == 0 {
				fmt.Fprintf(&b, "group%d:\n", i)
				fmt.Fprintf(&b, "    user: svc%d\n    password: p%08d\n    hosts:\n        - h%d.internal\n        - h%d.internal\n", i, i*seed+7, i, i+1)
				continue
			}
			fmt.Fprintf(&b, "key%d: value-%d-%d\n", i, seed, i)
		}
	case ".json":
		b.WriteString("{")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "\n  \"key%d\": {\"user\": \"u%d\", \"token\": \"t%08d\", \"port\": %d}", i, i, i*seed, 5000+i)
		}
		b.WriteString("\n}\n")
	case ".env":
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "VAR_%d=value-%d-%d\n", i, seed, i)
		}
	case ".ini":
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "[section%d]\nuser = u%d\npassword = p%d\n", i, i, i*seed)
		}
	default:
		b.WriteString("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n")
	}
	return b.Bytes()
}

// encrypt runs sops in a staging folder with a one-rule .sops.yaml.
func encrypt(sops, ext string, plain []byte, groups [][]string, threshold int) []byte {
	stage, err := os.MkdirTemp("", "sopsfleet-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(stage)
	var cfg strings.Builder
	cfg.WriteString("creation_rules:\n  - key_groups:\n")
	for _, g := range groups {
		cfg.WriteString("      - age:\n")
		for _, n := range g {
			cfg.WriteString("          - " + recipient(n) + "\n")
		}
	}
	if threshold > 0 {
		fmt.Fprintf(&cfg, "    shamir_threshold: %d\n", threshold)
	}
	write(filepath.Join(stage, ".sops.yaml"), []byte(cfg.String()))
	write(filepath.Join(stage, "f"+ext), plain)
	cmd := exec.Command(sops, "encrypt", "f"+ext)
	cmd.Dir = stage
	cmd.Env = append(os.Environ(), "HOME="+stage)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		log.Fatalf("sops encrypt: %v", err)
	}
	return out
}

var recipientsByName = map[string]string{}

// recipient returns the recipient named n, as written to .sops.yaml.
func recipient(n string) string {
	if r, ok := recipientsByName[n]; ok {
		return r
	}
	log.Fatalf("unknown recipient %q", n)
	return ""
}

func write(p string, data []byte) {
	if err := os.WriteFile(p, data, 0o644); err != nil {
		log.Fatal(err)
	}
}
