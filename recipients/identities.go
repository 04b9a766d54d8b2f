package recipients

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/armor"
	"filippo.io/age/plugin"
	"github.com/google/shlex"
	"golang.org/x/crypto/ssh"
)

// The environment variables sops v3.13 reads age identities from.
const (
	EnvSSHKeyFile = "SOPS_AGE_SSH_PRIVATE_KEY_FILE"
	EnvSSHKeyCmd  = "SOPS_AGE_SSH_PRIVATE_KEY_CMD"
	EnvAgeKey     = "SOPS_AGE_KEY"
	EnvAgeKeyFile = "SOPS_AGE_KEY_FILE"
	EnvAgeKeyCmd  = "SOPS_AGE_KEY_CMD"
)

// IdentityOptions say where [LoadIdentities] looks.
type IdentityOptions struct {
	// Getenv reads the environment (nil: os.Getenv). An empty value counts
	// as unset.
	Getenv func(string) string
	// Files are -i/--identity files: age identity files (plain or
	// passphrase-encrypted) or SSH private keys. An ed25519 SSH key is used
	// both as an SSH identity and through its ssh-to-age X25519 identity.
	Files []string
	// Passphrase asks for the passphrase of an encrypted key; nil means
	// encrypted keys cannot be used. It is called at most once per key.
	Passphrase func(prompt string) ([]byte, error)
	// PluginMessage shows a message from an age plugin (nil: dropped).
	PluginMessage func(plugin, message string)
}

// Identities are the age identities of one run, loaded once.
type Identities struct {
	Age []age.Identity
	// Sources say where identities were found, in load order, e.g.
	// "SOPS_AGE_KEY_FILE (/home/me/keys.txt): 2 identities". They name
	// places, never key material.
	Sources []string
	// Problems are sources that were set but could not be used. sops itself
	// ignores them unless nothing opens a file; the CLI shows them as
	// warnings.
	Problems []error
}

// Count returns the number of loaded identities.
func (ids *Identities) Count() int {
	if ids == nil {
		return 0
	}
	return len(ids.Age)
}

// LoadIdentities loads every age identity from the same sources and in the
// same order as sops v3.13 (age/keysource.go, loadIdentities):
// $SOPS_AGE_SSH_PRIVATE_KEY_FILE, $SOPS_AGE_SSH_PRIVATE_KEY_CMD,
// ~/.ssh/id_ed25519, ~/.ssh/id_rsa, $SOPS_AGE_KEY, $SOPS_AGE_KEY_FILE,
// $SOPS_AGE_KEY_CMD, then <user config dir>/sops/age/keys.txt — and then
// opts.Files. Unlike sops, it does so once per run instead of once per key.
//
// The commands run once, without a shell, with SOPS_AGE_RECIPIENT unset
// (sops sets it to the recipient of the key being opened).
//
// A problem with an -i file is an error (the person asked for that file);
// problems with the implicit sources are collected in Problems, as sops
// collects them.
func LoadIdentities(opts IdentityOptions) (*Identities, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	l := &loader{opts: opts, ids: &Identities{}}
	if p := getenv(EnvSSHKeyFile); p != "" {
		l.sshFile(p+" ($"+EnvSSHKeyFile+")", p, false)
	}
	if c := getenv(EnvSSHKeyCmd); c != "" {
		if out, err := runKeyCommand(c); err != nil {
			l.problem(fmt.Errorf("%s: %w", EnvSSHKeyCmd, err))
		} else {
			id, err := agessh.ParseIdentity(out)
			if err != nil {
				l.problem(fmt.Errorf("%s: output is not an unencrypted SSH private key", EnvSSHKeyCmd))
			} else {
				l.add("$"+EnvSSHKeyCmd, id)
			}
		}
	}
	if home := homeDir(getenv); home != "" {
		for _, name := range []string{"id_ed25519", "id_rsa"} {
			p := filepath.Join(home, ".ssh", name)
			if _, err := os.Stat(p); err == nil {
				l.sshFile(p, p, false)
			}
		}
	}
	if v := getenv(EnvAgeKey); v != "" {
		l.ageText("$"+EnvAgeKey, "$"+EnvAgeKey, []byte(v), true)
	}
	if p := getenv(EnvAgeKeyFile); p != "" {
		if data, err := os.ReadFile(p); err != nil {
			l.problem(fmt.Errorf("%s: %w", EnvAgeKeyFile, err))
		} else {
			l.ageText(p+" ($"+EnvAgeKeyFile+")", p, data, false)
		}
	}
	if c := getenv(EnvAgeKeyCmd); c != "" {
		if out, err := runKeyCommand(c); err != nil {
			l.problem(fmt.Errorf("%s: %w", EnvAgeKeyCmd, err))
		} else {
			l.ageText("$"+EnvAgeKeyCmd, "$"+EnvAgeKeyCmd+" output", out, false)
		}
	}
	if dir := userConfigDir(getenv); dir != "" {
		p := filepath.Join(dir, "sops", "age", "keys.txt")
		if data, err := os.ReadFile(p); err == nil {
			l.ageText(p, p, data, false)
		} else if !errors.Is(err, os.ErrNotExist) {
			l.problem(fmt.Errorf("%s: %w", p, err))
		}
	}
	for _, p := range opts.Files {
		if err := l.identityFile(p); err != nil {
			return nil, err
		}
	}
	return l.ids, nil
}

type loader struct {
	opts IdentityOptions
	ids  *Identities
	err  error // set while loading an -i file: problems become errors
}

func (l *loader) add(source string, ids ...age.Identity) {
	l.ids.Age = append(l.ids.Age, ids...)
	n := "identities"
	if len(ids) == 1 {
		n = "identity"
	}
	l.ids.Sources = append(l.ids.Sources, fmt.Sprintf("%s: %d %s", source, len(ids), n))
}

func (l *loader) problem(err error) {
	if l.err == nil {
		l.ids.Problems = append(l.ids.Problems, err)
	}
}

// sshFile loads an SSH private key file as sops does; with convert, an
// ed25519 key also yields its ssh-to-age X25519 identity.
func (l *loader) sshFile(source, path string, convert bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		err = fmt.Errorf("%s: %w", source, err)
		l.problem(err)
		return err
	}
	return l.sshKey(source, path, data, convert)
}

func (l *loader) sshKey(source, path string, data []byte, convert bool) error {
	id, err := agessh.ParseIdentity(data)
	var pass []byte
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) && !convert && l.opts.Passphrase != nil {
		// As sops does: ask for the passphrase only when a file has an
		// entry for this key.
		if lazy, lerr := l.lazySSH(path, data, missing.PublicKey); lerr == nil {
			l.add(source, lazy)
			return nil
		}
	}
	if errors.As(err, &missing) {
		pass, err = l.passphrase(fmt.Sprintf("passphrase for %q: ", path))
		if err == nil {
			id, err = parseEncryptedSSH(data, pass)
		}
	}
	if err != nil {
		err = fmt.Errorf("%s: not a usable SSH private key: %v", source, cleanSSHError(err))
		l.problem(err)
		return err
	}
	got := []age.Identity{id}
	if convert {
		x, cerr := SSHPrivateKeyToAge(data, pass)
		var unsupported *UnsupportedKeyError
		switch {
		case cerr == nil:
			got = append(got, x)
		case errors.As(cerr, &unsupported):
			// RSA and friends have no X25519 equivalent: SSH identity only.
		default:
			err = fmt.Errorf("%s: converting to age: %v", source, cerr)
			return err
		}
	}
	l.add(source, got...)
	return nil
}

// lazySSH returns an identity for an encrypted SSH key that asks for the
// passphrase the first time a stanza of its public key (from the error, or
// from path.pub) is met. It is safe for concurrent use.
func (l *loader) lazySSH(path string, data []byte, pub ssh.PublicKey) (age.Identity, error) {
	if pub == nil {
		pubData, err := os.ReadFile(path + ".pub")
		if err != nil {
			return nil, err
		}
		if pub, _, _, _, err = ssh.ParseAuthorizedKey(pubData); err != nil {
			return nil, err
		}
	}
	prompt := l.opts.Passphrase
	id, err := agessh.NewEncryptedSSHIdentity(pub, data, func() ([]byte, error) {
		return prompt(fmt.Sprintf("passphrase for %q: ", path))
	})
	if err != nil {
		return nil, err
	}
	return &lockedIdentity{id: id}, nil
}

// lockedIdentity serialises Unwrap of an identity that keeps state (the
// decrypted key of an encrypted SSH identity), so that the passphrase is
// asked once even when several files are opened at the same time.
type lockedIdentity struct {
	mu sync.Mutex
	id age.Identity
}

func (i *lockedIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.id.Unwrap(stanzas)
}

func parseEncryptedSSH(data, pass []byte) (age.Identity, error) {
	k, err := ssh.ParseRawPrivateKeyWithPassphrase(data, pass)
	if err != nil {
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, ErrIncorrectPassphrase
		}
		return nil, err
	}
	switch k := k.(type) {
	case *ed25519.PrivateKey:
		return agessh.NewEd25519Identity(*k)
	case ed25519.PrivateKey:
		return agessh.NewEd25519Identity(k)
	case *rsa.PrivateKey:
		return agessh.NewRSAIdentity(k)
	}
	return nil, errors.New("unsupported SSH key type (want ed25519 or RSA)")
}

// cleanSSHError keeps ssh parser errors short and free of key material (they
// never contain any, but some are long).
func cleanSSHError(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "ssh: ")
	return s
}

func (l *loader) passphrase(prompt string) ([]byte, error) {
	if l.opts.Passphrase == nil {
		return nil, ErrPassphraseNeeded
	}
	return l.opts.Passphrase(prompt)
}

// ageText parses an age identity file's text (one identity per line, "#"
// comments; with words, several per line as $SOPS_AGE_KEY allows). An
// age-encrypted identity file is decrypted with a passphrase first.
func (l *loader) ageText(source, where string, data []byte, words bool) error {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if bytes.HasPrefix(trimmed, []byte("age-encryption.org/")) || bytes.HasPrefix(trimmed, []byte("-----BEGIN AGE ENCRYPTED FILE-----")) {
		plain, err := l.decryptIdentityFile(source, trimmed)
		if err != nil {
			l.problem(err)
			return err
		}
		data = plain
	}
	var ids []age.Identity
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := []string{text}
		if words {
			fields = strings.Fields(text)
		}
		for _, w := range fields {
			id, err := l.parseAgeIdentity(w)
			if err != nil {
				err = fmt.Errorf("%s:%d: %v", where, line, err)
				l.problem(err)
				return err
			}
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		err := fmt.Errorf("%s: no age identity found", source)
		l.problem(err)
		return err
	}
	l.add(source, ids...)
	return nil
}

// parseAgeIdentity parses one identity as sops does; errors never quote it.
func (l *loader) parseAgeIdentity(s string) (age.Identity, error) {
	switch {
	case strings.HasPrefix(s, "AGE-PLUGIN-"):
		id, err := plugin.NewIdentity(s, l.pluginUI())
		if err != nil {
			return nil, errors.New("malformed age plugin identity")
		}
		return id, nil
	case strings.HasPrefix(s, "AGE-SECRET-KEY-PQ-1"):
		id, err := age.ParseHybridIdentity(s)
		if err != nil {
			return nil, errors.New("malformed age post-quantum identity")
		}
		return id, nil
	case strings.HasPrefix(s, "AGE-SECRET-KEY-1"):
		id, err := age.ParseX25519Identity(s)
		if err != nil {
			return nil, errors.New("malformed age identity (bad checksum or length)")
		}
		return id, nil
	case strings.HasPrefix(s, "age1"), strings.HasPrefix(s, "ssh-"):
		return nil, errors.New("this is a public key (recipient), not an identity")
	}
	return nil, errors.New("unknown identity type (want AGE-SECRET-KEY-1…)")
}

func (l *loader) pluginUI() *plugin.ClientUI {
	var mu sync.Mutex
	return &plugin.ClientUI{
		DisplayMessage: func(name, message string) error {
			if l.opts.PluginMessage != nil {
				l.opts.PluginMessage(name, message)
			}
			return nil
		},
		RequestValue: func(name, prompt string, secret bool) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			v, err := l.passphrase("age-plugin-" + name + ": " + prompt + " ")
			return string(v), err
		},
		Confirm: func(name, prompt, yes, no string) (bool, error) {
			return false, errors.New("age plugin confirmation is not supported")
		},
	}
}

func (l *loader) decryptIdentityFile(source string, data []byte) ([]byte, error) {
	pass, err := l.passphrase(fmt.Sprintf("passphrase for the identity file %s: ", source))
	if err != nil {
		return nil, fmt.Errorf("%s: encrypted identity file: %w", source, err)
	}
	id, err := age.NewScryptIdentity(string(pass))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	var r io.Reader = bytes.NewReader(data)
	if bytes.HasPrefix(data, []byte("-----BEGIN")) {
		r = armor.NewReader(r)
	}
	dr, err := age.Decrypt(r, id)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot decrypt the identity file (wrong passphrase?)", source)
	}
	return io.ReadAll(io.LimitReader(dr, 1<<24))
}

// identityFile loads one -i file: an SSH private key, or an age identity
// file. Problems are errors.
func (l *loader) identityFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("identity file: %w", err)
	}
	l.err = errors.New("strict")
	defer func() { l.err = nil }()
	if bytes.Contains(data, []byte("-----BEGIN OPENSSH PRIVATE KEY-----")) || bytes.Contains(data, []byte("PRIVATE KEY-----")) {
		return l.sshKey(path, path, data, true)
	}
	return l.ageText(path, path, data, false)
}

func runKeyCommand(command string) ([]byte, error) {
	args, err := shlex.Split(command)
	if err != nil || len(args) == 0 {
		return nil, fmt.Errorf("cannot parse the command")
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = nil
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("running %q: %v", args[0], err)
	}
	return out, nil
}

func homeDir(getenv func(string) string) string {
	if h := getenv("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}

// userConfigDir is os.UserConfigDir with the given environment; on macOS,
// like sops, $XDG_CONFIG_HOME wins.
func userConfigDir(getenv func(string) string) string {
	if x := getenv("XDG_CONFIG_HOME"); x != "" && (runtime.GOOS == "darwin" || runtime.GOOS == "linux" || runtime.GOOS == "freebsd" || runtime.GOOS == "openbsd" || runtime.GOOS == "netbsd") {
		return x
	}
	switch runtime.GOOS {
	case "windows", "darwin", "plan9", "ios":
		d, _ := os.UserConfigDir()
		return d
	}
	if h := homeDir(getenv); h != "" {
		return filepath.Join(h, ".config")
	}
	return ""
}
