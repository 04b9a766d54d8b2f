package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sopsfleet/sopsfleet/recipients"
)

type recipientsAddOptions struct {
	g         *globalOptions
	Name      string
	Recipient string // RECIPIENT argument
	SSHKey    string
	// Type is --type (empty: detected from the recipient's form); Native
	// adds --ssh-key's key as a native SSH recipient instead of converting.
	Type       string
	Native     bool
	KMSRole    string
	KMSContext []string
	AWSProfile string
	Keyscan    string
	Paths      []string
	Like       string
	All        bool
	Group      int
	groupSet   bool
	Timeout    time.Duration
	KnownHost  string
	editOutput
	ownRuleFlags
	ctx context.Context
}

func newRecipientsAddCmd(g *globalOptions) *cobra.Command {
	o := &recipientsAddOptions{g: g}
	cmd := &cobra.Command{
		Use:   "add NAME [RECIPIENT | --ssh-key FILE | --keyscan HOST[:PORT]] (--path FILE... | --like NAME | --all)",
		Short: "Add a named recipient (age, SSH, PGP, cloud KMS, Vault) to creation rules of .sops.yaml",
		Long: `add adds the recipient NAME to the key groups chosen by the targets:

  --path FILE   the rule sops would use for FILE (repeatable)
  --like NAME   every group that contains the recipient NAME
  --all         every rule
  --group N     the key group in rules with several, numbered from 1 as
                list and every message number them (default: the group of
                --like in that rule, else the first)

RECIPIENT is any recipient sops reads, its type told by its form (or by
--type): an age recipient (age1…), an age plugin recipient (age1NAME1…,
e.g. age1yubikey1…), an age post-quantum recipient (age1pq1…), an SSH
public key given as its text ('ssh-ed25519 AAAA… comment' or ssh-rsa,
added as a native SSH recipient: type and key, the comment is not part of
it), a PGP fingerprint (40 hex digits), an AWS KMS key ARN (with
--kms-role, --kms-context, --aws-profile), a GCP KMS resource id
(projects/…/cryptoKeys/…), an Azure Key Vault key URL
(https://VAULT.vault.azure.net/keys/NAME/VERSION), a HashiCorp Vault
transit URI (https://HOST:8200/v1/transit/keys/NAME) or a HuaweiCloud KMS
key id (REGION:KEY-UUID, --type hckms). It is written into the field sops
reads for its type (age, pgp, kms, gcp_kms, azure_keyvault, hc_vault or
hc_vault_transit_uri, hckms), which is created when the group has none.

Instead of RECIPIENT: the ssh-ed25519 key in FILE (--ssh-key; converted to
age as ssh-to-age does, or added as it is with --native), or a host's
ssh-ed25519 host key fetched over SSH (--keyscan; checked against
known_hosts, converted to age). A host that opens its secrets with
sops-nix needs the converted key: its identity cannot open native SSH
entries.

Where the file defines recipients as anchors, "&NAME age1…" is added to
the list where the --like recipient (else the last anchored recipient) is
defined, and "*NAME" to each target group. Where it writes literal keys,
"age1… # NAME" is added. In a comma-separated string the key is appended in
the string's style (named when the string's comment names every key:
"age: age1…,age1… # alice, bob"). A group that already has the key is left
alone. The result is verified before it is written.

Then the encrypted files whose rule changed are updated to the new
recipients (as 'sopsfleet updatekeys' does) unless --no-updatekeys. This is
all-or-nothing: every affected file is opened (its mac verified) and its
new text built before anything is written; if one fails nothing is written;
.sops.yaml is written last, so running the same command again finishes an
interrupted run. --dry-run prints the diff of .sops.yaml and the plan, and
writes nothing.`,
		Example: `  # add a person next to alice, everywhere alice is
  sopsfleet recipients add bob age1… --like alice

  # add a host's key to the rule of its secrets, after looking at the diff
  sopsfleet recipients add web1 --keyscan web1.example.com --path hosts/web1/secrets.yaml --dry-run

  # a key from a .pub file, to every rule, without re-encrypting yet
  sopsfleet recipients add carol --ssh-key carol.pub --all --no-updatekeys

  # a YubiKey (age-plugin-yubikey must be on PATH to re-encrypt)
  sopsfleet recipients add dana age1yubikey1q… --like alice

  # a PGP key and an AWS KMS key with a role
  sopsfleet recipients add erin 85D77543B3D624B63CEA9E6DBC17301B491B3F21 --all
  sopsfleet recipients add ops arn:aws:kms:eu-west-1:111122223333:alias/sops --kms-role arn:aws:iam::111122223333:role/sops --all`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if len(args) == 2 {
				o.Recipient = args[1]
			}
			o.groupSet = cmd.Flags().Changed("group")
			o.Rerun = rerunCommand(cmd, args)
			o.ctx = cmd.Context()
			return runRecipientsAdd(o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.SSHKey, "ssh-key", "", "take the recipient from the ssh-ed25519 public key in `FILE`")
	f.StringVar(&o.Keyscan, "keyscan", "", "take the recipient from the ssh-ed25519 host key of `HOST[:PORT]`")
	f.StringArrayVar(&o.Paths, "path", nil, "add to the rule sops uses for `FILE` (repeatable)")
	f.StringVar(&o.Like, "like", "", "add to every group containing the recipient `NAME`")
	f.BoolVar(&o.All, "all", false, "add to every rule")
	f.IntVar(&o.Group, "group", 0, "key group `N` (from 1) in rules with several groups")
	f.DurationVar(&o.Timeout, "timeout", 10*time.Second, "--keyscan: give up on the host after this long")
	f.StringVar(&o.KnownHost, "known-hosts", "", "--keyscan: known_hosts `FILE` to check the key against (default ~/.ssh/known_hosts)")
	f.StringVar(&o.Type, "type", "", "the recipient's `TYPE` when its form does not tell: "+kindList())
	f.BoolVar(&o.Native, "native", false, "--ssh-key: add the SSH key as a native SSH recipient instead of converting it to age")
	f.StringVar(&o.KMSRole, "kms-role", "", "AWS KMS: the IAM role `ARN` sops assumes to use the key")
	f.StringArrayVar(&o.KMSContext, "kms-context", nil, "AWS KMS: encryption context `NAME=VALUE` (repeatable)")
	f.StringVar(&o.AWSProfile, "aws-profile", "", "AWS KMS: the AWS `PROFILE` sops uses for the key")
	f.BoolVar(&o.DryRun, "dry-run", false, "print the change as a unified diff (and the update plan); write nothing")
	o.addChainFlags(cmd)
	o.addOwnRuleFlags(cmd)
	return cmd
}

func runRecipientsAdd(o *recipientsAddOptions) error {
	sources := 0
	for _, s := range []string{o.Recipient, o.SSHKey, o.Keyscan} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return usageErrorf("give exactly one recipient: RECIPIENT, --ssh-key FILE or --keyscan HOST[:PORT]")
	}
	if len(o.Paths) == 0 && o.Like == "" && !o.All {
		return usageErrorf("no target: use --path FILE, --like NAME or --all")
	}
	if o.groupSet && o.Group < 1 {
		return usageErrorf("--group counts key groups from 1, got %d", o.Group)
	}
	if !recipients.ValidName(o.Name) {
		return usageErrorf("invalid recipient name %s: use ASCII letters, digits, '_' and '-', starting with a letter or digit", recipients.QuoteInput(o.Name))
	}
	c, err := loadRecipientsConfig(o.g)
	if err != nil {
		return err
	}
	rc, err := o.recipient()
	if err != nil {
		return err
	}
	group := -1
	if o.groupSet {
		group = o.Group - 1
	}
	targets, err := c.Targets(recipients.TargetOptions{Paths: o.Paths, Like: o.Like, All: o.All, Group: group})
	if err != nil {
		return usageErr(err)
	}
	if len(targets) == 0 {
		return usageErrorf("%s: no key group matches the targets", c.Path)
	}
	ed, err := o.addOwn(c, rc, targets)
	if err != nil {
		return editErr(err)
	}
	if err := writeEdit(o.g, ed, &o.editOutput, &configChange{Rotate: false}); err != nil {
		return err
	}
	if !ed.Unchanged() && !o.DryRun && len(ed.Changed) > 0 {
		o.g.IO.Infof("added %s to %s in %s", o.Name, groupList(c, ed.Changed), ed.Path)
	}
	return nil
}

// kindList is the --type values for the help text.
func kindList() string {
	var names []string
	for _, k := range recipients.Kinds {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// parseOptions turns --type and the KMS flags into recipients.ParseOptions.
func (o *recipientsAddOptions) parseOptions() (recipients.ParseOptions, error) {
	var po recipients.ParseOptions
	if o.Type != "" {
		k, err := recipients.ParseKind(o.Type)
		if err != nil {
			return po, usageErrorf("--type: %v", err)
		}
		po.Kind = k
	}
	ctx, err := recipients.ParseKMSContext(o.KMSContext)
	if err != nil {
		return po, usageErr(err)
	}
	po.KMSRole, po.KMSContext, po.AWSProfile = o.KMSRole, ctx, o.AWSProfile
	return po, nil
}

// recipient resolves the recipient to add from the argument or flags.
func (o *recipientsAddOptions) recipient() (recipients.Recipient, error) {
	po, err := o.parseOptions()
	if err != nil {
		return recipients.Recipient{}, err
	}
	if o.Native && o.SSHKey == "" {
		return recipients.Recipient{}, usageErrorf("--native adds the key of --ssh-key FILE natively; an SSH key given as text is added natively already")
	}
	if o.Recipient == "" && (po.Kind != "" || po.KMSRole != "" || len(po.KMSContext) > 0 || po.AWSProfile != "") {
		return recipients.Recipient{}, usageErrorf("--type, --kms-role, --kms-context and --aws-profile describe RECIPIENT: give it as the argument")
	}
	switch {
	case o.Recipient != "":
		s := o.Recipient
		if recipients.LooksSecret(s) {
			return recipients.Recipient{}, usageErrorf("the recipient is a secret key (not repeated here): give its public key (age1…, from age-keygen -y)")
		}
		r, err := recipients.ParseRecipient(s, po)
		if err != nil {
			if strings.HasPrefix(strings.TrimSpace(s), "ssh-") {
				err = withHint(err, "give an SSH public key file with --ssh-key FILE")
			}
			return recipients.Recipient{}, usageErr(err)
		}
		o.noteRecipient(r)
		return r, nil
	case o.SSHKey != "":
		k, err := readOneSSHKey(o.SSHKey)
		if err != nil {
			return recipients.Recipient{}, err
		}
		if o.Native {
			r, err := recipients.ParseRecipient(recipients.NativeSSH(k.Key)+" "+k.Label, recipients.ParseOptions{Kind: recipients.KindSSH})
			if err != nil {
				return recipients.Recipient{}, usageErrorf("--ssh-key %s: %v", o.SSHKey, err)
			}
			o.g.IO.Infof("%s: %s %s is added as a native ssh recipient", o.SSHKey, k.SSHType, k.Fingerprint)
			o.noteRecipient(r)
			return r, nil
		}
		o.g.IO.Infof("%s: %s %s is %s", o.SSHKey, k.SSHType, k.Fingerprint, k.Age)
		return recipients.Recipient{Kind: recipients.KindAge, Key: recipients.Key{Type: recipients.TypeAge, ID: k.Age}, Value: k.Age}, nil
	default:
		k, err := o.scan()
		return recipients.Recipient{Kind: recipients.KindAge, Key: k, Value: k.ID}, err
	}
}

// noteRecipient tells what was read from the recipient, and warns when a
// native SSH key looks like a host's.
func (o *recipientsAddOptions) noteRecipient(r recipients.Recipient) {
	ios := o.g.IO
	switch r.Kind {
	case recipients.KindSSH:
		if r.Comment != "" {
			ios.Infof("the ssh key's comment %q is not part of the recipient (sops compares type and key)", r.Comment)
		}
		if r.LooksLikeHostKey() {
			ios.Warnf("this ssh key looks like a host key: sops-nix opens secrets with the host's age-converted key, which cannot open native ssh entries")
			ios.Hintf("for a host, add the converted key: sopsfleet recipients add %s --ssh-key FILE (or --keyscan HOST)", o.Name)
		}
	case recipients.KindAgePlugin:
		ios.Infof("%s is a recipient of the age plugin %q: re-encrypting needs age-plugin-%s on PATH", shortRecipient(r.Value), recipients.PluginName(r.Key), recipients.PluginName(r.Key))
	}
}

// shortRecipient shortens a long recipient for a message.
func shortRecipient(s string) string {
	if len(s) > 24 {
		return s[:20] + "…"
	}
	return s
}

// scan fetches --keyscan's host key and checks it against known_hosts.
func (o *recipientsAddOptions) scan() (recipients.Key, error) {
	ios := o.g.IO
	if _, err := recipients.KeyscanAddress(o.Keyscan); err != nil {
		return recipients.Key{}, usageErrorf("--keyscan: %v", err)
	}
	if o.Timeout <= 0 {
		return recipients.Key{}, usageErrorf("--timeout must be positive, got %v", o.Timeout)
	}
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	hk, err := recipients.Keyscan(ctx, o.Keyscan, o.Timeout)
	if err != nil {
		return recipients.Key{}, failErr(err)
	}
	ks := &keyscanOptions{g: o.g, KnownHosts: o.KnownHost}
	path, err := ks.knownHostsPath()
	if err != nil {
		ios.Warnf("cannot check known_hosts: %v", err)
	} else {
		kr, err := recipients.CheckKnownHostsAddr(path, o.Keyscan, hk.Remote, hk.Key)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return recipients.Key{}, failErr(fmt.Errorf("%s: cannot check the host key: %w", o.Keyscan, err))
		}
		if err == nil && !ks.reportKnownHosts(o.Keyscan, hk, path, kr) {
			return recipients.Key{}, errFindings
		}
	}
	ios.Infof("%s: %s %s is %s", o.Keyscan, hk.Key.Type(), hk.Fingerprint, hk.Age)
	return recipients.Key{Type: recipients.TypeAge, ID: hk.Age}, nil
}
