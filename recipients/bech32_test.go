package recipients

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	"filippo.io/age"
)

// BIP 173 test vectors (valid Bech32 strings).
var bip173Valid = []string{
	"A12UEL5L",
	"a12uel5l",
	"an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
	"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
	"11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
	"split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
	"?1ezyfcl",
}

func TestBech32BIP173(t *testing.T) {
	for _, s := range bip173Valid {
		hrp, data, err := bech32Decode(s)
		if err != nil {
			// Some vectors carry 5-bit data that is not whole bytes; they
			// must fail only on padding.
			if !strings.Contains(err.Error(), "padding") {
				t.Errorf("%q: %v", s, err)
			}
			continue
		}
		got, err := bech32Encode(hrp, data)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if got != s {
			t.Errorf("re-encode %q = %q", s, got)
		}
	}
	invalid := []string{
		"pzry9x0s0muk",     // no separator
		"1pzry9x0s0muk",    // empty hrp
		"x1b4n0q5v",        // invalid data character
		"li1dgmt3",         // too short checksum
		"A1G7SGD8",         // checksum over upper-case hrp
		"a12UEL5L",         // mixed case
		"age1qqqqqqqqqqqq", // bad checksum
	}
	for _, s := range invalid {
		if _, _, err := bech32Decode(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// TestBech32MatchesAge checks the encoder against age's own on random keys.
func TestBech32MatchesAge(t *testing.T) {
	for range 50 {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		hrp, sk, err := bech32Decode(id.String())
		if err != nil || hrp != "AGE-SECRET-KEY-" || len(sk) != 32 {
			t.Fatalf("decode identity: %q %d %v", hrp, len(sk), err)
		}
		again, err := bech32Encode("AGE-SECRET-KEY-", sk)
		if err != nil || again != id.String() {
			t.Fatal("identity does not re-encode identically")
		}
		r := id.Recipient().String()
		hrp, pk, err := bech32Decode(r)
		if err != nil || hrp != "age" {
			t.Fatalf("decode recipient: %v", err)
		}
		enc, err := bech32Encode("age", pk)
		if err != nil || enc != r {
			t.Fatalf("recipient re-encodes as %q, want %q", enc, r)
		}
	}
	buf := make([]byte, 32)
	rand.Read(buf)
	s, _ := bech32Encode("age", buf)
	r, err := age.ParseX25519Recipient(s)
	if err != nil {
		t.Fatal(err)
	}
	if r.String() != s {
		t.Fatal("age re-encodes differently")
	}
	if _, err := bech32Encode("Age", buf); err == nil {
		t.Fatal("mixed-case hrp accepted")
	}
	if _, err := bech32Encode("", buf); err == nil {
		t.Fatal("empty hrp accepted")
	}
}

func TestValidateAgeRecipient(t *testing.T) {
	good := vectorAgeFromTSV(t)
	if err := ValidateAgeRecipient(good); err != nil {
		t.Fatalf("%q: %v", good, err)
	}
	flip := []byte(good)
	if flip[10] == 'q' {
		flip[10] = 'p'
	} else {
		flip[10] = 'q'
	}
	short, _ := bech32Encode("age", bytes.Repeat([]byte{7}, 31))
	other, _ := bech32Encode("agx", bytes.Repeat([]byte{7}, 32))
	tests := []struct {
		in   string
		want string
	}{
		{string(flip), "bad checksum"},
		{strings.ToUpper(good), "must be lower case"},
		{good[:20] + strings.ToUpper(good[20:]), "mixes upper and lower case"},
		{short, "wrong length: 31-byte key, want 32"},
		{other, `wrong prefix "agx1"`},
		// A wrong prefix is named even though the checksum is then wrong too.
		{"agf1" + good[4:], `wrong prefix "agf1"`},
		{" " + good, "white space"},
		{"age1", "not bech32"},
		{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBoPJsHzG+STOamBdOqjr6ydnVD9X6r1RrGv4xnEcx0K", "sopsfleet convert"},
		{"", "not bech32"},
	}
	for _, tt := range tests {
		err := ValidateAgeRecipient(tt.in)
		if err == nil {
			t.Errorf("%q accepted", tt.in)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.in, err, tt.want)
		}
		if !strings.HasPrefix(tt.in, "ssh-") && !strings.Contains(err.Error(), strings.TrimSpace(tt.in)) && tt.in != "" {
			t.Errorf("%q: error does not quote the input: %v", tt.in, err)
		}
		if _, aerr := age.ParseX25519Recipient(tt.in); aerr == nil {
			t.Errorf("%q: age accepts what we reject", tt.in)
		}
	}
	// A secret key is rejected without being quoted.
	id, _ := age.GenerateX25519Identity()
	err := ValidateAgeRecipient(id.String())
	if err == nil || strings.Contains(err.Error(), id.String()[16:]) {
		t.Fatalf("secret key: %v", err)
	}
	// So is a plugin identity, which may carry secret material.
	const plugin = "AGE-PLUGIN-YUBIKEY-1QQQQQQQQQQQQQQQQQQQQQQQ"
	err = ValidateAgeRecipient(plugin)
	if err == nil || strings.Contains(err.Error(), plugin[19:]) {
		t.Fatalf("plugin identity: %v", err)
	}
}

func vectorAgeFromTSV(t *testing.T) string {
	t.Helper()
	for _, v := range loadVectors(t) {
		if v.mode == "public" && strings.HasPrefix(v.expected, "age1") {
			return v.expected
		}
	}
	t.Fatal("no public vector")
	return ""
}
