package rekey

import (
	"errors"
	"fmt"

	"github.com/sopsfleet/sopsfleet/audit"
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// RuleSelection is the encryption selector rule asks for, as sopsfile
// applies it (no selector: sops' default).
func RuleSelection(r *recipients.Rule) sopsfile.Selection {
	return sopsfile.Selection{
		EncryptedRegex: r.EncryptedRegex, UnencryptedRegex: r.UnencryptedRegex,
		EncryptedSuffix: r.EncryptedSuffix, UnencryptedSuffix: r.UnencryptedSuffix,
		EncryptedCommentRegex: r.EncryptedCommentRegex, UnencryptedCommentRegex: r.UnencryptedCommentRegex,
		MACOnlyEncrypted: r.MACOnlyEncrypted,
	}
}

// rotateSelect rotates f (Options.ApplySelector) re-encrypting its values
// under the selector of its rule, and checks that the new bytes carry it.
// A binary file has no selector: it is rotated.
func rotateSelect(op *sopsfile.Opener, f *sopsfile.File, data, key []byte, rs [][]sopsfile.Recipient, p *Plan, configPath string) ([]byte, error) {
	if f.Format == sopsfile.FormatBinary {
		return op.Rotate(f, data, key, rs, p.ThresholdTo, configPath)
	}
	if p.Rule == nil {
		return nil, errors.New("no creation rule to take the selector from")
	}
	if p.Rule.SettingsErr != nil {
		return nil, fmt.Errorf("creation rule %d: %v", p.Rule.Index+1, p.Rule.SettingsErr)
	}
	out, err := op.RotateSelect(f, data, key, rs, p.ThresholdTo, configPath, RuleSelection(p.Rule))
	if err != nil {
		return nil, err
	}
	nf, err := sopsfile.Parse(f.Path, out)
	if err != nil {
		return nil, fmt.Errorf("internal error: the re-encrypted file does not parse: %v", err)
	}
	got, _ := audit.FileSelector(nf)
	want, _ := audit.RuleSelector(p.Rule)
	if !got.Equal(want) {
		return nil, fmt.Errorf("internal error: the re-encrypted file has %s, want %s", got, want)
	}
	return out, nil
}
