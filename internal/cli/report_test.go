package cli

import (
	"strings"
	"testing"
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
