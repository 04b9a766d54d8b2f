package cli

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/sopsfleet/sopsfleet/internal/sshtest"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// sshServer runs a real SSH server on 127.0.0.1 with the given host keys
// and returns its address (see [sshtest.Server]).
func sshServer(t *testing.T, keys ...crypto.Signer) string {
	t.Helper()
	return sshtest.Server(t, keys...)
}

type hostKey struct {
	priv ed25519.PrivateKey
	pub  ssh.PublicKey
	age  string
}

func newHostKey(t *testing.T) hostKey {
	t.Helper()
	priv, pub := sshtest.NewEd25519(t)
	a, err := recipients.SSHPublicKeyToAge(pub)
	if err != nil {
		t.Fatal(err)
	}
	return hostKey{priv, pub, a}
}

// keyscanIO returns test streams whose $HOME is home.
func keyscanIO(home string) (*IOStreams, *strings.Builder, *strings.Builder) {
	ios, _, _ := TestIO("")
	var out, errOut strings.Builder
	ios.Out, ios.ErrOut = &out, &errOut
	ios.Getenv = func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
	return ios, &out, &errOut
}

func writeKnownHosts(t *testing.T, home string, lines ...string) string {
	t.Helper()
	dir := filepath.Join(home, ".ssh")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKeyscanUnknownHost(t *testing.T) {
	hk := newHostKey(t)
	addr := sshServer(t, hk.priv)
	home := t.TempDir() // no ~/.ssh/known_hosts at all
	ios, out, errOut := keyscanIO(home)
	if code := Run(ios, []string{"keyscan", addr}); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	fp := ssh.FingerprintSHA256(hk.pub)
	if out.String() != addr+" "+fp+" "+hk.age+"\n" {
		t.Fatalf("stdout %q", out)
	}
	e := errOut.String()
	if !strings.Contains(e, "warning: "+addr+": not in "+filepath.Join(home, ".ssh", "known_hosts")+": trusting its host key on first use; compare "+fp) {
		t.Fatalf("stderr %q", e)
	}

	// -q: data only.
	ios, out, errOut = keyscanIO(home)
	if code := Run(ios, []string{"-q", "keyscan", "--labels", addr}); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if out.String() != hk.age+"  # "+addr+"\n" || errOut.Len() != 0 {
		t.Fatalf("stdout %q stderr %q", out, errOut)
	}
}

func TestKeyscanKnownHostsMatch(t *testing.T) {
	hk := newHostKey(t)
	addr := sshServer(t, hk.priv)
	home := t.TempDir()
	other := newHostKey(t)
	kh := writeKnownHosts(t, home, knownhosts.Line([]string{"elsewhere"}, other.pub), knownhosts.Line([]string{addr}, hk.pub))
	ios, out, errOut := keyscanIO(home)
	if code := Run(ios, []string{"keyscan", "--json", addr}); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []scannedHost
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	want := scannedHost{Host: addr, Address: addr, SSHType: "ssh-ed25519", SSHFingerprint: ssh.FingerprintSHA256(hk.pub), Age: hk.age, KnownHosts: "match"}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if !strings.Contains(errOut.String(), addr+": host key "+want.SSHFingerprint+" matches "+kh+":2") ||
		strings.Contains(errOut.String(), "warning") {
		t.Fatalf("stderr %q", errOut)
	}
}

func TestKeyscanKnownHostsMismatch(t *testing.T) {
	hk := newHostKey(t)
	addr := sshServer(t, hk.priv)
	old := newHostKey(t)
	dir := t.TempDir()
	kh := filepath.Join(dir, "custom_known_hosts")
	if err := os.WriteFile(kh, []byte(knownhosts.Line([]string{addr}, old.pub)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// $HOME has a matching entry, but --known-hosts decides.
	home := t.TempDir()
	writeKnownHosts(t, home, knownhosts.Line([]string{addr}, hk.pub))
	ios, out, errOut := keyscanIO(home)
	code := Run(ios, []string{"keyscan", "--known-hosts", kh, addr})
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	if out.Len() != 0 {
		t.Fatalf("printed the recipient of a mismatched key: %q", out)
	}
	e := errOut.String()
	for _, want := range []string{
		"error: " + addr + ": HOST KEY MISMATCH: the host presents ssh-ed25519 " + ssh.FingerprintSHA256(hk.pub) + ", but " + kh + ":1 records " + ssh.FingerprintSHA256(old.pub),
		"man in the middle",
		"hint: ",
		"ssh-keygen -R \"" + knownhosts.Normalize(addr) + "\"",
	} {
		if !strings.Contains(e, want) {
			t.Errorf("stderr lacks %q:\n%s", want, e)
		}
	}
	if strings.Contains(e, hk.age) {
		t.Error("stderr names the recipient")
	}
}

func TestKeyscanRevoked(t *testing.T) {
	hk := newHostKey(t)
	addr := sshServer(t, hk.priv)
	home := t.TempDir()
	kh := writeKnownHosts(t, home, "# comment", "@revoked * "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hk.pub))))
	ios, out, errOut := keyscanIO(home)
	if code := Run(ios, []string{"keyscan", addr}); code != ExitFailure || out.Len() != 0 {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errOut.String(), "which "+kh+":2 marks @revoked") {
		t.Fatalf("stderr %q", errOut)
	}
}

func TestKeyscanFailures(t *testing.T) {
	good := newHostKey(t)
	goodAddr := sshServer(t, good.priv)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecAddr := sshServer(t, ec)
	silent := sshtest.SilentServer(t)
	home := t.TempDir()

	ios, out, errOut := keyscanIO(home)
	code := Run(ios, []string{"keyscan", "--timeout", "300ms", "--labels", silent, goodAddr, ecAddr})
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	// The reachable host is still printed.
	if out.String() != good.age+"  # "+goodAddr+"\n" {
		t.Fatalf("stdout %q", out)
	}
	e := errOut.String()
	if !strings.Contains(e, "error: "+silent+": timed out after 300ms") {
		t.Errorf("no timeout error:\n%s", e)
	}
	if !strings.Contains(e, "error: "+ecAddr+": server offers no ssh-ed25519 host key (it offers ecdsa-sha2-nistp256)") {
		t.Errorf("no clear error for a server without ed25519:\n%s", e)
	}

	// Bad arguments are usage errors, before any connection.
	for _, args := range [][]string{
		{"keyscan"},
		{"keyscan", "user@web1"},
		{"keyscan", "--timeout", "0s", goodAddr},
		{"keyscan", "--json", "--labels", goodAddr},
	} {
		ios, out, _ := keyscanIO(home)
		if code := Run(ios, args); code != ExitUsage || out.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q", args, code, out)
		}
	}
}

func TestKeyscanBrokenKnownHosts(t *testing.T) {
	hk := newHostKey(t)
	addr := sshServer(t, hk.priv)
	home := t.TempDir()
	writeKnownHosts(t, home, "not a known_hosts line")
	ios, out, errOut := keyscanIO(home)
	if code := Run(ios, []string{"keyscan", addr}); code != ExitFailure || out.Len() != 0 {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errOut.String(), "cannot check the host key") || !strings.Contains(errOut.String(), "--known-hosts /dev/null") {
		t.Fatalf("stderr %q", errOut)
	}
	// A --known-hosts file that does not exist: warned about once, hosts unknown.
	ios, out, errOut = keyscanIO(home)
	missing := filepath.Join(home, "nope")
	if code := Run(ios, []string{"keyscan", "--known-hosts", missing, addr}); code != ExitOK || !strings.Contains(out.String(), hk.age) {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errOut.String(), "known_hosts file \""+missing+"\" does not exist") {
		t.Fatalf("stderr %q", errOut)
	}
}
