package recipients

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/sopsfleet/sopsfleet/internal/sshtest"
)

func TestKeyscan(t *testing.T) {
	priv, pub := sshtest.NewEd25519(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// The server also has an ECDSA key; only the ed25519 one is asked for.
	addr := sshtest.Server(t, ec, priv)
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
	addr := sshtest.Server(t, ec)
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
	addr := sshtest.SilentServer(t)
	_, err := Keyscan(context.Background(), addr, 200*time.Millisecond)
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
