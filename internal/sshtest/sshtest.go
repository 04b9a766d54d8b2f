// Package sshtest runs real SSH servers on the loopback interface for tests
// of keyscan, in the recipients package and on the command line. No test
// reaches beyond 127.0.0.1.
package sshtest

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Server runs a real golang.org/x/crypto/ssh server on 127.0.0.1 with the
// given host keys and returns its host:port. Every handshake is served;
// clients are never authenticated. It stops when the test ends.
func Server(t testing.TB, keys ...crypto.Signer) string {
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
	ln := listen(t)
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

// SilentServer accepts connections on 127.0.0.1 and never says a word, so
// that only a timeout ends a client's wait. It returns its host:port.
func SilentServer(t testing.TB) string {
	t.Helper()
	ln := listen(t)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// NewEd25519 generates an ed25519 host key.
func NewEd25519(t testing.TB) (ed25519.PrivateKey, ssh.PublicKey) {
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

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}
