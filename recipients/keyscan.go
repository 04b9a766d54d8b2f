package recipients

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// DefaultSSHPort is the port [Keyscan] uses when the target names none.
const DefaultSSHPort = "22"

// HostKey is a host's ssh-ed25519 host key as fetched by [Keyscan].
type HostKey struct {
	// Target is the target as given ("web1", "web1:2222", "[::1]:22").
	Target string
	// Address is the host:port dialed.
	Address string
	// Remote is the address actually connected to (the resolved IP).
	Remote net.Addr
	// Key is the host key.
	Key ssh.PublicKey
	// Fingerprint is the key's "SHA256:…" fingerprint.
	Fingerprint string
	// Age is the key converted to an age recipient.
	Age string
}

// ErrNoEd25519HostKey means the server has no ssh-ed25519 host key to offer.
var ErrNoEd25519HostKey = errors.New("server offers no ssh-ed25519 host key")

// ErrKeyscanTimeout means the host did not complete the handshake in time.
var ErrKeyscanTimeout = errors.New("timed out")

// errHostKeySeen aborts the handshake once the host key has arrived.
var errHostKeySeen = errors.New("host key received")

// KeyscanAddress returns the host:port Keyscan dials for target: HOST,
// HOST:PORT, [HOST]:PORT or a bare IPv6 address; the port defaults to 22.
func KeyscanAddress(target string) (string, error) {
	if target == "" {
		return "", errors.New("empty host")
	}
	if strings.ContainsAny(target, " \t\r\n/@") {
		return "", fmt.Errorf("invalid host %q: want HOST or HOST:PORT", target)
	}
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		// No port: HOST, or a bare IPv6 address ("::1"), or "[::1]".
		host, port = strings.TrimSuffix(strings.TrimPrefix(target, "["), "]"), DefaultSSHPort
		if strings.Count(host, ":") == 1 || (strings.Contains(host, ":") && net.ParseIP(host) == nil) {
			return "", fmt.Errorf("invalid host %q: want HOST or HOST:PORT", target)
		}
	}
	if host == "" {
		return "", fmt.Errorf("invalid host %q: no host name", target)
	}
	if p, err := net.LookupPort("tcp", port); err != nil || p <= 0 || p > 65535 {
		return "", fmt.Errorf("invalid port %q in %q", port, target)
	}
	return net.JoinHostPort(host, port), nil
}

// Keyscan fetches target's ssh-ed25519 host key by running the start of an
// SSH handshake: only ssh-ed25519 is offered as host-key algorithm, no
// authentication is attempted, and the connection is closed as soon as the
// host key has arrived. The whole exchange (including name resolution and
// connecting) is bounded by timeout, and by ctx.
//
// The key is not verified against anything: see [CheckKnownHosts].
func Keyscan(ctx context.Context, target string, timeout time.Duration) (*HostKey, error) {
	addr, err := KeyscanAddress(target)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("invalid timeout %v", timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, keyscanErr(ctx, addr, timeout, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// Cancelling ctx (not only its deadline) ends a blocked handshake.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var (
		mu  sync.Mutex
		key ssh.PublicKey
	)
	cfg := &ssh.ClientConfig{
		User:              "sopsfleet-keyscan",
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
		HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error {
			mu.Lock()
			key = k
			mu.Unlock()
			return errHostKeySeen
		},
		ClientVersion: "SSH-2.0-sopsfleet-keyscan",
	}
	c, chans, reqs, herr := ssh.NewClientConn(conn, addr, cfg)
	if herr == nil {
		// Cannot happen: the callback always fails the handshake.
		go ssh.DiscardRequests(reqs)
		go func() {
			for ch := range chans {
				ch.Reject(ssh.Prohibited, "")
			}
		}()
		c.Close()
	}
	mu.Lock()
	got := key
	mu.Unlock()
	if got == nil {
		if herr == nil {
			herr = errors.New("handshake ended without a host key")
		}
		return nil, keyscanErr(ctx, addr, timeout, herr)
	}
	if got.Type() != ssh.KeyAlgoED25519 {
		return nil, fmt.Errorf("%s: server sent a %q host key although only ssh-ed25519 was offered", addr, got.Type())
	}
	recipient, err := SSHPublicKeyToAge(got)
	if err != nil {
		return nil, fmt.Errorf("%s: host key: %w", addr, err)
	}
	return &HostKey{
		Target:      target,
		Address:     addr,
		Remote:      conn.RemoteAddr(),
		Key:         got,
		Fingerprint: ssh.FingerprintSHA256(got),
		Age:         recipient,
	}, nil
}

// keyscanErr turns a dial or handshake failure into a clear error.
func keyscanErr(ctx context.Context, addr string, timeout time.Duration, err error) error {
	var neg *ssh.AlgorithmNegotiationError
	if errors.As(err, &neg) && neg.What == "host key" {
		offered := neg.RequestedAlgorithms
		if len(offered) > 8 {
			offered = offered[:8]
		}
		return fmt.Errorf("%s: %w (it offers %s)", addr, ErrNoEd25519HostKey, strings.Join(offered, ", "))
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%s: %w after %v waiting for the SSH handshake", addr, ErrKeyscanTimeout, timeout)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", addr, ctx.Err())
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("%s: connection closed during the SSH handshake (not an SSH server?)", addr)
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return fmt.Errorf("%s: %w", addr, oe.Err)
	}
	return fmt.Errorf("%s: %w", addr, err)
}
