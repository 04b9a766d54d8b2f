package rekey

import (
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
)

// replaceKeyGroups writes all key groups anew (Shamir re-split): in place
// when the file's layout allows it, else re-emitted through sops' store as
// `sops updatekeys` does.
func replaceKeyGroups(f *sopsfile.File, data []byte, enc [][]sopsfile.EncryptedStanza, threshold int, configPath string) ([]byte, error) {
	groups := make([][]sopsfile.NewStanza, len(enc))
	for gi, g := range enc {
		groups[gi] = sopsfile.NewStanzas(gi, g)
	}
	out, err := sopsfile.ReplaceKeyGroups(f, data, groups, threshold)
	if err == nil {
		return out, nil
	}
	if alt, aerr := sopsfile.RekeyViaStore(f, data, enc, threshold, configPath); aerr == nil {
		return alt, nil
	}
	return nil, err
}
