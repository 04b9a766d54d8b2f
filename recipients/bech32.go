package recipients

import (
	"errors"
	"fmt"
	"strings"
)

// This file is the Bech32 encoding (BIP 173) as age uses it: the original
// Bech32 checksum (not Bech32m) and no 90-character limit, so that a 32-byte
// key fits. age recipients use the human-readable part "age" in lower case;
// identities use "AGE-SECRET-KEY-" and are written in upper case.

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// Errors returned by bech32Decode, wrapped with details.
var (
	errBech32Checksum = errors.New("bad checksum")
	errBech32Case     = errors.New("mixes upper and lower case")
	errBech32Padding  = errors.New("bad padding")
)

func bech32Polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := range 5 {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}

// bech32HRPExpand expands the (lower-case) human-readable part for the checksum.
func bech32HRPExpand(hrp string) []byte {
	out := make([]byte, 0, 2*len(hrp)+1)
	for i := 0; i < len(hrp); i++ {
		out = append(out, hrp[i]>>5)
	}
	out = append(out, 0)
	for i := 0; i < len(hrp); i++ {
		out = append(out, hrp[i]&31)
	}
	return out
}

// bech32Regroup converts between 8-bit bytes and 5-bit groups.
func bech32Regroup(data []byte, from, to uint, pad bool) ([]byte, error) {
	var out []byte
	acc, bits := uint32(0), uint(0)
	maxv := uint32(1)<<to - 1
	for _, v := range data {
		if uint32(v)>>from != 0 {
			return nil, fmt.Errorf("value %d out of range", v)
		}
		acc = acc<<from | uint32(v)
		bits += from
		for bits >= to {
			bits -= to
			out = append(out, byte(acc>>bits&maxv))
		}
	}
	if pad {
		if bits > 0 {
			out = append(out, byte(acc<<(to-bits)&maxv))
		}
	} else if bits >= from || acc<<(to-bits)&maxv != 0 {
		return nil, errBech32Padding
	}
	return out, nil
}

// bech32Encode encodes data under the human-readable part hrp. An all
// upper-case hrp gives an all upper-case result, as age writes identities.
func bech32Encode(hrp string, data []byte) (string, error) {
	if hrp == "" {
		return "", errors.New("empty human-readable part")
	}
	for i := 0; i < len(hrp); i++ {
		if hrp[i] < 33 || hrp[i] > 126 {
			return "", fmt.Errorf("invalid character in human-readable part %q", hrp)
		}
	}
	lower := strings.ToLower(hrp)
	upper := hrp != lower
	if upper && strings.ToUpper(hrp) != hrp {
		return "", fmt.Errorf("human-readable part %q %w", hrp, errBech32Case)
	}
	values, err := bech32Regroup(data, 8, 5, true)
	if err != nil {
		return "", err
	}
	check := append(bech32HRPExpand(lower), values...)
	check = append(check, 0, 0, 0, 0, 0, 0)
	mod := bech32Polymod(check) ^ 1

	var b strings.Builder
	b.Grow(len(hrp) + 1 + len(values) + 6)
	b.WriteString(lower)
	b.WriteByte('1')
	for _, v := range values {
		b.WriteByte(bech32Charset[v])
	}
	for i := range 6 {
		b.WriteByte(bech32Charset[(mod>>(5*(5-i)))&31])
	}
	if upper {
		return strings.ToUpper(b.String()), nil
	}
	return b.String(), nil
}

// bech32Decode splits s into its human-readable part (as written, so case is
// kept) and its data, verifying the checksum.
func bech32Decode(s string) (hrp string, data []byte, err error) {
	if strings.ToLower(s) != s && strings.ToUpper(s) != s {
		return "", nil, errBech32Case
	}
	pos := strings.LastIndexByte(s, '1')
	if pos < 1 {
		return "", nil, errors.New("no separator \"1\" after a human-readable part")
	}
	if pos+7 > len(s) {
		return "", nil, errors.New("too short for a checksum")
	}
	hrp = s[:pos]
	for i := 0; i < len(hrp); i++ {
		if hrp[i] < 33 || hrp[i] > 126 {
			return "", nil, errors.New("invalid character in human-readable part")
		}
	}
	values := make([]byte, 0, len(s)-pos-1)
	for i := pos + 1; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		d := strings.IndexByte(bech32Charset, c)
		if d < 0 {
			return "", nil, fmt.Errorf("invalid character %q at position %d", s[i], i+1)
		}
		values = append(values, byte(d))
	}
	if bech32Polymod(append(bech32HRPExpand(strings.ToLower(hrp)), values...)) != 1 {
		return "", nil, errBech32Checksum
	}
	data, err = bech32Regroup(values[:len(values)-6], 5, 8, false)
	if err != nil {
		return "", nil, err
	}
	return hrp, data, nil
}

// ValidateAgeRecipient reports whether s is a well-formed native age X25519
// recipient ("age1…", lower case, 32-byte key, valid checksum). The error
// says what is wrong and quotes s; a recipient is public, so quoting it is
// safe.
func ValidateAgeRecipient(s string) error {
	if s != strings.TrimSpace(s) {
		return fmt.Errorf("age recipient %q: has surrounding white space", s)
	}
	if strings.HasPrefix(strings.ToUpper(s), "AGE-SECRET-KEY-") {
		// Never quote a secret key.
		return errors.New("age recipient: this is an age secret key (AGE-SECRET-KEY-…), not a recipient; use its public key \"age1…\"")
	}
	if strings.HasPrefix(strings.ToUpper(s), "AGE-PLUGIN-") {
		// A plugin identity may hold secret material too: never quote it.
		return errors.New("age recipient: this is an age plugin identity (AGE-PLUGIN-…), not a recipient")
	}
	if strings.HasPrefix(s, "ssh-") {
		return fmt.Errorf("age recipient %q: is an SSH key; convert it with 'sopsfleet convert'", truncateForMessage(s))
	}
	// The prefix is checked before the checksum: "agf1…" is a wrong prefix,
	// not a typo somewhere in the key.
	if i := strings.LastIndexByte(s, '1'); i > 0 && strings.ToLower(s[:i]) != "age" {
		return fmt.Errorf("age recipient %q: wrong prefix %q, want \"age1…\" (plugin and post-quantum recipients are not X25519 recipients)", s, s[:i+1])
	}
	hrp, data, err := bech32Decode(s)
	switch {
	case errors.Is(err, errBech32Checksum):
		return fmt.Errorf("age recipient %q: bad checksum (mistyped or truncated?)", s)
	case errors.Is(err, errBech32Case):
		return fmt.Errorf("age recipient %q: mixes upper and lower case", s)
	case err != nil:
		return fmt.Errorf("age recipient %q: not bech32: %v", s, err)
	}
	if hrp == "AGE" {
		return fmt.Errorf("age recipient %q: must be lower case", s)
	}
	if hrp != "age" {
		return fmt.Errorf("age recipient %q: wrong prefix %q, want \"age1…\" (plugin and post-quantum recipients are not X25519 recipients)", s, hrp+"1")
	}
	if len(data) != 32 {
		return fmt.Errorf("age recipient %q: wrong length: %d-byte key, want 32", s, len(data))
	}
	return nil
}

// truncateForMessage shortens long input for an error message.
func truncateForMessage(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
