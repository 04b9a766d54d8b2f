package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/sopsfleet/sopsfleet/recipients"
)

type recipientsReplaceOptions struct {
	g           *globalOptions
	Name        string
	NewKey      string // NEW_KEY argument
	SSHKey      string
	Keyscan     string
	Host        string // --host: the address to dial, as it is
	Fingerprint string
	KnownHost   string
	Timeout     time.Duration
	NoRotate    bool
	Force       bool
	editOutput
	ctx      context.Context
	resolver *recipients.SSHResolver // nil: ssh -G from PATH (tests set one)
}

func newRecipientsReplaceCmd(g *globalOptions) *cobra.Command {
	o := &recipientsReplaceOptions{g: g}
	cmd := &cobra.Command{
		Use:   "replace NAME (NEW_KEY | --ssh-key FILE | --keyscan HOST[:PORT])",
		Short: "Change a recipient's key everywhere (a reinstalled host)",
		Long: `replace changes the key of recipient NAME wherever .sops.yaml writes it:
the anchored value ("- &web1 age1old…" becomes "- &web1 age1new…"), every
literal occurrence of the old key (named or not) and its entries in
comma-separated strings. Only the key text changes: name, anchor, comment,
position, quoting and line endings stay. The edit is verified before it is
written: every creation rule resolves, as sops resolves it, to its old key
groups with the old key swapped for the new one. Every .sops.yaml of the
tree (the git top level, else the config's folder) that lists the key is
changed the same way, unless --config or SOPS_CONFIG names one config.

The new key is NEW_KEY (an age recipient — X25519, plugin, post-quantum or
a native "ssh-ed25519 AAAA…" key — or a PGP fingerprint), the ssh-ed25519
key in FILE (--ssh-key; no network is used), or a host's live ssh-ed25519
host key (--keyscan). It must be written in the same sops field as the old
key (age by age, pgp by pgp): otherwise use 'recipients remove' and
'recipients add'. A recipient whose old key is a native ssh-ed25519 key
gets the new SSH key in that form, else its age conversion. Replacing a key
by itself changes nothing.

--keyscan: after a reinstall the host's key differs from known_hosts, which
is exactly what a man in the middle looks like, so it is never accepted
silently. A key that differs from known_hosts, or that known_hosts does not
have, is refused unless --fingerprint SHA256:… is given (read it on the
host's console: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and
matches the fetched key; replace then says that known_hosts is stale and
how to fix it. HOST is resolved through ~/.ssh/config (ssh -G, when ssh is
installed: HostName and Port). A host that ssh reaches only through
ProxyJump or ProxyCommand cannot be scanned directly: give its address
with --host ADDRESS[:PORT], dialed as it is (known_hosts is still checked
under HOST).

Then every encrypted file whose metadata holds the old key is updated: the
old entry removed, the new one added, and the data key rotated (the old
disk may not have been wiped). --no-rotate keeps the data key: in files
with one key group only those two entries change; files with several
groups get new Shamir shares (the summary says so). As for add and remove,
every affected file is prepared first (data keys opened with your
identities, -i): if one cannot be, nothing is written; .sops.yaml is
written last. The old key can still read every old git revision: the
warning lists what it saw. --dry-run prints the diff and the plan, and
writes nothing; --no-updatekeys edits .sops.yaml only.`,
		Example: `  # a host was reinstalled: compare the fingerprint on its console first
  sopsfleet recipients replace web2 --keyscan web2 --fingerprint SHA256:…

  # the new key is known already
  sopsfleet recipients replace web2 age1… --dry-run
  sopsfleet recipients replace web2 --ssh-key web2-host-key.pub --no-rotate`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if len(args) == 2 {
				o.NewKey = args[1]
			}
			o.Rerun = rerunCommand(cmd, args)
			o.ctx = cmd.Context()
			return runRecipientsReplace(o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.SSHKey, "ssh-key", "", "the new key is the ssh-ed25519 public key in `FILE`")
	f.StringVar(&o.Keyscan, "keyscan", "", "the new key is the ssh-ed25519 host key of `HOST[:PORT]`")
	f.StringVar(&o.Host, "host", "", "--keyscan: dial `ADDRESS[:PORT]` as it is instead of resolving HOST through ~/.ssh/config")
	f.StringVar(&o.Fingerprint, "fingerprint", "", "--keyscan: accept the fetched key if its fingerprint is `SHA256:…` (read on the host's console)")
	f.StringVar(&o.KnownHost, "known-hosts", "", "--keyscan: known_hosts `FILE` to check the key against (default ~/.ssh/known_hosts)")
	f.DurationVar(&o.Timeout, "timeout", 10*time.Second, "--keyscan: give up on the host after this long")
	f.BoolVar(&o.NoRotate, "no-rotate", false, "update the affected files' recipients without rotating their data keys")
	f.BoolVar(&o.Force, "force", false, "replace the key even when this run's identities hold the old key (you are replacing yourself)")
	f.BoolVar(&o.DryRun, "dry-run", false, "print the change as a unified diff (and the update plan); write nothing")
	o.addChainFlags(cmd)
	return cmd
}

func runRecipientsReplace(o *recipientsReplaceOptions) error {
	sources := 0
	for _, s := range []string{o.NewKey, o.SSHKey, o.Keyscan} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return usageErrorf("give exactly one new key: NEW_KEY, --ssh-key FILE or --keyscan HOST[:PORT]")
	}
	if o.Keyscan == "" {
		for _, f := range []struct {
			flag string
			set  bool
		}{{"--fingerprint", o.Fingerprint != ""}, {"--host", o.Host != ""}, {"--known-hosts", o.KnownHost != ""}} {
			if f.set {
				return usageErrorf("%s goes with --keyscan HOST", f.flag)
			}
		}
	}
	if o.Fingerprint != "" && !strings.HasPrefix(o.Fingerprint, "SHA256:") {
		return usageErrorf("--fingerprint %s: want the SHA256:… fingerprint (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host)", recipients.QuoteInput(o.Fingerprint))
	}
	c, err := loadRecipientsConfig(o.g)
	if err != nil {
		return err
	}
	c, old, err := lookupInTree(o.g, c, o.Name)
	if err != nil {
		return err
	}
	nk, err := o.newKey(old)
	if err != nil {
		return err
	}
	name := c.NameOf(old)
	if name == "" {
		name = old.ID
	}
	ed, err := c.Replace(old, nk)
	if err != nil {
		if errors.Is(err, recipients.ErrSameKey) {
			o.g.IO.Infof("%s already has this key: nothing to change in %s", name, c.Path)
			return nil
		}
		if errors.Is(err, recipients.ErrUnknownName) {
			return usageErr(err)
		}
		return editErr(err)
	}
	chain := &configChange{
		Removed:      []recipients.Key{old},
		Replacements: map[recipients.Key]recipients.Key{old: nk},
		Rotate:       !o.NoRotate,
		Force:        o.Force,
	}
	// The key changes in every .sops.yaml of the tree that lists it, in one
	// plan, unless --config/SOPS_CONFIG names one config for all.
	if !o.g.fixedConfig() {
		also, err := otherConfigReplaces(c, old, nk)
		if err != nil {
			return err
		}
		chain.Also = also
	}
	if err := writeEdit(o.g, ed, &o.editOutput, chain); err != nil {
		return err
	}
	if !o.DryRun {
		o.g.IO.Infof("replaced the key of %s in %s in %s", name, groupList(c, ed.Changed), ed.Path)
		for _, e := range chain.Also {
			o.g.IO.Infof("replaced the key of %s in %s in %s", name, groupList(e.Config, e.Changed), ukDisplayPath(e.Path))
		}
	}
	return nil
}

// otherConfigReplaces replaces old by new in every other .sops.yaml of the
// tree of c (the git top level, else c's folder) that lists old. An edit
// that cannot be made is an error naming that config: nothing is changed.
func otherConfigReplaces(c *recipients.Config, old, new recipients.Key) ([]otherEdit, error) {
	return editOtherConfigs(c, old, func(oc *recipients.Config) (*recipients.Edit, error) { return oc.Replace(old, new) })
}

// newKey resolves the new key from the argument or flags; an SSH key takes
// the form of the old key (native ssh-ed25519 or its age conversion).
func (o *recipientsReplaceOptions) newKey(old recipients.Key) (recipients.Key, error) {
	var pub ssh.PublicKey
	switch {
	case o.NewKey != "":
		k, err := recipients.ParseRecipientKey(o.NewKey)
		if err != nil {
			return recipients.Key{}, usageErr(err)
		}
		return k, nil
	case o.SSHKey != "":
		k, err := readOneSSHKey(o.SSHKey)
		if err != nil {
			return recipients.Key{}, err
		}
		o.g.IO.Infof("%s: %s %s is %s", o.SSHKey, k.SSHType, k.Fingerprint, k.Age)
		pub = k.Key
	default:
		hk, err := o.scan()
		if err != nil {
			return recipients.Key{}, err
		}
		pub = hk.Key
	}
	if strings.HasPrefix(old.ID, "ssh-") {
		return recipients.Key{Type: recipients.TypeAge, ID: recipients.NativeSSH(pub)}, nil
	}
	a, err := recipients.SSHPublicKeyToAge(pub)
	if err != nil {
		return recipients.Key{}, failErr(err)
	}
	return recipients.Key{Type: recipients.TypeAge, ID: a}, nil
}

// scan fetches --keyscan's host key and accepts it only when known_hosts
// has it, or when --fingerprint confirms it.
func (o *recipientsReplaceOptions) scan() (*recipients.HostKey, error) {
	ios := o.g.IO
	if _, err := recipients.KeyscanAddress(o.Keyscan); err != nil {
		return nil, usageErrorf("--keyscan: %v", err)
	}
	if o.Timeout <= 0 {
		return nil, usageErrorf("--timeout must be positive, got %v", o.Timeout)
	}
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	target := o.Keyscan
	if o.Host != "" {
		if _, err := recipients.KeyscanAddress(o.Host); err != nil {
			return nil, usageErrorf("--host: %v", err)
		}
		target = o.Host
	} else {
		rctx, cancel := context.WithTimeout(ctx, o.Timeout) // ssh -G can run Match exec commands
		h, err := recipients.ResolveSSHHost(rctx, o.Keyscan, o.resolver)
		cancel()
		var pj *recipients.ProxyJumpError
		if errors.As(err, &pj) {
			return nil, failErr(withHint(err, "give the host's own address with --host ADDRESS[:PORT], dialed as it is"))
		}
		if err != nil {
			return nil, failErr(err)
		}
		target = h.Target()
	}
	hk, err := recipients.Keyscan(ctx, target, o.Timeout)
	if err != nil {
		return nil, failErr(err)
	}
	ks := &keyscanOptions{g: o.g, KnownHosts: o.KnownHost}
	path, err := ks.knownHostsPath()
	kr := recipients.KnownHostsResult{Status: recipients.KnownHostsUnknown}
	if err == nil {
		kr, err = recipients.CheckKnownHostsAddr(path, o.Keyscan, hk.Remote, hk.Key)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, failErr(fmt.Errorf("%s: cannot check the host key: %w", o.Keyscan, err))
		}
		if errors.Is(err, os.ErrNotExist) {
			kr = recipients.KnownHostsResult{Status: recipients.KnownHostsUnknown}
		}
	} else {
		path = "~/.ssh/known_hosts"
	}
	consoleHint := "read the host key's fingerprint on the host's console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and, if it is " + hk.Fingerprint + ", run again with --fingerprint " + hk.Fingerprint
	if o.Fingerprint != "" {
		if o.Fingerprint != hk.Fingerprint {
			ios.Errorf("%s: HOST KEY MISMATCH: the host presents %s, not the --fingerprint %s", o.Keyscan, hk.Fingerprint, o.Fingerprint)
			ios.Errorf("%s: someone may be intercepting the connection (man in the middle), or the fingerprint was misread; nothing was changed", o.Keyscan)
			return nil, errFindings
		}
		switch kr.Status {
		case recipients.KnownHostsRevoked:
			ios.Errorf("%s: the host presents %s, which %s marks @revoked; nothing was changed", o.Keyscan, hk.Fingerprint, firstEntryPlace(path, kr))
			return nil, errFindings
		case recipients.KnownHostsMatch:
			ios.Infof("%s: host key %s matches --fingerprint and %s", o.Keyscan, hk.Fingerprint, firstEntryPlace(path, kr))
		default:
			what := path + " has no ed25519 key for it"
			if kr.Status == recipients.KnownHostsMismatch {
				what = firstEntryPlace(path, kr) + " records another key for it"
			}
			ios.Infof("%s: host key %s matches --fingerprint", o.Keyscan, hk.Fingerprint)
			warnAlways(ios, "%s: known_hosts is stale: %s", o.Keyscan, what)
			ios.Hintf("%s", staleKnownHostsFix(o.Keyscan, path))
		}
	} else {
		switch kr.Status {
		case recipients.KnownHostsMatch:
			ios.Infof("%s: host key %s matches %s", o.Keyscan, hk.Fingerprint, firstEntryPlace(path, kr))
		case recipients.KnownHostsMismatch:
			for _, e := range kr.Entries {
				ios.Errorf("%s: HOST KEY MISMATCH: the host presents %s %s, but %s:%d records %s",
					o.Keyscan, hk.Key.Type(), hk.Fingerprint, e.File, e.Line, e.Fingerprint)
			}
			ios.Errorf("%s: after a reinstall this is expected, but it is also what a man in the middle looks like: nothing was changed", o.Keyscan)
			ios.Hintf("%s", consoleHint)
			return nil, errFindings
		case recipients.KnownHostsRevoked:
			ios.Errorf("%s: the host presents %s, which %s marks @revoked; nothing was changed", o.Keyscan, hk.Fingerprint, firstEntryPlace(path, kr))
			return nil, errFindings
		default:
			ios.Errorf("%s: %s has no ed25519 key for it, so the fetched key %s cannot be trusted: nothing was changed", o.Keyscan, path, hk.Fingerprint)
			ios.Hintf("%s", consoleHint)
			return nil, errFindings
		}
	}
	ios.Infof("%s: %s %s is %s", o.Keyscan, hk.Key.Type(), hk.Fingerprint, hk.Age)
	return hk, nil
}

// staleKnownHostsFix is the hint that replaces a stale known_hosts entry of
// target (HOST or HOST:PORT) with the host's current key.
func staleKnownHostsFix(target, path string) string {
	addr, err := recipients.KeyscanAddress(target)
	if err != nil {
		addr = target
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = target, recipients.DefaultSSHPort
	}
	scan := "ssh-keyscan -t ed25519 " + shellQuoteArg(host)
	if port != recipients.DefaultSSHPort {
		scan = "ssh-keyscan -p " + port + " -t ed25519 " + shellQuoteArg(host)
	}
	f := shellQuoteArg(path)
	return fmt.Sprintf("fix it with: ssh-keygen -R %s -f %s && %s >> %s", shellQuoteArg(knownhosts.Normalize(addr)), f, scan, f)
}
