package audit

import (
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/internal/secretguard"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// TestShortKeyNeverShowsAPrivateKey: a private key pasted into .sops.yaml or
// a file's metadata as a recipient is labelled as such, never abbreviated
// (an abbreviation still shows some of its characters).
func TestShortKeyNeverShowsAPrivateKey(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	k := recipients.Key{Type: recipients.TypeAge, ID: id.String()}
	body := strings.TrimPrefix(id.String(), "AGE-SECRET-KEY-1")
	for name, got := range map[string]string{"ShortKey": ShortKey(k), "keyLabel": keyLabel(k)} {
		if got != secretguard.Placeholder {
			t.Errorf("%s = %q, want %q", name, got, secretguard.Placeholder)
		}
		if strings.Contains(got, body[len(body)-4:]) {
			t.Errorf("%s shows part of the key: %q", name, got)
		}
	}
	pub := recipients.Key{Type: recipients.TypeAge, ID: id.Recipient().String()}
	if ShortKey(pub) == secretguard.Placeholder {
		t.Errorf("a public recipient is labelled as a private key")
	}
}

// TestPGPLabelsAgree: a PGP key unnamed in .sops.yaml is labelled by its long
// key ID (the last 16 hex digits of the fingerprint) by check and report
// (ShortKey) and by diff, textconv and exposure (keyLabel, after the type).
func TestPGPLabelsAgree(t *testing.T) {
	k := recipients.Key{Type: recipients.TypePGP, ID: "85D77543B3D624B63CEA9E6DBC17301B491B3F21"}
	const longID = "BC17301B491B3F21"
	if got := ShortKey(k); got != "pgp:"+longID {
		t.Errorf("ShortKey = %q, want pgp:%s", got, longID)
	}
	if got := string(k.Type) + ":" + keyLabel(k); got != "pgp:"+longID {
		t.Errorf("the history label = %q, want pgp:%s", got, longID)
	}
}
