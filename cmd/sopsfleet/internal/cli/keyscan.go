package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// keyscanOptions are the inputs of `sopsfleet keyscan`.
type keyscanOptions struct {
	g          *globalOptions
	Targets    []string
	Timeout    time.Duration
	KnownHosts string
	JSON       bool
	Labels     bool
	ctx        context.Context
}

func newKeyscanCmd(g *globalOptions) *cobra.Command {
	o := &keyscanOptions{g: g}
	cmd := &cobra.Command{
		Use:   "keyscan HOST[:PORT]...",
		Short: "Fetch hosts' SSH ed25519 host keys and print their age recipients",
		Long: `keyscan connects to each HOST (port 22 unless HOST:PORT or [HOST]:PORT is given),
runs the start of an SSH handshake offering only the ssh-ed25519 host-key
algorithm, and hangs up as soon as the host key arrives: nothing is
authenticated. It prints the host, the key's SHA256 fingerprint and its age
recipient; --labels prints "age1…  # HOST" lines for .sops.yaml, --json an
array of objects.

Each key is checked against known_hosts (default ~/.ssh/known_hosts):
- same key recorded: said on stderr, and the key is printed;
- a different ed25519 key recorded: a loud error (someone may be in the
  middle, or the host was reinstalled), the key is NOT printed, exit 1;
- host not recorded: a warning that the key is trusted on first use, with
  the fingerprint to compare with the host's own
  (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub, run on the host).

Hosts are scanned in parallel; output keeps the order of the arguments. A host
that cannot be reached, times out, or has no ed25519 host key is an error and
the exit status is 1; the other hosts are still printed.`,
		Example: `  # one host, checked against ~/.ssh/known_hosts
  sopsfleet keyscan web1.example.com

  # several hosts, ready to paste into .sops.yaml
  sopsfleet keyscan --labels web1 web2:2222 10.0.0.7

  # JSON for scripts, with a short timeout and another known_hosts file
  sopsfleet keyscan --json --timeout 3s --known-hosts ./known_hosts web1`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("name at least one HOST[:PORT] to scan")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Targets = args
			o.ctx = cmd.Context()
			return runKeyscan(o)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&o.Timeout, "timeout", 10*time.Second, "give up on a host after this long (connect and handshake)")
	f.StringVar(&o.KnownHosts, "known-hosts", "", "known_hosts `FILE` to check keys against (default ~/.ssh/known_hosts)")
	f.BoolVar(&o.JSON, "json", false, "print a JSON array of {host, address, ssh_type, ssh_fingerprint, age, known_hosts}")
	f.BoolVar(&o.Labels, "labels", false, `print "age1…  # HOST" lines`)
	return cmd
}

// scannedHost is one line of output, as JSON.
type scannedHost struct {
	Host           string `json:"host"`
	Address        string `json:"address"`
	SSHType        string `json:"ssh_type"`
	SSHFingerprint string `json:"ssh_fingerprint"`
	Age            string `json:"age"`
	KnownHosts     string `json:"known_hosts"`
}

// keyscanParallel bounds the number of hosts scanned at once.
const keyscanParallel = 16

func runKeyscan(o *keyscanOptions) error {
	ios := o.g.IO
	if o.JSON && o.Labels {
		return usageErrorf("--json and --labels cannot be used together")
	}
	if o.Timeout <= 0 {
		return usageErrorf("--timeout must be positive, got %v", o.Timeout)
	}
	for _, t := range o.Targets {
		if _, err := recipients.KeyscanAddress(t); err != nil {
			return usageErr(err)
		}
	}
	khPath, err := o.knownHostsPath()
	if err != nil {
		ios.Warnf("cannot check known_hosts: %v", err)
	} else if o.KnownHosts != "" {
		if _, err := os.Stat(khPath); errors.Is(err, fs.ErrNotExist) {
			ios.Warnf("known_hosts file %q does not exist: every host is unknown", khPath)
		}
	}

	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	type result struct {
		hk  *recipients.HostKey
		err error
	}
	results := make([]result, len(o.Targets))
	sem := make(chan struct{}, keyscanParallel)
	var wg sync.WaitGroup
	for i, t := range o.Targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			hk, err := recipients.Keyscan(ctx, t, o.Timeout)
			results[i] = result{hk, err}
		}()
	}
	wg.Wait()

	var out []scannedHost
	failed := 0
	for i, r := range results {
		target := o.Targets[i]
		if r.err != nil {
			ios.Errorf("%v", r.err) // the error starts with host:port
			failed++
			continue
		}
		hk := r.hk
		status := "unchecked"
		if khPath != "" {
			kr, err := recipients.CheckKnownHostsAddr(khPath, target, hk.Remote, hk.Key)
			if err != nil {
				ios.Errorf("%s: cannot check the host key: %v", target, err)
				ios.Hintf("fix the file, or pass --known-hosts /dev/null to skip the check")
				failed++
				continue
			}
			status = kr.Status.String()
			if !o.reportKnownHosts(target, hk, khPath, kr) {
				failed++
				continue
			}
		}
		out = append(out, scannedHost{
			Host: target, Address: hk.Address, SSHType: hk.Key.Type(),
			SSHFingerprint: hk.Fingerprint, Age: hk.Age, KnownHosts: status,
		})
	}

	var buf bytes.Buffer
	switch {
	case o.JSON:
		b, err := jsonArray(out)
		if err != nil {
			return failErr(err)
		}
		buf.Write(b)
	case o.Labels:
		for _, h := range out {
			fmt.Fprintf(&buf, "%s  # %s\n", h.Age, h.Host)
		}
	default:
		for _, h := range out {
			fmt.Fprintf(&buf, "%s %s %s\n", h.Host, h.SSHFingerprint, h.Age)
		}
	}
	if _, err := ios.Out.Write(buf.Bytes()); err != nil {
		return failErr(err)
	}
	if failed > 0 {
		return errFindings
	}
	return nil
}

// reportKnownHosts says what known_hosts makes of a scanned key and reports
// whether the key may be printed.
func (o *keyscanOptions) reportKnownHosts(target string, hk *recipients.HostKey, path string, kr recipients.KnownHostsResult) bool {
	ios := o.g.IO
	switch kr.Status {
	case recipients.KnownHostsMatch:
		ios.Infof("%s: host key %s matches %s", target, hk.Fingerprint, firstEntryPlace(path, kr))
		return true
	case recipients.KnownHostsMismatch:
		for _, e := range kr.Entries {
			ios.Errorf("%s: HOST KEY MISMATCH: the host presents %s %s, but %s:%d records %s",
				target, hk.Key.Type(), hk.Fingerprint, e.File, e.Line, e.Fingerprint)
		}
		ios.Errorf("%s: someone may be intercepting the connection (man in the middle), or the host key was changed; its recipient is not printed", target)
		ios.Hintf("compare with the host's own key out of band (on the host: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub); if the change is expected, remove the old entry with: ssh-keygen -R %q", knownhosts.Normalize(hk.Address))
		return false
	case recipients.KnownHostsRevoked:
		ios.Errorf("%s: the host presents %s, which %s marks @revoked; its recipient is not printed", target, hk.Fingerprint, firstEntryPlace(path, kr))
		return false
	default:
		msg := fmt.Sprintf("%s: not in %s: trusting its host key on first use; compare %s with the host's own (on the host: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub)",
			target, path, hk.Fingerprint)
		if len(kr.Entries) > 0 {
			msg = fmt.Sprintf("%s: %s has only its %s key, no ed25519 key: trusting the ed25519 key on first use; compare %s with the host's own (on the host: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub)",
				target, path, kr.Entries[0].Type, hk.Fingerprint)
		}
		ios.Warnf("%s", msg)
		return true
	}
}

// firstEntryPlace is "FILE:LINE" of the first known_hosts line of kr, or
// path when no line is known.
func firstEntryPlace(path string, kr recipients.KnownHostsResult) string {
	if len(kr.Entries) == 0 {
		return path
	}
	return fmt.Sprintf("%s:%d", kr.Entries[0].File, kr.Entries[0].Line)
}

// knownHostsPath is --known-hosts, or ~/.ssh/known_hosts.
func (o *keyscanOptions) knownHostsPath() (string, error) {
	if o.KnownHosts != "" {
		return o.KnownHosts, nil
	}
	home := ""
	if o.g.IO.Getenv != nil {
		home = o.g.IO.Getenv("HOME")
	}
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no home folder for ~/.ssh/known_hosts (use --known-hosts FILE): %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".ssh", "known_hosts"), nil
}
