package recipients

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/sopsfleet/sopsfleet/internal/sshtest"
)

func writeKnownHosts(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckKnownHosts(t *testing.T) {
	_, key := sshtest.NewEd25519(t)
	_, other := sshtest.NewEd25519(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPub, err := ssh.NewPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	line := func(hosts []string, k ssh.PublicKey) string { return knownhosts.Line(hosts, k) }

	tests := []struct {
		name     string
		target   string
		file     []string
		want     KnownHostsStatus
		wantLine int
	}{
		{"match", "web1", []string{"# comment", line([]string{"web0"}, other), line([]string{"web1"}, key)}, KnownHostsMatch, 3},
		{"match with port", "web1:2222", []string{line([]string{"web1:2222"}, key)}, KnownHostsMatch, 1},
		{"match in host list", "10.0.0.7", []string{line([]string{"web1", "10.0.0.7"}, key)}, KnownHostsMatch, 1},
		{"match hashed", "web1", []string{knownhosts.HashHostname("web1") + " " + string(ssh.MarshalAuthorizedKey(key)[:len(ssh.MarshalAuthorizedKey(key))-1])}, KnownHostsMatch, 1},
		{"match wildcard", "web1.lan", []string{"*.lan " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))}, KnownHostsMatch, 1},
		{"mismatch", "web1", []string{line([]string{"web1"}, ecPub), line([]string{"web1"}, other)}, KnownHostsMismatch, 2},
		{"port differs: unknown", "web1:2222", []string{line([]string{"web1"}, other)}, KnownHostsUnknown, 0},
		{"unknown host", "web2", []string{line([]string{"web1"}, other)}, KnownHostsUnknown, 0},
		{"only other key types known", "web1", []string{line([]string{"web1"}, ecPub)}, KnownHostsUnknown, 1},
		{"revoked", "web1", []string{"@revoked * " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))), line([]string{"web1"}, key)}, KnownHostsRevoked, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeKnownHosts(t, tt.file...)
			got, err := CheckKnownHosts(p, tt.target, key)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("status %v, want %v", got, tt.want)
			}
			r, err := CheckKnownHostsAddr(p, tt.target, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 22}, key)
			if err != nil || r.Status != tt.want {
				t.Fatalf("detail: %v %v", r.Status, err)
			}
			if tt.wantLine == 0 {
				if len(r.Entries) != 0 {
					t.Fatalf("entries %+v", r.Entries)
				}
				return
			}
			if len(r.Entries) != 1 || r.Entries[0].Line != tt.wantLine || r.Entries[0].File != p {
				t.Fatalf("entries %+v, want line %d", r.Entries, tt.wantLine)
			}
			if !strings.HasPrefix(r.Entries[0].Fingerprint, "SHA256:") || r.Entries[0].Type == "" {
				t.Fatalf("entry %+v", r.Entries[0])
			}
		})
	}
}

func TestCheckKnownHostsFiles(t *testing.T) {
	_, key := sshtest.NewEd25519(t)
	missing := filepath.Join(t.TempDir(), "nope", "known_hosts")
	st, err := CheckKnownHosts(missing, "web1", key)
	if err != nil || st != KnownHostsUnknown {
		t.Fatalf("missing file: %v %v", st, err)
	}
	bad := writeKnownHosts(t, "this is not a known_hosts line")
	if _, err := CheckKnownHosts(bad, "web1", key); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("malformed file: %v", err)
	}
	if _, err := CheckKnownHosts(missing, "user@web1", key); err == nil {
		t.Fatal("bad target accepted")
	}
	for s, want := range map[KnownHostsStatus]string{KnownHostsUnknown: "unknown", KnownHostsMatch: "match", KnownHostsMismatch: "mismatch", KnownHostsRevoked: "revoked", 9: "KnownHostsStatus(9)"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q", s, s.String())
		}
	}
}
