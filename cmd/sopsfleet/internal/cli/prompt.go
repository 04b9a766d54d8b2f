package cli

import (
	"bufio"
	"bytes"
	"fmt"
)

// passphrase finds the passphrase of the encrypted private key named name:
// the first line of standard input with --passphrase-stdin, else
// $SSH_TO_AGE_PASSPHRASE (as ssh-to-age), else a no-echo prompt on the
// terminal (when standard input or standard error is one). The caller clears the returned bytes.
func (o *convertOptions) passphrase(name string) ([]byte, error) {
	ios := o.g.IO
	if o.PassphraseStdin {
		line, err := bufio.NewReader(ios.In).ReadBytes('\n')
		if len(line) == 0 && err != nil {
			return nil, usageErrorf("--passphrase-stdin: no passphrase on standard input")
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		return line, nil
	}
	if ios.Getenv != nil {
		if p := ios.Getenv(passphraseEnv); p != "" {
			return []byte(p), nil
		}
	}
	// The prompt is read from the terminal itself, so a key piped in on
	// standard input can still be unlocked when stderr is a terminal.
	if (ios.InTTY || ios.ErrTTY) && ios.ReadPassword != nil {
		fmt.Fprintf(ios.ErrOut, "Enter passphrase for %s: ", name)
		p, err := ios.ReadPassword()
		fmt.Fprintln(ios.ErrOut)
		if err != nil {
			return nil, failErr(fmt.Errorf("read passphrase: %w", err))
		}
		return p, nil
	}
	ios.Errorf("%s: private key is encrypted and no passphrase was given", name)
	ios.Hintf("give the passphrase with --passphrase-stdin or $%s", passphraseEnv)
	return nil, errSilentUsage
}
