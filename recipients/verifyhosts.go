package recipients

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Verifying hosts: a reinstalled host has a new SSH host key, so its age
// recipient changed and it can no longer decrypt its secrets at boot.
// [VerifyHosts] fetches each host recipient's live host key and compares
// it with the recipient in .sops.yaml, before a boot fails.

// HostCheck is one recipient to verify against its host.
type HostCheck struct {
	// Name is the recipient's name in .sops.yaml.
	Name string
	// Key is the recipient written there: an age X25519 recipient or a
	// native "ssh-ed25519 AAAA…" one.
	Key Key
	// Host is what to connect to: NAME, NAME.DOMAIN, or the HOST[:PORT]
	// of --host.
	Host string
	// Direct is true when Host was given explicitly (--host): it is dialed
	// as it is, without asking ~/.ssh/config.
	Direct bool
	// OwnRule is the recipient's own rule, when it has one.
	OwnRule *Rule
}

// HostSelectOptions select the recipients [Config.HostChecks] verifies.
type HostSelectOptions struct {
	// Names are recipients named on the command line; empty means every
	// host recipient (see [Config.HostChecks]).
	Names []string
	// Domain, when set, makes the host of NAME "NAME.DOMAIN".
	Domain string
	// Hosts maps names to an explicit HOST[:PORT] (--host NAME=HOST).
	Hosts map[string]string
	// KnownHosts is the known_hosts file whose entries make a recipient a
	// host ("" or a missing file: none).
	KnownHosts string
}

// HostChecks lists the recipients to verify, in file order. With names,
// exactly those (any age X25519 or ssh-ed25519 recipient). Without, every
// named age X25519 or native ssh-ed25519 recipient that has its own rule
// ([Config.OwnRules]), a known_hosts entry under its host name, or a
// --host: admins' personal keys would only be noise.
func (c *Config) HostChecks(o HostSelectOptions) ([]HostCheck, error) {
	for n := range o.Hosts {
		if _, err := c.Lookup(n); err != nil {
			return nil, fmt.Errorf("--host %s=…: %w", n, err)
		}
	}
	hostOf := func(name string) (string, bool) {
		if h, ok := o.Hosts[name]; ok {
			return h, true
		}
		if o.Domain != "" {
			return name + "." + strings.TrimPrefix(o.Domain, "."), false
		}
		return name, false
	}
	build := func(name string, k Key) (HostCheck, error) {
		if !hostComparable(k) {
			return HostCheck{}, fmt.Errorf("%s: %s is not an age X25519 or ssh-ed25519 recipient (%s): it cannot be compared with an SSH host key", c.Path, QuoteInput(name), shortKey(k.ID))
		}
		h, direct := hostOf(name)
		if _, err := KeyscanAddress(h); err != nil {
			return HostCheck{}, fmt.Errorf("host of %s: %w", name, err)
		}
		hc := HostCheck{Name: name, Key: k, Host: h, Direct: direct}
		if rs := c.OwnRules(name, k); len(rs) == 1 {
			hc.OwnRule = rs[0]
		}
		return hc, nil
	}
	var out []HostCheck
	if len(o.Names) > 0 {
		seen := map[string]bool{}
		for _, n := range o.Names {
			if seen[n] {
				continue
			}
			seen[n] = true
			k, err := c.Lookup(n)
			if err != nil {
				return nil, err
			}
			if c.NameOf(k) != "" {
				n = c.NameOf(k)
			}
			hc, err := build(n, k)
			if err != nil {
				return nil, err
			}
			out = append(out, hc)
		}
		return out, nil
	}
	seen := map[Key]bool{}
	for _, nm := range c.named() {
		if seen[nm.key] || !hostComparable(nm.key) {
			continue
		}
		_, explicit := o.Hosts[nm.name]
		h, _ := hostOf(nm.name)
		if !explicit && len(c.OwnRules(nm.name, nm.key)) == 0 && !knownHostsHas(o.KnownHosts, h) {
			continue
		}
		hc, err := build(nm.name, nm.key)
		if err != nil {
			continue
		}
		seen[nm.key] = true
		out = append(out, hc)
	}
	return out, nil
}

// hostComparable reports whether k can be a host key's recipient: an age
// X25519 recipient or a native ssh-ed25519 one.
func hostComparable(k Key) bool {
	if k.Type != TypeAge {
		return false
	}
	if strings.HasPrefix(k.ID, "ssh-ed25519 ") {
		_, err := parseAuthorizedKey(k.ID)
		return err == nil
	}
	kind, err := parseAgeRecipientLikeSops(k.ID)
	return err == nil && kind == "age" && !strings.HasPrefix(k.ID, "age1pq1")
}

func parseAuthorizedKey(s string) (ssh.PublicKey, error) {
	pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s))
	return pk, err
}

// HostStatus is the outcome of verifying one host.
type HostStatus int

// The outcomes of [VerifyHosts].
const (
	// HostMatch: the live host key is the recipient in .sops.yaml.
	HostMatch HostStatus = iota
	// HostDiffers: the host presents another key: it was reinstalled (or
	// someone is in the middle); it cannot decrypt its secrets.
	HostDiffers
	// HostUnreachable: no host key was fetched (refused, timed out, a
	// jump host, not an SSH server).
	HostUnreachable
	// HostNoEd25519: the host has no ssh-ed25519 host key.
	HostNoEd25519
)

// String returns "match", "differs", "unreachable" or "no ed25519 key".
func (s HostStatus) String() string {
	switch s {
	case HostMatch:
		return "match"
	case HostDiffers:
		return "differs"
	case HostUnreachable:
		return "unreachable"
	case HostNoEd25519:
		return "no ed25519 key"
	}
	return "HostStatus(" + strconv.Itoa(int(s)) + ")"
}

// HostResult is what [VerifyHosts] found for one [HostCheck].
type HostResult struct {
	HostCheck
	// Target is the HOST:PORT dialed (after ~/.ssh/config).
	Target string
	Status HostStatus
	// Live is the fetched host key (match and differs).
	Live *HostKey
	// Err says why the host is unreachable or has no ed25519 key.
	Err error
	// RecordedFingerprint is the SHA256 fingerprint of the recorded key:
	// of the ssh-ed25519 recipient itself, or of the ed25519 key in
	// known_hosts that converts to the age recipient; "" when unknown.
	RecordedFingerprint string
}

// VerifyOptions tune [VerifyHosts].
type VerifyOptions struct {
	// Timeout bounds each host's probe (connect and handshake).
	Timeout time.Duration
	// Parallel bounds the probes run at once (0: 16).
	Parallel int
	// Resolver asks ssh for HostName and Port (nil: ssh -G from PATH).
	Resolver *SSHResolver
	// KnownHosts, when set, is searched for the recorded key's fingerprint.
	KnownHosts string
}

// VerifyHosts probes every host in parallel and compares its live
// ssh-ed25519 host key with the recorded recipient. Results keep the order
// of checks. It never fails as a whole: each host has its own status.
func VerifyHosts(ctx context.Context, checks []HostCheck, o VerifyOptions) []HostResult {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	par := o.Parallel
	if par <= 0 {
		par = 16
	}
	results := make([]HostResult, len(checks))
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, hc := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = verifyOne(ctx, hc, o)
		}()
	}
	wg.Wait()
	return results
}

func verifyOne(ctx context.Context, hc HostCheck, o VerifyOptions) HostResult {
	r := HostResult{HostCheck: hc, Target: hc.Host}
	if pk, err := parseAuthorizedKey(hc.Key.ID); err == nil && strings.HasPrefix(hc.Key.ID, "ssh-") {
		r.RecordedFingerprint = ssh.FingerprintSHA256(pk)
	}
	if !hc.Direct {
		rctx, cancel := context.WithTimeout(ctx, o.Timeout) // ssh -G can run Match exec commands
		h, err := ResolveSSHHost(rctx, hc.Host, o.Resolver)
		cancel()
		if err != nil {
			r.Status, r.Err = HostUnreachable, err
			return r
		}
		r.Target = h.Target()
	}
	if r.RecordedFingerprint == "" && o.KnownHosts != "" {
		// known_hosts may hold the old key under the name, the host or the
		// address dialed.
	search:
		for _, h := range []string{hc.Host, hc.Name, r.Target} {
			for _, k := range knownHostKeys(o.KnownHosts, h) {
				if a, err := SSHPublicKeyToAge(k); err == nil && a == hc.Key.ID {
					r.RecordedFingerprint = ssh.FingerprintSHA256(k)
					break search
				}
			}
		}
	}
	hk, err := Keyscan(ctx, r.Target, o.Timeout)
	switch {
	case errors.Is(err, ErrNoEd25519HostKey):
		r.Status, r.Err = HostNoEd25519, err
		return r
	case err != nil:
		r.Status, r.Err = HostUnreachable, err
		return r
	}
	r.Live = hk
	if liveMatches(hk, hc.Key) {
		r.Status = HostMatch
	} else {
		r.Status = HostDiffers
	}
	return r
}

// liveMatches reports whether the live host key is recipient k.
func liveMatches(hk *HostKey, k Key) bool {
	if strings.HasPrefix(k.ID, "ssh-") {
		pk, err := parseAuthorizedKey(k.ID)
		return err == nil && string(pk.Marshal()) == string(hk.Key.Marshal())
	}
	return hk.Age == k.ID
}

// ReplaceCommand is the command that puts the live key in place of the
// recorded one: "sopsfleet recipients replace NAME --keyscan HOST
// --fingerprint SHA256:…". The fingerprint is what the host presented: the
// user must compare it with the host's console before running it.
func (r HostResult) ReplaceCommand() string {
	if r.Live == nil {
		return ""
	}
	return fmt.Sprintf("sopsfleet recipients replace %s --keyscan %s --fingerprint %s", r.Name, shellWord(r.Host), r.Live.Fingerprint)
}

// shellWord quotes s for a POSIX shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]@/") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// knownHostsHas reports whether the known_hosts file at path has any line
// for host (HOST or HOST:PORT), of any key type.
func knownHostsHas(path, host string) bool { return len(knownHostsWant(path, host)) > 0 }

// knownHostKeys returns the ed25519 keys path records for host.
func knownHostKeys(path, host string) []ssh.PublicKey {
	var out []ssh.PublicKey
	for _, w := range knownHostsWant(path, host) {
		if w.Key.Type() == ssh.KeyAlgoED25519 {
			out = append(out, w.Key)
		}
	}
	return out
}

// knownHostsWant asks the known_hosts callback with a key no file holds:
// the mismatch lists every line for host.
func knownHostsWant(path, host string) []knownhosts.KnownKey {
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	addr, err := KeyscanAddress(host)
	if err != nil {
		return nil
	}
	cb, err := knownhosts.New(path)
	if err != nil {
		return nil
	}
	probe, err := ssh.NewPublicKey(ed25519.PublicKey(probeKey[:]))
	if err != nil {
		return nil
	}
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	var keyErr *knownhosts.KeyError
	if !errors.As(cb(addr, &net.TCPAddr{IP: net.IPv6unspecified, Port: p}, probe), &keyErr) {
		return nil
	}
	want := keyErr.Want
	sort.SliceStable(want, func(i, j int) bool { return want[i].Line < want[j].Line })
	return want
}
