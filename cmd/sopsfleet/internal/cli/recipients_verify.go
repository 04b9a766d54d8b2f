package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// recipientsVerifyOptions are the inputs of `sopsfleet recipients verify`.
type recipientsVerifyOptions struct {
	g          *globalOptions
	Names      []string
	Keyscan    bool
	Domain     string
	Hosts      []string // NAME=HOST[:PORT]
	Timeout    time.Duration
	KnownHosts string
	Strict     bool
	JSON       bool
	ctx        context.Context
	resolver   *recipients.SSHResolver // nil: ssh -G from PATH (tests set one)
}

func newRecipientsVerifyCmd(g *globalOptions) *cobra.Command {
	o := &recipientsVerifyOptions{g: g}
	cmd := &cobra.Command{
		Use:   "verify [NAME...] --keyscan",
		Short: "Check host recipients against the hosts' live SSH host keys",
		Long: `verify --keyscan fetches the live ssh-ed25519 host key of each host
recipient (as 'sopsfleet keyscan' does), converts it to age and compares it
with the recipient in .sops.yaml, so that a reinstalled host is found
before it fails to decrypt its secrets at boot.

Without NAME, the host recipients are every named age X25519 or native
ssh-ed25519 recipient that has its own creation rule (a path_regex that
names it, such as hosts/web1/), a known_hosts entry under its host name, or
a --host: admins' personal keys are left out. A NAME on the command line is
verified whether it looks like a host or not (it must be an age X25519 or
ssh-ed25519 recipient).

The host of NAME is NAME, or NAME.DOMAIN with --domain, resolved through
~/.ssh/config (ssh -G, when ssh is installed: HostName and Port). A host
that ssh reaches only through ProxyJump or ProxyCommand is reported
unreachable: give its address with --host NAME=HOST[:PORT], which is
dialed as it is.

Each host is one line on stdout, probed in parallel:
  match           the host presents the key in .sops.yaml
  differs         it presents another key: both fingerprints are printed,
                  with the 'sopsfleet recipients replace' command to run
                  once the new fingerprint is confirmed on the host's
                  console
  unreachable     with the reason
  no ed25519 key  the host has no ssh-ed25519 host key

Exit status 1 when any host differs. Unreachable hosts and hosts without
an ed25519 key are warnings (exit 0) unless --strict.`,
		Example: `  # every host recipient, hosts named as the recipients
  sopsfleet recipients verify --keyscan

  # two hosts, under a domain, one of them behind a jump host
  sopsfleet recipients verify web1 db1 --keyscan --domain example.com --host db1=10.0.0.7:22

  # in CI: unreachable is a failure too, JSON for the log
  sopsfleet recipients verify --keyscan --strict --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Names = args
			o.ctx = cmd.Context()
			return runRecipientsVerify(o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Keyscan, "keyscan", false, "fetch each host's live SSH host key and compare it with .sops.yaml")
	f.StringVar(&o.Domain, "domain", "", "the host of NAME is NAME.`DOMAIN`")
	f.StringArrayVar(&o.Hosts, "host", nil, "the host of NAME is `NAME=HOST[:PORT]`, dialed as it is (repeatable)")
	f.DurationVar(&o.Timeout, "timeout", 10*time.Second, "give up on a host after this long (connect and handshake)")
	f.StringVar(&o.KnownHosts, "known-hosts", "", "known_hosts `FILE` that marks hosts and holds their old fingerprints (default ~/.ssh/known_hosts)")
	f.BoolVar(&o.Strict, "strict", false, "exit 1 also when a host is unreachable or has no ed25519 key")
	f.BoolVar(&o.JSON, "json", false, "print a JSON array of {name, host, address, status, recipient, recorded_fingerprint, ssh_fingerprint, age, error, replace}")
	return cmd
}

// verifiedHost is one line of output, as JSON.
type verifiedHost struct {
	Name                string `json:"name"`
	Host                string `json:"host"`
	Address             string `json:"address"`
	Status              string `json:"status"`
	Recipient           string `json:"recipient"`
	RecordedFingerprint string `json:"recorded_fingerprint,omitempty"`
	SSHFingerprint      string `json:"ssh_fingerprint,omitempty"`
	Age                 string `json:"age,omitempty"`
	Error               string `json:"error,omitempty"`
	Replace             string `json:"replace,omitempty"`
}

func runRecipientsVerify(o *recipientsVerifyOptions) error {
	ios := o.g.IO
	if !o.Keyscan {
		return usageErr(withHint(errors.New("verify needs --keyscan: it is the only check there is"), "sopsfleet recipients verify --keyscan"))
	}
	if o.Timeout <= 0 {
		return usageErrorf("--timeout must be positive, got %v", o.Timeout)
	}
	hosts := map[string]string{}
	for _, h := range o.Hosts {
		name, host, ok := strings.Cut(h, "=")
		if !ok || name == "" || host == "" {
			return usageErrorf("--host %s: want NAME=HOST[:PORT]", recipients.QuoteInput(h))
		}
		if _, err := recipients.KeyscanAddress(host); err != nil {
			return usageErrorf("--host %s: %v", name, err)
		}
		hosts[name] = host
	}
	if strings.ContainsAny(o.Domain, " \t/@:") {
		return usageErrorf("--domain %s: want a domain name such as example.com", recipients.QuoteInput(o.Domain))
	}
	c, err := loadRecipientsConfig(o.g)
	if err != nil {
		return err
	}
	ks := &keyscanOptions{g: o.g, KnownHosts: o.KnownHosts}
	khPath, err := ks.knownHostsPath()
	if err != nil {
		ios.Warnf("cannot read known_hosts: %v", err)
		khPath = ""
	}
	checks, err := c.HostChecks(recipients.HostSelectOptions{Names: o.Names, Domain: o.Domain, Hosts: hosts, KnownHosts: khPath})
	if err != nil {
		return usageErr(err)
	}
	if len(checks) == 0 {
		ios.Warnf("%s: no host recipient to verify (none has its own rule or a known_hosts entry)", c.Path)
		ios.Hintf("name the hosts: sopsfleet recipients verify NAME... --keyscan")
		if o.JSON {
			_, err := fmt.Fprint(ios.Out, "[]\n")
			if err != nil {
				return failErr(err)
			}
		}
		return nil
	}
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	results := recipients.VerifyHosts(ctx, checks, recipients.VerifyOptions{
		Timeout: o.Timeout, Parallel: keyscanParallel, Resolver: o.resolver, KnownHosts: khPath,
	})

	var out []verifiedHost
	var buf bytes.Buffer
	var differs, unverified []string
	proxy := false
	for _, r := range results {
		v := verifiedHost{Name: r.Name, Host: r.Host, Address: r.Target, Status: r.Status.String(),
			Recipient: r.Key.ID, RecordedFingerprint: r.RecordedFingerprint}
		if r.Live != nil {
			v.SSHFingerprint, v.Age = r.Live.Fingerprint, r.Live.Age
		}
		if r.Err != nil {
			v.Error = r.Err.Error()
		}
		switch r.Status {
		case recipients.HostMatch:
			fmt.Fprintf(&buf, "%s: match: %s presents %s\n", r.Name, r.Target, r.Live.Fingerprint)
		case recipients.HostDiffers:
			v.Replace = r.ReplaceCommand()
			differs = append(differs, r.Name)
			was := "recorded " + r.Key.ID
			if r.RecordedFingerprint != "" {
				was = fmt.Sprintf("recorded %s (%s)", r.RecordedFingerprint, r.Key.ID)
			}
			fmt.Fprintf(&buf, "%s: differs: %s, but %s presents %s (%s)\n", r.Name, was, r.Target, r.Live.Fingerprint, r.Live.Age)
			fmt.Fprintf(&buf, "  once %s is confirmed on the host's console: %s\n", r.Live.Fingerprint, v.Replace)
		default:
			unverified = append(unverified, r.Name)
			if errors.Is(r.Err, recipients.ErrProxyJump) {
				proxy = true
			}
			fmt.Fprintf(&buf, "%s: %s: %v\n", r.Name, r.Status, r.Err)
		}
		out = append(out, v)
	}
	if o.JSON {
		b, err := jsonArray(out)
		if err != nil {
			return failErr(err)
		}
		buf.Reset()
		buf.Write(b)
	}
	if _, err := ios.Out.Write(buf.Bytes()); err != nil {
		return failErr(err)
	}
	if proxy {
		ios.Hintf("a host behind a jump host is scanned through its own address: --host NAME=HOST[:PORT]")
	}
	if len(unverified) > 0 {
		msg := fmt.Sprintf("%d %s not verified: %s", len(unverified), ukPlural(len(unverified), "host", "hosts"), strings.Join(unverified, ", "))
		if o.Strict {
			ios.Errorf("%s", msg)
		} else {
			ios.Warnf("%s", msg)
		}
	}
	if len(differs) > 0 {
		ios.Errorf("%d %s a host key that differs from %s: %s (reinstalled, or someone is in the middle): %s cannot decrypt %s secrets",
			len(differs), ukPlural(len(differs), "host presents", "hosts present"), c.Path, strings.Join(differs, ", "),
			ukPlural(len(differs), "it", "they"), ukPlural(len(differs), "its", "their"))
		ios.Hintf("compare the new fingerprint with the host's own (on the host: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) before replacing the key")
		return errFindings
	}
	if len(unverified) > 0 && o.Strict {
		return errFindings
	}
	return nil
}
