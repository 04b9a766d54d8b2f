package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// verifyFleet is a repository with an admin and four hosts with their own
// rules, each served by a real SSH server on its own loopback port: web1
// matches, web2 was reinstalled, web3 has no ed25519 key, web4's port is
// closed.
type verifyFleet struct {
	dir, config, home string
	addr              map[string]string
	web2New           hostKey
	web2Old           hostKey
}

func newVerifyFleet(t *testing.T) *verifyFleet {
	t.Helper()
	admin, web1, web2old, web2new, web4 := newHostKey(t), newHostKey(t), newHostKey(t), newHostKey(t), newHostKey(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := &verifyFleet{dir: t.TempDir(), home: t.TempDir(), web2New: web2new, web2Old: web2old}
	f.addr = map[string]string{
		"web1": sshServer(t, web1.priv),
		"web2": sshServer(t, web2new.priv),
		"web3": sshServer(t, ec),
		"web4": closedAddr(t),
	}
	web3 := newHostKey(t)
	text := "keys:\n" +
		"  - &admin " + admin.age + "\n" +
		"  - &web1 " + web1.age + "\n" +
		"  - &web2 " + web2old.age + "\n" +
		"  - &web3 " + web3.age + "\n" +
		"  - &web4 " + web4.age + "\n" +
		"creation_rules:\n"
	for _, h := range []string{"web1", "web2", "web3", "web4"} {
		text += "  - path_regex: hosts/" + h + "/[^/]+$\n    age: [*admin, *" + h + "]\n"
	}
	text += "  - age: [*admin]\n"
	f.config = filepath.Join(f.dir, ".sops.yaml")
	if err := os.WriteFile(f.config, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	writeKnownHosts(t, f.home, "web2 "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(web2old.pub))))
	return f
}

func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

func (f *verifyFleet) args(extra ...string) []string {
	a := []string{"--config", f.config, "recipients", "verify", "--keyscan", "--timeout", "5s"}
	for _, h := range []string{"web1", "web2", "web3", "web4"} {
		a = append(a, "--host", h+"="+f.addr[h])
	}
	return append(a, extra...)
}

func TestRecipientsVerifyKeyscan(t *testing.T) {
	f := newVerifyFleet(t)
	ios, out, errOut := keyscanIO(f.home)
	code := Run(ios, f.args())
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1 (web2 differs): %s", code, errOut)
	}
	o := out.String()
	newFP := ssh.FingerprintSHA256(f.web2New.pub)
	oldFP := ssh.FingerprintSHA256(f.web2Old.pub)
	for _, want := range []string{
		"web1: match: " + f.addr["web1"] + " presents SHA256:",
		"web2: differs: recorded " + oldFP + " (" + f.web2Old.age + "), but " + f.addr["web2"] + " presents " + newFP + " (" + f.web2New.age + ")",
		"sopsfleet recipients replace web2 --keyscan " + f.addr["web2"] + " --fingerprint " + newFP,
		"web3: no ed25519 key: " + f.addr["web3"] + ": server offers no ssh-ed25519 host key (it offers ecdsa-sha2-nistp256)",
		"web4: unreachable: " + f.addr["web4"] + ": connect: connection refused",
	} {
		if !strings.Contains(o, want) {
			t.Errorf("stdout lacks %q:\n%s", want, o)
		}
	}
	if strings.Contains(o, "admin") {
		t.Errorf("the admin was verified as a host:\n%s", o)
	}
	e := errOut.String()
	for _, want := range []string{
		"sopsfleet: warning: 2 hosts not verified: web3, web4",
		"sopsfleet: error: 1 host presents a host key that differs from " + f.config + ": web2",
		"sopsfleet: hint: compare the new fingerprint",
	} {
		if !strings.Contains(e, want) {
			t.Errorf("stderr lacks %q:\n%s", want, e)
		}
	}
}

func TestRecipientsVerifyExitCodes(t *testing.T) {
	f := newVerifyFleet(t)
	// Only the matching and the unreachable hosts: a warning, exit 0.
	ios, out, errOut := keyscanIO(f.home)
	if code := Run(ios, f.args("web1", "web4")); code != ExitOK {
		t.Fatalf("exit %d, want 0: %s", code, errOut)
	}
	if strings.Contains(out.String(), "web2") || !strings.Contains(errOut.String(), "warning: 1 host not verified: web4") {
		t.Fatalf("out %q err %q", out, errOut)
	}
	// --strict makes the unreachable host a failure.
	ios, _, errOut = keyscanIO(f.home)
	if code := Run(ios, f.args("web1", "web3", "--strict")); code != ExitFailure {
		t.Fatalf("--strict: exit %d, want 1: %s", code, errOut)
	}
	if !strings.Contains(errOut.String(), "error: 1 host not verified: web3") {
		t.Fatalf("--strict: %s", errOut)
	}
	// A matching host alone: exit 0, nothing on stderr.
	ios, _, errOut = keyscanIO(f.home)
	if code := Run(ios, f.args("web1")); code != ExitOK || errOut.Len() != 0 {
		t.Fatalf("web1 alone: exit %d: %q", code, errOut)
	}
}

func TestRecipientsVerifyJSON(t *testing.T) {
	f := newVerifyFleet(t)
	ios, out, errOut := keyscanIO(f.home)
	if code := Run(ios, f.args("--json")); code != ExitFailure {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []verifiedHost
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	status := map[string]verifiedHost{}
	for _, v := range got {
		status[v.Name] = v
	}
	want := map[string]string{"web1": "match", "web2": "differs", "web3": "no ed25519 key", "web4": "unreachable"}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d: %s", len(got), len(want), out)
	}
	for n, s := range want {
		if status[n].Status != s {
			t.Errorf("%s: status %q, want %q", n, status[n].Status, s)
		}
	}
	w2 := status["web2"]
	if w2.Age != f.web2New.age || w2.Recipient != f.web2Old.age || w2.RecordedFingerprint != ssh.FingerprintSHA256(f.web2Old.pub) ||
		!strings.HasPrefix(w2.Replace, "sopsfleet recipients replace web2 --keyscan ") {
		t.Fatalf("web2: %+v", w2)
	}
	if status["web4"].Error == "" || status["web1"].Error != "" {
		t.Fatalf("errors: %+v", got)
	}
}

func TestRecipientsVerifyUsage(t *testing.T) {
	f := newVerifyFleet(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", f.config, "recipients", "verify"}, "verify needs --keyscan"},
		{append(f.args(), "--host", "web1"), `--host "web1": want NAME=HOST[:PORT]`},
		{append(f.args(), "--host", "nosuch=127.0.0.1:1"), `no such recipient named "nosuch"`},
		{append(f.args(), "nosuch"), `no such recipient named "nosuch"`},
		{append(f.args(), "--timeout", "0s"), "--timeout must be positive"},
	} {
		ios, _, errOut := keyscanIO(f.home)
		if code := Run(ios, tc.args); code != ExitUsage {
			t.Errorf("%v: exit %d, want 2: %s", tc.args, code, errOut)
			continue
		}
		if !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: stderr %q lacks %q", tc.args, errOut, tc.want)
		}
	}
}

// A host that ~/.ssh/config reaches through a jump host is unreachable,
// with a hint to give its address.
func TestRecipientsVerifyProxyJump(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("ssh is not installed")
	}
	f := newVerifyFleet(t)
	cfg := filepath.Join(t.TempDir(), "ssh_config")
	host, port, _ := net.SplitHostPort(f.addr["web1"])
	if err := os.WriteFile(cfg, []byte("Host web1\n  HostName "+host+"\n  Port "+port+"\nHost web2\n  ProxyJump bastion\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ios, out, errOut := keyscanIO(f.home)
	o := &recipientsVerifyOptions{
		g: &globalOptions{IO: ios, Config: f.config}, Names: []string{"web1", "web2"}, Keyscan: true,
		Timeout: 5e9, resolver: &recipients.SSHResolver{ConfigFile: cfg},
	}
	if err := runRecipientsVerify(o); err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	if !strings.Contains(out.String(), "web1: match: "+f.addr["web1"]) ||
		!strings.Contains(out.String(), "web2: unreachable: web2: ~/.ssh/config reaches it only through ProxyJump bastion") {
		t.Fatalf("stdout:\n%s", out)
	}
	if !strings.Contains(errOut.String(), "hint: a host behind a jump host is scanned through its own address: --host NAME=HOST[:PORT]") {
		t.Fatalf("stderr:\n%s", errOut)
	}
}
