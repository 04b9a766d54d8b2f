package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/sopsfleet/sopsfleet/recipients"
)

const keyscanTestConfig = `keys:
  - &alice age18qzqssxgx4zryu2063uc75kjyx5klr6ajqcpngq20psrmns32cpqpyqec8
creation_rules:
  - path_regex: ^hosts/web/
    age:
      - *alice
`

// TestRecipientsAddKeyscan adds a host by its scanned host key, checked
// against known_hosts; a mismatched key writes nothing.
func TestRecipientsAddKeyscan(t *testing.T) {
	hk := newHostKey(t)
	addr := sshServer(t, hk.priv)
	dir := t.TempDir()
	conf := filepath.Join(dir, ".sops.yaml")
	if err := os.WriteFile(conf, []byte(keyscanTestConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	writeKnownHosts(t, home, knownhosts.Line([]string{addr}, hk.pub))
	ios, _, errOut := keyscanIO(home)
	code := Run(ios, []string{"--config", conf, "recipients", "add", "web", "--keyscan", addr, "--path", filepath.Join(dir, "hosts/web/s.yaml"), "--no-updatekeys"})
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got, _ := os.ReadFile(conf)
	want := strings.Replace(keyscanTestConfig, "creation_rules:", "  - &web "+hk.age+"\ncreation_rules:", 1) + "      - *web\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(errOut.String(), "matches") {
		t.Errorf("known_hosts match not said: %s", errOut)
	}

	// A host presenting another key than known_hosts records: nothing written.
	other := newHostKey(t)
	addr2 := sshServer(t, other.priv)
	writeKnownHosts(t, home, knownhosts.Line([]string{addr2}, hk.pub))
	ios, _, errOut = keyscanIO(home)
	before, _ := os.ReadFile(conf)
	code = Run(ios, []string{"--config", conf, "recipients", "add", "web2", "--keyscan", addr2, "--all", "--no-updatekeys"})
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	after, _ := os.ReadFile(conf)
	if string(after) != string(before) || !strings.Contains(errOut.String(), "HOST KEY MISMATCH") {
		t.Errorf("mismatch: file changed or not said: %s", errOut)
	}
}

// TestGroupListCounts: a message names at most maxListedGroups groups and
// counts the rest.
func TestGroupListCounts(t *testing.T) {
	var b strings.Builder
	b.WriteString("creation_rules:\n")
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&b, "  - path_regex: ^s%d/\n    age: age18qzqssxgx4zryu2063uc75kjyx5klr6ajqcpngq20psrmns32cpqpyqec8\n", i)
	}
	c, err := recipients.ParseConfig(".sops.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	var gs []recipients.GroupRef
	for i := range c.Rules {
		gs = append(gs, recipients.GroupRef{Rule: i})
	}
	got := groupList(c, gs)
	want := "rule 1 (^s0/), rule 2 (^s1/), rule 3 (^s2/), rule 4 (^s3/), rule 5 (^s4/), rule 6 (^s5/), rule 7 (^s6/), rule 8 (^s7/), and 4 more"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := groupList(c, gs[:9]); strings.Contains(got, "more") || !strings.HasSuffix(got, "rule 9 (^s8/)") {
		t.Errorf("nine groups: %s", got)
	}
}
