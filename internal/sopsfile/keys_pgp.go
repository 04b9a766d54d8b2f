package sopsfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// ErrPGPKeyMissing reports a PGP fingerprint whose public key is not in the
// local gpg keyring, so no data key can be encrypted for it.
var ErrPGPKeyMissing = errors.New("not in the local gpg keyring")

// gpgBinary is the gpg sops runs: $SOPS_GPG_EXEC, else "gpg".
func gpgBinary() string {
	if b := os.Getenv("SOPS_GPG_EXEC"); b != "" {
		return b
	}
	return "gpg"
}

// checkPGPPublicKey makes sure gpg has the public key of fp before sops is
// asked to encrypt for it, so that the error says what to do instead of
// sops' layered "could not encrypt data key" message.
func checkPGPPublicKey(fp string) error {
	// One gpg run per key and keyring, not one per file.
	ck := fp + "\x00" + gpgBinary() + "\x00" + os.Getenv("GNUPGHOME")
	if v, ok := pgpChecked.Load(ck); ok {
		if v == nil {
			return nil
		}
		return v.(error)
	}
	err := checkPGPPublicKeyOnce(fp)
	if err == nil {
		pgpChecked.Store(ck, nil)
	} else {
		pgpChecked.Store(ck, err)
	}
	return err
}

// pgpChecked caches checkPGPPublicKey's answers (nil: present).
var pgpChecked sync.Map

func checkPGPPublicKeyOnce(fp string) error {
	bin := gpgBinary()
	path, err := exec.LookPath(bin)
	if err != nil {
		return fmt.Errorf("pgp key %s: %s is not on PATH: install GnuPG to encrypt for PGP keys", fp, bin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--batch", "--no-tty", "--with-colons", "--list-keys", "--", fp)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil || !strings.Contains(strings.ToUpper(out.String()), "FPR:::::::::"+strings.ToUpper(fp)) {
		where := "the default keyring"
		if h := os.Getenv("GNUPGHOME"); h != "" {
			where = "GNUPGHOME=" + h
		}
		return fmt.Errorf("pgp key %s: %w (%s): import it with 'gpg --import KEY.asc' or 'gpg --recv-keys %s'", fp, ErrPGPKeyMissing, where, fp)
	}
	return nil
}

// encryptCheck checks what can be checked before encrypting for k: the
// plugin binary of a plugin recipient, the public key of a PGP key.
func encryptCheck(k recipients.Key) error {
	if name := recipients.PluginName(k); name != "" {
		// Said before age tries: its error would only say "exec".
		if _, err := exec.LookPath("age-plugin-" + name); err != nil {
			return fmt.Errorf("age plugin recipient %q: %w: age-plugin-%s is not on PATH (install the plugin to encrypt for it)", k.ID, ErrPluginMissing, name)
		}
	}
	if k.Type == recipients.TypePGP {
		return checkPGPPublicKey(k.ID)
	}
	return nil
}
