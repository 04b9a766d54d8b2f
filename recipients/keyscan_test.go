package recipients

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// startSSHServer runs a real x/crypto/ssh server on 127.0.0.1 with the given
// host keys and returns its address. Every handshake is served; clients are
// never authenticated.
func startSSHServer(t *testing.T, keys ...crypto.Signer) string {
	t.Helper()
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(ssh.ConnMetadata, []byte) (*ssh.Permissions, error) {
			return nil, errors.New("no")
		},
	}
	for _, k := range keys {
		s, err := ssh.NewSignerFromSigner(k)
		if err != nil {
			t.Fatal(err)
		}
		cfg.AddHostKey(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
				if err != nil {
					return
				}
				go ssh.DiscardRequests(reqs)
				for ch := range chans {
					ch.Reject(ssh.Prohibited, "")
				}
				sc.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

func newEd25519(t *testing.T) (ed25519.PrivateKey, ssh.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return priv, sp
}

func TestKeyscan(t *testing.T) {
	priv, pub := newEd25519(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// The server also has an ECDSA key; only the ed25519 one is asked for.
	addr := startSSHServer(t, ec, priv)
	hk, err := Keyscan(context.Background(), addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want, err := SSHPublicKeyToAge(pub)
	if err != nil {
		t.Fatal(err)
	}
	if hk.Age != want || hk.Fingerprint != ssh.FingerprintSHA256(pub) || string(hk.Key.Marshal()) != string(pub.Marshal()) {
		t.Fatalf("got %+v, want %s", hk, want)
	}
	if hk.Address != addr || hk.Target != addr || hk.Remote == nil {
		t.Fatalf("address %q target %q remote %v", hk.Address, hk.Target, hk.Remote)
	}
	id, err := Ed25519PrivateKeyToAge(priv)
	if err != nil {
		t.Fatal(err)
	}
	if id.Recipient().String() != hk.Age {
		t.Fatal("the host's own private key does not convert to the scanned recipient")
	}
}

func TestKeyscanNoEd25519(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	addr := startSSHServer(t, ec)
	_, err = Keyscan(context.Background(), addr, 5*time.Second)
	if !errors.Is(err, ErrNoEd25519HostKey) {
		t.Fatalf("err = %v, want ErrNoEd25519HostKey", err)
	}
	if !strings.Contains(err.Error(), "ecdsa-sha2-nistp256") || !strings.Contains(err.Error(), addr) {
		t.Fatalf("error does not say what the server offers: %v", err)
	}
}

// A listener that accepts and never says a word: the timeout must end it.
func TestKeyscanTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }()
		}
	}()
	_, err = Keyscan(context.Background(), ln.Addr().String(), 200*time.Millisecond)
	if !errors.Is(err, ErrKeyscanTimeout) {
		t.Fatalf("err = %v, want ErrKeyscanTimeout", err)
	}
	if !strings.Contains(err.Error(), "200ms") {
		t.Fatalf("error does not say the timeout: %v", err)
	}
}

func TestKeyscanCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		c, err := ln.Accept()
		if err == nil {
			cancel()
			defer c.Close()
			time.Sleep(time.Second)
		}
	}()
	_, err = Keyscan(ctx, ln.Addr().String(), time.Minute)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestKeyscanNotSSH(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, err = Keyscan(context.Background(), ln.Addr().String(), 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "not an SSH server") {
		t.Fatalf("err = %v", err)
	}
	// Nothing listens on a closed listener's port.
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln2.Addr().String()
	ln2.Close()
	_, err = Keyscan(context.Background(), addr, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "refused") || strings.Count(err.Error(), addr) != 1 {
		t.Fatalf("err = %v", err)
	}
}

func TestKeyscanAddress(t *testing.T) {
	good := map[string]string{
		"web1":           "web1:22",
		"web1:2222":      "web1:2222",
		"10.0.0.7":       "10.0.0.7:22",
		"[::1]":          "[::1]:22",
		"::1":            "[::1]:22",
		"[::1]:2200":     "[::1]:2200",
		"[misato.lan]:2": "misato.lan:2",
	}
	for in, want := range good {
		got, err := KeyscanAddress(in)
		if err != nil || got != want {
			t.Errorf("KeyscanAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "user@web1", "web1:0", "web1:99999", "web1:abc:def", ":22", "a b", "ssh://web1"} {
		if got, err := KeyscanAddress(in); err == nil {
			t.Errorf("KeyscanAddress(%q) = %q, want error", in, got)
		}
	}
	if _, err := Keyscan(context.Background(), "web1", 0); err == nil {
		t.Error("zero timeout accepted")
	}
}
