package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// convertOptions are the inputs of `sopsfleet convert`.
type convertOptions struct {
	g               *globalOptions
	Inputs          []string // files; "-" or none: stdin
	JSON            bool
	Labels          bool
	PrivateKey      bool
	PassphraseStdin bool
	Force           bool
	Output          string
}

// passphraseEnv is the variable ssh-to-age reads a key's passphrase from.
const passphraseEnv = "SSH_TO_AGE_PASSPHRASE"

func newConvertCmd(g *globalOptions) *cobra.Command {
	o := &convertOptions{g: g}
	cmd := &cobra.Command{
		Use:     "convert [FILE|-]...",
		Aliases: []string{"ssh-to-age"},
		Short:   "Convert SSH ed25519 keys to age recipients (or a private key to an age identity)",
		Long: `convert turns SSH ed25519 public keys into age recipients ("age1…"), exactly as
ssh-to-age does, one per key, in input order. It reads the files given, or
standard input when there are none (or for "-").

Any of these may be mixed: .pub files, authorized_keys lines (with options),
known_hosts lines (plain, [host]:port, comma lists, hashed |1|… entries),
ssh-keyscan output; blank lines and # comments are ignored. Keys that have no
age equivalent (RSA, ECDSA, DSA, FIDO sk-ssh-ed25519@openssh.com) and
@revoked or @cert-authority lines are skipped with a warning naming the line;
when nothing convertible is left the exit status is 1. A malformed line is an
error naming the line (exit 2); the other lines are still converted.

--labels appends "  # HOST" (known_hosts, ssh-keyscan) or "  # COMMENT" so the
output can be pasted into .sops.yaml; --json prints objects with the line,
label, SSH type and SHA256 fingerprint of each key.

--private-key converts one OpenSSH ed25519 private key into the age identity
("AGE-SECRET-KEY-1…") whose recipient is the converted public key. The
passphrase of an encrypted key is read from the first line of standard input
with --passphrase-stdin, else from $SSH_TO_AGE_PASSPHRASE, else asked on the
terminal without echo. A private key is never printed to a terminal unless
--force is given; -o FILE writes it atomically to a file of mode 0600 (an
existing file's mode is tightened to 0600 first). No message ever contains
key material.`,
		Example: `  # a host's recipient, straight from the network
  ssh-keyscan -t ed25519 web1 | sopsfleet convert

  # all your hosts, labelled, ready for .sops.yaml
  sopsfleet convert --labels ~/.ssh/known_hosts

  # your own SSH key as an age identity for sops
  sopsfleet convert --private-key ~/.ssh/id_ed25519 -o ~/.config/sops/age/keys.txt`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Inputs = args
			return runConvert(o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.JSON, "json", false, "print a JSON array of {line, label, ssh_type, ssh_fingerprint, age, source}")
	f.BoolVar(&o.Labels, "labels", false, `append "  # label" (host or comment) to each recipient`)
	f.BoolVar(&o.PrivateKey, "private-key", false, "convert an SSH ed25519 private key to an age identity")
	f.BoolVar(&o.PassphraseStdin, "passphrase-stdin", false, "read the private key's passphrase from the first line of standard input")
	f.BoolVar(&o.Force, "force", false, "print a private key even when standard output is a terminal")
	f.StringVarP(&o.Output, "output", "o", "", "write to `FILE` atomically instead of standard output (mode 0600 for a private key)")
	return cmd
}

func runConvert(o *convertOptions) error {
	if o.JSON && o.Labels {
		return usageErrorf("--json and --labels cannot be used together")
	}
	if o.PrivateKey {
		return runConvertPrivate(o)
	}
	if o.PassphraseStdin {
		return usageErrorf("--passphrase-stdin needs --private-key")
	}
	if o.Force {
		return usageErrorf("--force needs --private-key")
	}
	return runConvertPublic(o)
}

// convertInput is one input read in full.
type convertInput struct {
	arg  string // as given; "-" for stdin
	name string // for messages
	data []byte
}

// readConvertInputs reads every input before anything is converted, so that
// an unreadable file prints nothing.
func readConvertInputs(ios *IOStreams, args []string) ([]convertInput, error) {
	if len(args) == 0 {
		args = []string{"-"}
	}
	var ins []convertInput
	stdinRead := false
	for _, a := range args {
		if a == "-" {
			if stdinRead {
				return nil, usageErrorf("standard input (\"-\") given more than once")
			}
			stdinRead = true
			if ios.InTTY {
				// Without this, a bare "sopsfleet convert" seems to hang.
				ios.Infof("reading keys from standard input; end with Ctrl-D")
			}
			data, err := readAtMost(ios.In)
			if err != nil {
				return nil, usageErrorf("read standard input: %v", err)
			}
			ins = append(ins, convertInput{arg: "-", name: "stdin", data: data})
			continue
		}
		data, err := readFileAtMost(a)
		if err != nil {
			return nil, usageErr(readErr(a, err))
		}
		ins = append(ins, convertInput{arg: a, name: a, data: data})
	}
	return ins, nil
}

// maxConvertInput bounds one input: key files are small, and a mistaken
// argument such as /dev/zero must not eat all memory. Tests lower it.
var maxConvertInput = 64 << 20

// readAtMost reads r to the end, or fails once it passes maxConvertInput.
func readAtMost(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, int64(maxConvertInput)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConvertInput {
		return nil, fmt.Errorf("larger than %d bytes: not a key file", maxConvertInput)
	}
	return data, nil
}

func readFileAtMost(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAtMost(f)
}

// readErr describes a file that cannot be read, without Go's "open …:" noise.
func readErr(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("read %q: %v", path, err)
}

// convertedKey is one line of output, as JSON.
type convertedKey struct {
	Line           int    `json:"line"`
	Label          string `json:"label"`
	SSHType        string `json:"ssh_type"`
	SSHFingerprint string `json:"ssh_fingerprint"`
	Age            string `json:"age"`
	Source         string `json:"source"`
}

func runConvertPublic(o *convertOptions) error {
	ios := o.g.IO
	ins, err := readConvertInputs(ios, o.Inputs)
	if err != nil {
		return err
	}
	type skip struct {
		name string
		le   *recipients.LineError
	}
	var (
		out     []convertedKey
		skipped []skip
		bad     int
	)
	for _, in := range ins {
		keys, sk, perr := recipients.ParseSSHKeys(in.data)
		if errors.Is(perr, recipients.ErrPrivateKeyInput) {
			ios.Errorf("%s: this is a private key, not a public key", in.name)
			ios.Hintf("convert a private key with --private-key")
			return errSilentUsage
		}
		for _, k := range keys {
			out = append(out, convertedKey{
				Line: k.Line, Label: k.Label, SSHType: k.SSHType,
				SSHFingerprint: k.Fingerprint, Age: k.Age, Source: in.arg,
			})
		}
		for _, e := range sk {
			var le *recipients.LineError
			if errors.As(e, &le) {
				skipped = append(skipped, skip{in.name, le})
			}
		}
		for _, e := range lineErrors(perr) {
			var le *recipients.LineError
			if errors.As(e, &le) {
				ios.Errorf("%s:%d: %v", in.name, le.Line, le.Err)
			} else {
				ios.Errorf("%s: %v", in.name, e)
			}
			bad++
		}
	}

	// A single key that cannot be converted is an error, not a warning.
	if len(out) == 0 && bad == 0 && len(skipped) == 1 {
		s := skipped[0]
		if o.JSON {
			// Scripts get an array whatever happens, as for several keys.
			if err := writeConvertOutput(o, []byte("[]\n"), 0o644); err != nil {
				return err
			}
		}
		return failErr(fmt.Errorf("%s:%d: %v", s.name, s.le.Line, s.le.Err))
	}
	for _, s := range skipped {
		var ue *recipients.UnsupportedKeyError
		if errors.As(s.le.Err, &ue) {
			ios.Warnf("%s:%d: skipped %s key: only ssh-ed25519 keys convert to age", s.name, s.le.Line, ue.Type)
		} else {
			ios.Warnf("%s:%d: %v", s.name, s.le.Line, s.le.Err)
		}
	}

	var buf bytes.Buffer
	switch {
	case o.JSON:
		b, err := jsonArray(out)
		if err != nil {
			return failErr(err)
		}
		buf.Write(b)
	default:
		for _, k := range out {
			buf.WriteString(k.Age)
			if o.Labels && k.Label != "" {
				buf.WriteString("  # ")
				buf.WriteString(k.Label)
			}
			buf.WriteByte('\n')
		}
	}
	if len(out) > 0 || o.JSON {
		if err := writeConvertOutput(o, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}

	switch {
	case bad > 0:
		return errSilentUsage
	case len(out) == 0 && len(skipped) > 0:
		return failErr(errors.New("no ssh-ed25519 key to convert: every key was skipped"))
	case len(out) == 0:
		return failErr(fmt.Errorf("no SSH public key found in %s", inputNames(ins)))
	}
	return nil
}

// lineErrors splits the joined error of ParseSSHKeys.
func lineErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func inputNames(ins []convertInput) string {
	names := make([]string, len(ins))
	for i, in := range ins {
		names[i] = in.name
	}
	return strings.Join(names, ", ")
}

// writeConvertOutput writes data to -o FILE (atomically, new files get
// perm) or to standard output.
func writeConvertOutput(o *convertOptions, data []byte, perm fs.FileMode) error {
	if o.Output == "" || o.Output == "-" {
		if _, err := o.g.IO.Out.Write(data); err != nil {
			return failErr(err)
		}
		return nil
	}
	if err := atomicfile.WriteFile(o.Output, data, atomicfile.Options{Perm: perm}); err != nil {
		return failErr(fmt.Errorf("write %q: %w", o.Output, err))
	}
	return nil
}

func runConvertPrivate(o *convertOptions) error {
	ios := o.g.IO
	if o.JSON || o.Labels {
		return usageErrorf("--json and --labels do not apply to --private-key")
	}
	if len(o.Inputs) > 1 {
		return usageErrorf("--private-key converts one key, got %d files", len(o.Inputs))
	}
	fromStdin := len(o.Inputs) == 0 || o.Inputs[0] == "-"
	if o.PassphraseStdin && fromStdin {
		return usageErrorf("--passphrase-stdin reads the passphrase from standard input, so the key must be given as a FILE")
	}
	toStdout := o.Output == "" || o.Output == "-"
	// Decide before reading anything or asking for a passphrase.
	if toStdout && ios.OutTTY && !o.Force {
		ios.Errorf("refusing to print a private key to a terminal")
		ios.Hintf("write it to a file with -o FILE (created with mode 0600), pipe it, or add --force")
		return errSilentUsage
	}
	ins, err := readConvertInputs(ios, o.Inputs)
	if err != nil {
		return err
	}
	in := ins[0]
	defer clear(in.data)

	id, err := recipients.SSHPrivateKeyToAge(in.data, nil)
	if errors.Is(err, recipients.ErrPassphraseNeeded) {
		var pass []byte
		pass, err = o.passphrase(in.name)
		if err != nil {
			return err
		}
		id, err = recipients.SSHPrivateKeyToAge(in.data, pass)
		clear(pass)
	}
	var ue *recipients.UnsupportedKeyError
	switch {
	case err == nil:
	case errors.As(err, &ue):
		return failErr(fmt.Errorf("%s: %v", in.name, err))
	case errors.Is(err, recipients.ErrIncorrectPassphrase):
		return failErr(fmt.Errorf("%s: incorrect passphrase", in.name))
	case errors.Is(err, recipients.ErrNotPrivateKey):
		ios.Errorf("%s: %v", in.name, err)
		if keys, skipped, perr := recipients.ParseSSHKeys(in.data); perr == nil && len(keys)+len(skipped) > 0 {
			ios.Hintf("this is a public key: convert it without --private-key")
		}
		return errSilentUsage
	default:
		return usageErr(fmt.Errorf("%s: %v", in.name, err))
	}

	data := []byte(id.String() + "\n")
	defer clear(data)
	if toStdout {
		return writeConvertOutput(o, data, 0o600)
	}
	oldMode, err := writeSecretFile(o.Output, data)
	if err != nil {
		return failErr(fmt.Errorf("write %q: %w", o.Output, err))
	}
	if oldMode != 0 {
		ios.Warnf("%s: tightened mode from %04o to 0600 before writing a private key", o.Output, oldMode)
	}
	ios.Infof("wrote the age identity of %s to %s", id.Recipient(), o.Output)
	return nil
}

// writeSecretFile writes a private key atomically so that it is never
// readable by group or others: a new file gets mode 0600, and an existing
// file that is wider is tightened before the secret is written (its old
// mode is returned).
func writeSecretFile(path string, data []byte) (oldMode fs.FileMode, err error) {
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return 0, fmt.Errorf("not a regular file")
		}
		if perm := st.Mode().Perm(); perm&0o077 != 0 {
			if err := os.Chmod(path, perm&0o600); err != nil {
				return 0, err
			}
			oldMode = perm
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	return oldMode, atomicfile.WriteFile(path, data, atomicfile.Options{Perm: 0o600})
}
