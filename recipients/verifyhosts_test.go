package recipients

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/sopsfleet/sopsfleet/internal/sshtest"
)

func TestContainsToken(t *testing.T) {
	for _, tc := range []struct {
		s, name string
		want    bool
	}{
		{"hosts/h01/[^/]+$", "h01", true},
		{"hosts/h010/[^/]+$", "h01", false},
		{"hosts/xh01/", "h01", false},
		{"hosts/h01-db/", "h01", false},
		{"hosts/h01_db/", "h01", false},
		{`^h01\.yaml$`, "h01", true},
		{`\bh01\b`, "h01", true},
		{`secrets/(h01|h02)/`, "h02", true},
		{"h01", "h01", true},
		{"", "h01", false},
	} {
		if got := ContainsToken(tc.s, tc.name); got != tc.want {
			t.Errorf("ContainsToken(%q, %q) = %v, want %v", tc.s, tc.name, got, tc.want)
		}
	}
	if got := replaceToken("hosts/h01/h010/h01", "h01", "web"); got != "hosts/web/h010/web" {
		t.Fatalf("replaceToken: %q", got)
	}
}

// hostFixture is a .sops.yaml with an admin, two hosts with their own
// rules (h01 as an anchor, h02 as a native ssh-ed25519 key) and one host
// (h03) known only from known_hosts.
func hostFixture(t *testing.T, h01, h02, h03 string) *Config {
	t.Helper()
	src := "keys:\n" +
		"  - &admin " + testAge(t) + "\n" +
		"  - &h01 " + h01 + "\n" +
		"  - &h02 " + h02 + "\n" +
		"  - &h03 " + h03 + "\n" +
		"creation_rules:\n" +
		"  - path_regex: hosts/h01/[^/]+$\n" +
		"    age: [*admin, *h01]\n" +
		"  - path_regex: hosts/h02/[^/]+$\n" +
		"    age: [*admin, *h02]\n" +
		"  - path_regex: .*\n" +
		"    age: [*admin, *h03]\n"
	c, err := ParseConfig(filepath.Join(t.TempDir(), ".sops.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testAge(t *testing.T) string {
	t.Helper()
	_, pub := sshtest.NewEd25519(t)
	a, err := SSHPublicKeyToAge(pub)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func authorized(pub ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
}

func TestHostChecksSelection(t *testing.T) {
	_, p1 := sshtest.NewEd25519(t)
	_, p2 := sshtest.NewEd25519(t)
	_, p3 := sshtest.NewEd25519(t)
	a1, _ := SSHPublicKeyToAge(p1)
	a3, _ := SSHPublicKeyToAge(p3)
	c := hostFixture(t, a1, `"`+authorized(p2)+`"`, a3)

	// Default: the hosts with their own rule; admin and h03 are not.
	hcs, err := c.HostChecks(HostSelectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := checkNames(hcs); got != "h01 h02" {
		t.Fatalf("default selection %q, want \"h01 h02\"", got)
	}
	if hcs[0].OwnRule == nil || hcs[0].OwnRule.Index != 0 || hcs[0].Host != "h01" {
		t.Fatalf("h01 check %+v", hcs[0])
	}

	// A known_hosts entry under its name makes h03 a host (with --domain,
	// under NAME.DOMAIN).
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte("h03.example.org "+authorized(p3)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hcs, err = c.HostChecks(HostSelectOptions{KnownHosts: kh, Domain: "example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if got := checkNames(hcs); got != "h01 h02 h03" || hcs[2].Host != "h03.example.org" {
		t.Fatalf("with known_hosts: %q (%+v)", got, hcs)
	}
	// --host makes a recipient a host and is dialed directly.
	hcs, err = c.HostChecks(HostSelectOptions{Hosts: map[string]string{"h03": "10.0.0.3:2222"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := checkNames(hcs); got != "h01 h02 h03" || !hcs[2].Direct || hcs[2].Host != "10.0.0.3:2222" {
		t.Fatalf("with --host: %q (%+v)", got, hcs)
	}
	// Named: exactly those, admins included.
	hcs, err = c.HostChecks(HostSelectOptions{Names: []string{"admin"}})
	if err != nil || checkNames(hcs) != "admin" {
		t.Fatalf("named admin: %v %v", hcs, err)
	}
	if _, err := c.HostChecks(HostSelectOptions{Names: []string{"h04"}}); !errors.Is(err, ErrUnknownName) {
		t.Fatalf("unknown name: %v", err)
	}
	if _, err := c.HostChecks(HostSelectOptions{Hosts: map[string]string{"nope": "x"}}); !errors.Is(err, ErrUnknownName) {
		t.Fatalf("unknown --host name: %v", err)
	}
}

func checkNames(hcs []HostCheck) string {
	var n []string
	for _, h := range hcs {
		n = append(n, h.Name)
	}
	return strings.Join(n, " ")
}

// TestVerifyHosts runs real SSH servers on several loopback ports: one
// matching, one reinstalled, one with no ed25519 key, and a closed port.
func TestVerifyHosts(t *testing.T) {
	k1, p1 := sshtest.NewEd25519(t)
	_, p2old := sshtest.NewEd25519(t)
	k2new, p2new := sshtest.NewEd25519(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a1, _ := SSHPublicKeyToAge(p1)
	a2old, _ := SSHPublicKeyToAge(p2old)
	a2new, _ := SSHPublicKeyToAge(p2new)

	matching := sshtest.Server(t, k1)
	reinstalled := sshtest.Server(t, k2new)
	noEd := sshtest.Server(t, ec)
	closed := closedPort(t)

	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte("h2 "+authorized(p2old)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	checks := []HostCheck{
		{Name: "h1", Key: Key{TypeAge, a1}, Host: matching, Direct: true},
		{Name: "h2", Key: Key{TypeAge, a2old}, Host: "h2", Direct: false},
		{Name: "h3", Key: Key{TypeAge, authorized(p1)}, Host: noEd, Direct: true},
		{Name: "h4", Key: Key{TypeAge, a1}, Host: closed, Direct: true},
		{Name: "h5", Key: Key{TypeAge, authorized(p1)}, Host: matching, Direct: true},
	}
	// h2 is reached through ~/.ssh/config: the resolver maps it to the
	// reinstalled server's port.
	res := VerifyHosts(context.Background(), checks, VerifyOptions{
		Timeout:    5 * time.Second,
		KnownHosts: kh,
		Resolver:   fakeResolver(t, "h2", reinstalled),
	})
	want := []HostStatus{HostMatch, HostDiffers, HostNoEd25519, HostUnreachable, HostMatch}
	for i, r := range res {
		if r.Status != want[i] {
			t.Errorf("%s: status %v (%v), want %v", r.Name, r.Status, r.Err, want[i])
		}
	}
	d := res[1]
	if d.Live == nil || d.Live.Age != a2new || d.Live.Fingerprint != ssh.FingerprintSHA256(p2new) {
		t.Fatalf("differs: live %+v", d.Live)
	}
	if d.RecordedFingerprint != ssh.FingerprintSHA256(p2old) {
		t.Fatalf("recorded fingerprint %q, want the old key's from known_hosts", d.RecordedFingerprint)
	}
	if d.Target != reinstalled {
		t.Fatalf("h2 dialed %q, want %q", d.Target, reinstalled)
	}
	if got, want := d.ReplaceCommand(), "sopsfleet recipients replace h2 --keyscan h2 --fingerprint "+ssh.FingerprintSHA256(p2new); got != want {
		t.Fatalf("replace command %q, want %q", got, want)
	}
	if !strings.Contains(res[2].Err.Error(), "ecdsa-sha2-nistp256") {
		t.Fatalf("no ed25519: %v", res[2].Err)
	}
	if res[3].Err == nil || !strings.Contains(res[3].Err.Error(), "refused") {
		t.Fatalf("closed port: %v", res[3].Err)
	}
	if res[4].RecordedFingerprint != ssh.FingerprintSHA256(p1) {
		t.Fatalf("native ssh recipient fingerprint %q", res[4].RecordedFingerprint)
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// fakeResolver writes an ssh config mapping name to addr and returns a
// resolver using it; it skips the test when ssh is not installed.
func fakeResolver(t *testing.T, name, addr string) *SSHResolver {
	t.Helper()
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("ssh is not installed")
	}
	host, port, _ := net.SplitHostPort(addr)
	cfg := filepath.Join(t.TempDir(), "ssh_config")
	text := "Host " + name + "\n  HostName " + host + "\n  Port " + port + "\n" +
		"Host jumped\n  HostName 10.1.2.3\n  ProxyJump bastion\n" +
		"Host piped\n  ProxyCommand nc -X 5 %h %p\n"
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return &SSHResolver{ConfigFile: cfg}
}

func TestResolveSSHHost(t *testing.T) {
	r := fakeResolver(t, "web1", "127.0.0.1:2201")
	ctx := context.Background()
	h, err := ResolveSSHHost(ctx, "web1", r)
	if err != nil || h.Target() != "127.0.0.1:2201" || !h.FromSSHConfig {
		t.Fatalf("web1: %+v %v", h, err)
	}
	// An explicit port wins over the config's.
	h, err = ResolveSSHHost(ctx, "web1:2300", r)
	if err != nil || h.Target() != "127.0.0.1:2300" {
		t.Fatalf("web1:2300: %+v %v", h, err)
	}
	// A name the config does not know is itself, port 22.
	h, err = ResolveSSHHost(ctx, "other.example", r)
	if err != nil || h.Target() != "other.example:22" {
		t.Fatalf("other: %+v %v", h, err)
	}
	for _, n := range []string{"jumped", "piped"} {
		_, err = ResolveSSHHost(ctx, n, r)
		var pj *ProxyJumpError
		if !errors.As(err, &pj) || !errors.Is(err, ErrProxyJump) {
			t.Fatalf("%s: err %v, want a ProxyJumpError", n, err)
		}
	}
	if !strings.Contains(err.Error(), "ProxyCommand nc…") {
		t.Fatalf("proxy command error %q", err)
	}
	// Without ssh the name is used as it is.
	h, err = ResolveSSHHost(ctx, "jumped", &SSHResolver{NoSSH: true})
	if err != nil || h.Target() != "jumped:22" || h.FromSSHConfig {
		t.Fatalf("no ssh: %+v %v", h, err)
	}
	if _, err := ResolveSSHHost(ctx, "bad host", r); err == nil {
		t.Fatal("a host with a space was accepted")
	}
}

func TestParseSSHConfigDump(t *testing.T) {
	g := ParseSSHConfigDump([]byte("user root\nhostname 10.0.0.9\nport 2200\nproxyjump bastion\nidentityfile ~/.ssh/a\nidentityfile ~/.ssh/b\n"))
	if g["hostname"] != "10.0.0.9" || g["port"] != "2200" || g["proxyjump"] != "bastion" || g["identityfile"] != "~/.ssh/a" {
		t.Fatalf("%v", g)
	}
}
