package recipients

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// KnownHostsStatus is what a known_hosts file says about a host key.
type KnownHostsStatus int

// The answers of [CheckKnownHosts].
const (
	// KnownHostsUnknown: the file has no key of this type for the host (or
	// there is no file). Trusting the key is trust on first use.
	KnownHostsUnknown KnownHostsStatus = iota
	// KnownHostsMatch: the file has this very key for the host.
	KnownHostsMatch
	// KnownHostsMismatch: the file has a different key of the same type for
	// the host: the host was reinstalled, or someone is in the middle.
	KnownHostsMismatch
	// KnownHostsRevoked: the file marks this key @revoked.
	KnownHostsRevoked
)

// String returns "unknown", "match", "mismatch" or "revoked".
func (s KnownHostsStatus) String() string {
	switch s {
	case KnownHostsUnknown:
		return "unknown"
	case KnownHostsMatch:
		return "match"
	case KnownHostsMismatch:
		return "mismatch"
	case KnownHostsRevoked:
		return "revoked"
	}
	return "KnownHostsStatus(" + strconv.Itoa(int(s)) + ")"
}

// KnownHostsEntry is one line of a known_hosts file.
type KnownHostsEntry struct {
	File        string
	Line        int
	Type        string
	Fingerprint string
}

// KnownHostsResult is the detailed answer of [CheckKnownHostsAddr].
type KnownHostsResult struct {
	Status KnownHostsStatus
	// Entries are the relevant lines: the matching one (match), the
	// differing keys of the same type (mismatch), the revoking line
	// (revoked), or keys of other types known for the host (unknown).
	Entries []KnownHostsEntry
}

// CheckKnownHosts looks target (HOST or HOST:PORT, as for [Keyscan]) up in
// the known_hosts file at path and compares key with what it records. A
// missing file is [KnownHostsUnknown]. Only keys of key's type count: a host
// known only by, say, its RSA key is unknown for an ed25519 key.
func CheckKnownHosts(path, target string, key ssh.PublicKey) (KnownHostsStatus, error) {
	r, err := CheckKnownHostsAddr(path, target, nil, key)
	return r.Status, err
}

// CheckKnownHostsAddr is [CheckKnownHosts] with the details; remote is the
// address connected to, or nil. Lookups are by host name, as ssh does.
func CheckKnownHostsAddr(path, target string, remote net.Addr, key ssh.PublicKey) (KnownHostsResult, error) {
	addr, err := KeyscanAddress(target)
	if err != nil {
		return KnownHostsResult{}, err
	}
	if key == nil {
		return KnownHostsResult{}, errors.New("no host key to check")
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return KnownHostsResult{Status: KnownHostsUnknown}, nil
	}
	cb, err := knownhosts.New(path)
	if err != nil {
		return KnownHostsResult{}, fmt.Errorf("read known_hosts %q: %w", path, err)
	}
	if remote == nil {
		// The callback needs a remote address; with a host name given it
		// looks up the name, so the placeholder is never matched.
		_, port, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(port)
		remote = &net.TCPAddr{IP: net.IPv6unspecified, Port: p}
	}
	err = cb(addr, remote, key)
	var keyErr *knownhosts.KeyError
	var revErr *knownhosts.RevokedError
	switch {
	case err == nil:
		return KnownHostsResult{Status: KnownHostsMatch, Entries: matchingEntries(cb, addr, remote, key)}, nil
	case errors.As(err, &revErr):
		return KnownHostsResult{Status: KnownHostsRevoked, Entries: []KnownHostsEntry{entryOf(revErr.Revoked)}}, nil
	case errors.As(err, &keyErr):
		var same, other []KnownHostsEntry
		for _, w := range keyErr.Want {
			if w.Key.Type() == key.Type() {
				same = append(same, entryOf(w))
			} else {
				other = append(other, entryOf(w))
			}
		}
		if len(same) > 0 {
			return KnownHostsResult{Status: KnownHostsMismatch, Entries: same}, nil
		}
		return KnownHostsResult{Status: KnownHostsUnknown, Entries: other}, nil
	default:
		return KnownHostsResult{}, fmt.Errorf("check known_hosts %q: %w", path, err)
	}
}

func entryOf(k knownhosts.KnownKey) KnownHostsEntry {
	return KnownHostsEntry{File: k.Filename, Line: k.Line, Type: k.Key.Type(), Fingerprint: ssh.FingerprintSHA256(k.Key)}
}

// matchingEntries finds the lines that hold key for addr. The knownhosts
// callback does not say which line matched, so it is asked again with a key
// no file holds: the mismatch lists every line for the host.
func matchingEntries(cb ssh.HostKeyCallback, addr string, remote net.Addr, key ssh.PublicKey) []KnownHostsEntry {
	probe, err := ssh.NewPublicKey(ed25519.PublicKey(probeKey[:]))
	if err != nil {
		return nil
	}
	var keyErr *knownhosts.KeyError
	if !errors.As(cb(addr, remote, probe), &keyErr) {
		return nil
	}
	var out []KnownHostsEntry
	for _, w := range keyErr.Want {
		if w.Key.Type() == key.Type() && string(w.Key.Marshal()) == string(key.Marshal()) {
			out = append(out, entryOf(w))
		}
	}
	return out
}

// probeKey is the ed25519 base point's encoding: a valid public key that
// belongs to no host (its private key is 1).
var probeKey = [32]byte{0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66}
