package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/charmbracelet/lipgloss"

	"github.com/sopsfleet/sopsfleet/internal/testsops"
)

// TestReportTerminalTable: on a terminal the matrix is a lipgloss table,
// coloured only when colour is allowed; piped, it is plain text.
func TestReportTerminalTable(t *testing.T) {
	dir := ckRepo(t)
	t.Chdir(dir)
	for _, c := range []struct {
		tty, color bool
		columns    string
		want       []string
		not        []string
	}{
		{tty: false, want: []string{"FILE                alice  bob  old\n"}, not: []string{"╭", "\x1b["}},
		{tty: true, want: []string{"╭", "│ FILE ", "│ alice │", "✗", "can decrypt, as .sops.yaml wants"}, not: []string{"\x1b["}},
		{tty: true, color: true, want: []string{"╭", "\x1b["}},
		{tty: true, columns: "40", want: []string{"│ 1 │", "1  alice  age:age1"}},
		{tty: true, columns: "20", want: []string{"RECIPIENT", "secrets/cfg.json"}},
	} {
		ios, out, _ := TestIO("")
		ios.OutTTY, ios.Color = c.tty, c.color
		env := map[string]string{"COLUMNS": c.columns}
		ios.Getenv = func(k string) string { return env[k] }
		if code := Run(ios, []string{"report"}); code != ExitOK {
			t.Fatalf("report exits %d", code)
		}
		got := out.String()
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("tty=%v color=%v columns=%q: output lacks %q:\n%s", c.tty, c.color, c.columns, w, got)
			}
		}
		for _, w := range c.not {
			if strings.Contains(got, w) {
				t.Errorf("tty=%v color=%v: output has %q:\n%s", c.tty, c.color, w, got)
			}
		}
	}
	// check colours its labels on a terminal only.
	ios, out, _ := TestIO("")
	ios.OutTTY, ios.Color = true, true
	Run(ios, []string{"check"})
	if !strings.Contains(out.String(), "\x1b[") {
		t.Errorf("check on a colour terminal has no colour:\n%s", out.String())
	}
}

// TestReportWideOnNarrowTerminal: 40 recipients on an 80-column terminal.
// The matrix cannot fit with a column per recipient, so it is transposed (a
// row per recipient), and no line of any report is wider than the terminal
// (full keys are shortened in the per-recipient table).
func TestReportWideOnNarrowTerminal(t *testing.T) {
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("keys:\n")
	var all []string
	for i := 1; i <= 40; i++ {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, id.Recipient().String())
		fmt.Fprintf(&cfg, "  - &host%d %s\n", i, all[i-1])
	}
	cfg.WriteString("creation_rules:\n  - path_regex: ^secrets/all\n    key_groups:\n      - age:\n")
	for i := range all {
		fmt.Fprintf(&cfg, "          - *host%d\n", i+1)
	}
	cfg.WriteString("  - path_regex: ^secrets/\n    age: *host1\n")
	if err := os.WriteFile(filepath.Join(dir, ".sops.yaml"), []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// Encrypt with the recipients listed plainly (sops reads anchors too,
	// but a plain list keeps the staging config independent).
	stage := t.TempDir()
	stageCfg := "creation_rules:\n  - age: " + strings.Join(all, ",") + "\n"
	if err := os.WriteFile(filepath.Join(stage, ".sops.yaml"), []byte(stageCfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stage, "a.yaml"), []byte("k: v\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := testsops.Run(stage, nil, "encrypt", "a.yaml")
	if err != nil {
		t.Skip(err) // no sops to build here
	}
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"all.yaml", "all2.yaml", "web.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, "secrets", name), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	for _, c := range []struct {
		tty  bool
		args []string
	}{
		{true, []string{"report"}},
		{false, []string{"report"}},
		{true, []string{"report", "--by", "recipient"}},
	} {
		ios, stdout, stderr := TestIO("")
		ios.OutTTY = c.tty
		ios.Getenv = func(k string) string {
			if k == "COLUMNS" {
				return "80"
			}
			return ""
		}
		if code := Run(ios, c.args); code != ExitOK {
			t.Fatalf("%v exits %d: %s", c.args, code, stderr.String())
		}
		got := stdout.String()
		if !strings.Contains(got, "host40") || !strings.Contains(got, "secrets/web.yaml") {
			t.Errorf("tty=%v %v: output lacks host40 or secrets/web.yaml:\n%s", c.tty, c.args, got)
		}
		// The matrix is transposed: a row per recipient, a column per file.
		if len(c.args) == 1 && (!strings.Contains(got, "RECIPIENT") || !strings.Contains(got, "3  secrets/web.yaml") ||
			!regexp.MustCompile(`(?m)^[│ ]*host40 +│? *✓ *│? *✓ *│? *\+ *│?$`).MatchString(got)) {
			t.Errorf("tty=%v %v: not a transposed matrix:\n%s", c.tty, c.args, got)
		}
		for _, line := range strings.Split(got, "\n") {
			if w := lipgloss.Width(line); w > 80 {
				t.Errorf("tty=%v %v: line %d columns wide on an 80-column terminal: %q", c.tty, c.args, w, line)
				break
			}
		}
	}
}
