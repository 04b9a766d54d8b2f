package cli

import "testing"

// TestRerunCommand checks the command printed after an interrupted change:
// the same subcommand, arguments and flags, shell-quoted, without --dry-run.
func TestRerunCommand(t *testing.T) {
	ios, _, _ := TestIO("")
	root := newRootCmd(ios)
	cmd, _, err := root.Find([]string{"recipients", "remove"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.ParseFlags([]string{"--config", "my dir/.sops.yaml", "-i", "a key.txt", "-j", "2", "--no-rotate", "--dry-run"}); err != nil {
		t.Fatal(err)
	}
	got := rerunCommand(cmd, []string{"web1"})
	want := "sopsfleet recipients remove web1 --config 'my dir/.sops.yaml' --identity 'a key.txt' --jobs 2 --no-rotate"
	if got != want {
		t.Errorf("rerunCommand = %q, want %q", got, want)
	}
}
