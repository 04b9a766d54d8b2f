// Package secretguard keeps private key material and secret values out of
// every message sopsfleet prints.
//
// # Private keys
//
// [LooksPrivate] recognises anything that looks like private key material:
// PEM and OpenSSH private key blocks (also a pasted fragment without its
// BEGIN line, recognised by the encoded "openssh-key-v1" magic or the DER
// prefix of a PKCS#1, PKCS#8 or SEC1 key), PGP private key blocks, PuTTY key
// files, age identities (AGE-SECRET-KEY-1…, in either case: bech32 is case
// insensitive) and age plugin identities (AGE-PLUGIN-NAME-1…). The command
// line refuses such an argument with [Refusal]; [Redact] replaces such text
// in a message.
//
// # Secret values
//
// Errors of sops' stores and of the YAML, JSON, dotenv and INI decoders can
// quote a line or a value of the file they read. [ScrubStoreError] keeps the
// kind of error and its line number and drops the value text.
package secretguard

import (
	"regexp"
	"strings"
)

// Refusal is the message for an argument that looks like a private key.
const Refusal = "this looks like a private key; it is not repeated here"

// Placeholder replaces private key material in a message.
const Placeholder = "[private key not shown]"

// The base64 prefixes of private keys, for a body pasted without its BEGIN
// line: "openssh-key-v1" (the OpenSSH format), the DER starts of PKCS#1 RSA
// (SEQUENCE, INTEGER 0, INTEGER), PKCS#8 (SEQUENCE, INTEGER 0, SEQUENCE) and
// SEC1 EC keys (SEQUENCE, INTEGER 1, OCTET STRING). Public keys and
// certificates start differently (MIIBIjAN…, MCowBQYD…, MIIDxTCC…).
const b64Markers = `b3BlbnNzaC1rZXktdjE|MII[A-Za-z0-9+/]{3}IBAA[IJK]|MII[A-Za-z0-9+/]{3}IBADAN|MC4CAQAw|MEcCAQAw|MFECAQEw|MHcCAQEE|MIGkAgEBBD|MIHcAgEBBE|MIGHAgEAMBMG`

var (
	// detect finds the start of anything private.
	detect = regexp.MustCompile(`(?i:-----\s*(?:BEGIN|END)[A-Z0-9 ]*PRIVATE KEY)|(?i:AGE-SECRET-KEY-)|(?i:AGE-PLUGIN-[A-Z0-9._+-]*-1[A-Z0-9]{4})|PuTTY-User-Key-File-|` + b64Markers)

	// What Redact replaces, most specific first.
	pemBlock = regexp.MustCompile(`(?is)-----\s*BEGIN[A-Z0-9 ]*PRIVATE KEY[A-Z0-9 ]*-----.*?(?:-----\s*END[A-Z0-9 ]*PRIVATE KEY[A-Z0-9 ]*-----|\z)`)
	// A pasted body whose BEGIN line is missing: the base64 lines before
	// the END line are taken too.
	pemTail = regexp.MustCompile(`(?i)(?:[A-Za-z0-9+/=]+[ \t]*(?:\r?\n|\\r\\n|\\n))*[A-Za-z0-9+/=]*-----\s*END[A-Z0-9 ]*PRIVATE KEY[A-Z0-9 ]*-----`)
	pemHead = regexp.MustCompile(`(?i)-----\s*(?:BEGIN|END)[A-Z0-9 ]*PRIVATE KEY[A-Z0-9 ]*-*`)
	// Lines may be joined by real newlines or, in a quoted message, by
	// "\n" escapes.
	b64Body = regexp.MustCompile(`[A-Za-z0-9+/=]*(?:` + b64Markers + `)(?:[A-Za-z0-9+/=\r\n]|\\r|\\n)*`)
	ageKey  = regexp.MustCompile(`(?i)AGE-SECRET-KEY-[A-Z0-9-]*|AGE-PLUGIN-[A-Z0-9._+-]*-1[A-Z0-9]*`)
	putty   = regexp.MustCompile(`(?s)PuTTY-User-Key-File-.*?(?:Private-MAC:[ \t]*[0-9A-Fa-f]*|\z)`)
)

// LooksPrivate reports whether s holds anything that looks like private key
// material, anywhere in it (so "--identity=AGE-SECRET-KEY-1…" does too).
func LooksPrivate(s string) bool {
	return mayBePrivate(s) && detect.MatchString(s)
}

// b64Literals are literal parts of b64Markers, for mayBePrivate.
var b64Literals = []string{"b3BlbnNzaC1rZXktdjE", "MII", "MC4CAQAw", "MEcCAQAw", "MFECAQEw", "MHcCAQEE", "MIGkAgEBBD", "MIHcAgEBBE", "MIGHAgEAMBMG"}

// mayBePrivate is a fast test that s has a literal part of some pattern
// of detect, so that ordinary text (every line of a command's output) does
// not meet the regular expressions at all.
func mayBePrivate(s string) bool {
	if containsFold(s, "PRIVATE KEY") || containsFold(s, "AGE-SECRET-KEY-") || containsFold(s, "AGE-PLUGIN-") ||
		strings.Contains(s, "PuTTY-User-Key-File-") {
		return true
	}
	for _, m := range b64Literals {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains the ASCII upper-case literal lit,
// in any case.
func containsFold(s, lit string) bool {
	first := lit[0]
	for i := 0; i+len(lit) <= len(s); i++ {
		if c := s[i]; c == first || c == first|0x20 {
			if strings.EqualFold(s[i:i+len(lit)], lit) {
				return true
			}
		}
	}
	return false
}

// Redact returns s with everything that looks like private key material
// replaced by [Placeholder]. Text that still looks private after that (a
// form the replacements do not cover) makes the whole of s the placeholder.
func Redact(s string) string {
	if !LooksPrivate(s) {
		return s
	}
	for _, re := range []*regexp.Regexp{pemBlock, putty, pemTail, pemHead, b64Body, ageKey} {
		s = re.ReplaceAllLiteralString(s, Placeholder)
	}
	if LooksPrivate(s) {
		return Placeholder
	}
	return s
}

// RedactError returns err with its message redacted (see [Redact]), or err
// itself when its message holds nothing private. The result wraps nothing:
// the original message must not be reachable through it.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if !LooksPrivate(msg) {
		return err
	}
	return scrubbed(Redact(msg))
}

type scrubbed string

func (e scrubbed) Error() string { return string(e) }

// joinLines makes a multi-line message one line, "; " between its lines.
func joinLines(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	var parts []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

var (
	blockBegin = regexp.MustCompile(`(?i)-----\s*BEGIN[A-Z0-9 ]*PRIVATE KEY[A-Z0-9 ]*-----|PuTTY-User-Key-File-`)
	blockEnd   = regexp.MustCompile(`(?i)-----\s*END[A-Z0-9 ]*PRIVATE KEY[A-Z0-9 ]*-----|Private-MAC:`)
)

// Lines redacts text that comes one line at a time, such as a command's
// output: a line is redacted as [Redact] does, and the lines of a private
// key block after its BEGIN line are dropped up to its END line (and the
// base64 lines after a line that starts a key's body), so that a block is
// not shown line by line. The zero value is ready to use.
type Lines struct {
	inBlock bool
	inBody  bool // after a line with a body's base64 marker
}

var b64Line = regexp.MustCompile(`^[A-Za-z0-9+/=]+\r?\n?$`)

// Line returns line (with its newline, if any) redacted, or "" for a line
// inside a private key block.
func (l *Lines) Line(line string) string {
	if !l.inBlock && !l.inBody && !mayBePrivate(line) {
		return line
	}
	if l.inBlock {
		if blockEnd.MatchString(line) {
			l.inBlock = false
		}
		return ""
	}
	if l.inBody {
		// A body line: base64, and long or not a plain word.
		if t := strings.TrimRight(line, "\r\n"); b64Line.MatchString(line) && (len(t) >= 40 || strings.ContainsAny(t, "0123456789+/=")) {
			return ""
		}
		l.inBody = false
	}
	if b64Body.MatchString(line) {
		l.inBody = true
	}
	if loc := blockBegin.FindStringIndex(line); loc != nil && !blockEnd.MatchString(line[loc[1]:]) {
		l.inBlock = true
	}
	body := strings.TrimRight(line, "\r\n")
	return Redact(body) + line[len(body):]
}
