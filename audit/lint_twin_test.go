package audit

import (
	"strings"
	"testing"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// TestLintSSHTwin: a group with a native ssh-ed25519 recipient and its
// ssh-to-age conversion is one ssh-twin warning; the unnamed form takes the
// named one's name.
func TestLintSSHTwin(t *testing.T) {
	const sshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIARgMFh/tLAFsNP7mclEZyKpg7ayUg4iaq1Wa0aUrPnK"
	twin, ok := recipients.SSHTwin(recipients.Key{Type: recipients.TypeAge, ID: sshKey})
	if !ok {
		t.Fatal("no twin")
	}
	conf := "creation_rules:\n  - path_regex: a/\n    key_groups:\n      - age:\n          - " + sshKey + "\n          - " + twin.ID + " # web2\n  - path_regex: b/\n    age: " + sshKey + "\n"
	cfg, err := recipients.ParseConfig(".sops.yaml", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	var twins []Finding
	for _, f := range Lint(cfg, ".sops.yaml") {
		if f.Code == CodeSSHTwin {
			twins = append(twins, f)
		}
	}
	if len(twins) != 1 || twins[0].Line != 5 || !strings.Contains(twins[0].Message, "creation rule 1, key group 1") {
		t.Fatalf("ssh-twin findings: %+v, want one on line 5 in rule 1", twins)
	}
	k := recipients.Key{Type: recipients.TypeAge, ID: sshKey}
	if got := DisplayName(cfg, k); got != "web2" {
		t.Errorf("DisplayName(native ssh key) = %q, want web2 (its age conversion's name)", got)
	}
	if got := NewNamer(cfg).Name(k); got != "web2" {
		t.Errorf("Namer.Name(native ssh key) = %q, want web2", got)
	}
	named := "creation_rules:\n  - age: " + sshKey + " # bob\n"
	cfg2, err := recipients.ParseConfig(".sops.yaml", []byte(named))
	if err != nil {
		t.Fatal(err)
	}
	if got := NewNamer(cfg2).Name(twin); got != "bob" {
		t.Errorf("Namer.Name(age conversion) = %q, want bob (the native key's name)", got)
	}
}
