package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"filippo.io/age"
	"filippo.io/age/plugin"
)

// The test age plugin, built into the test binary as age's own plugin tests
// do (filippo.io/age/plugin client_test.go): testscript puts it on PATH as
// age-plugin-fleettest, where sopsfleet and the real sops both find it.
//
// Its recipient "age1fleettest1…" and identity "AGE-PLUGIN-FLEETTEST-1…"
// carry the same 16 bytes, the "slot". A stanza is "-> fleettest SLOTHASH"
// with the file key masked by a hash of the slot: enough for tests that the
// key went through the plugin (and only the matching identity opens it),
// not a cipher.

const testPluginName = "fleettest"

func slotMask(slot []byte) []byte {
	h := sha256.Sum256(append([]byte("sopsfleet test plugin mask"), slot...))
	return h[:]
}

func slotTag(slot []byte) string {
	h := sha256.Sum256(slot)
	return fmt.Sprintf("%x", h[:8])
}

func mask(key, m []byte) []byte {
	out := make([]byte, len(key))
	for i := range key {
		out[i] = key[i] ^ m[i%len(m)]
	}
	return out
}

type testPluginRecipient struct{ slot []byte }

func (r testPluginRecipient) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	return []*age.Stanza{{Type: testPluginName, Args: []string{slotTag(r.slot)}, Body: mask(fileKey, slotMask(r.slot))}}, nil
}

type testPluginIdentity struct{ slot []byte }

func (i testPluginIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	for _, s := range stanzas {
		if s.Type == testPluginName && len(s.Args) == 1 && s.Args[0] == slotTag(i.slot) {
			return mask(s.Body, slotMask(i.slot)), nil
		}
	}
	return nil, age.ErrIncorrectIdentity
}

func testPluginMain() int {
	p, err := plugin.New(testPluginName)
	if err != nil {
		panic(err)
	}
	p.HandleRecipient(func(data []byte) (age.Recipient, error) {
		if len(data) != 16 {
			return nil, errors.New("bad recipient length")
		}
		return testPluginRecipient{data}, nil
	})
	p.HandleIdentityAsRecipient(func(data []byte) (age.Recipient, error) {
		return testPluginRecipient{data}, nil
	})
	p.HandleIdentity(func(data []byte) (age.Identity, error) {
		if len(data) != 16 {
			return nil, errors.New("bad identity length")
		}
		return testPluginIdentity{data}, nil
	})
	return p.Main()
}

// TestPluginFixture prints nothing: it checks that the recipient and
// identity in the scripts are the plugin's encoding of the same slot.
func TestPluginFixture(t *testing.T) {
	slot := bytes.Repeat([]byte{7}, 16)
	if got := plugin.EncodeRecipient(testPluginName, slot); got != testPluginRecipientString {
		t.Errorf("recipient %s, scripts use %s", got, testPluginRecipientString)
	}
	if got := plugin.EncodeIdentity(testPluginName, slot); got != testPluginIdentityString {
		t.Errorf("identity %s, scripts use %s", got, testPluginIdentityString)
	}
}

// The test plugin's recipient and identity for the slot of 16 sevens, as
// written in testdata/*plugin*.txtar.
const (
	testPluginRecipientString = "age1fleettest1qurswpc8qurswpc8qurswpc8qup67qr5"
	testPluginIdentityString  = "AGE-PLUGIN-FLEETTEST-1QURSWPC8QURSWPC8QURSWPC8QUJJKRJK"
)
