package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/knownhosts"
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
