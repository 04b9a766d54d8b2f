package secretguard

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// rawTails are the messages of sops' stores and of the INI parser that end
// with a line or a value of the file, unquoted: the text after the phrase is
// dropped. Group 1 is what is kept.
var rawTails = []*regexp.Regexp{
	regexp.MustCompile(`(?i)(invalid dotenv input line):\s?(.*)$`),
	regexp.MustCompile(`(?i)(key-value delimiter not found):\s?(.*)$`),
	regexp.MustCompile(`(?i)(unclosed section):\s?(.*)$`),
	regexp.MustCompile(`(?i)(missing closing key quote)(?::\s?| from )(.*)$`),
	regexp.MustCompile(`(?i)(Error encoding (?:value|key|section))\b(.*)$`),
	regexp.MustCompile(`(?i)(Expected JSON object key), got (.*)$`),
	regexp.MustCompile(`(?i)(BOM):\s?(.*)$`),
}

var (
	// sops' JSON store: "Got %#v of type %T instead".
	gotValue = regexp.MustCompile(`\bGot .* of type (\S+) instead`)
	// Quoted text, as Go's %q and the decoders write it.
	doubleQuoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	backQuoted   = regexp.MustCompile("`[^`]*`")
	// A short single-quoted character or token, as encoding/json and
	// yaml.v3 quote one character of the input ("invalid character 'S'").
	singleQuoted = regexp.MustCompile(`(^|[\s(])'(?:[^'\\\s]|\\.){1,8}'`)
	lineNumber   = regexp.MustCompile(`\bline \d+\b`)
)

// ScrubStoreError returns err with the value text its message may quote
// removed, keeping the kind of error and its line number: the errors of
// sops' stores and of the YAML, JSON, dotenv and INI decoders can quote a
// line or a value of the file (`key-value delimiter not found: LINE`,
// "cannot unmarshal !!str `VALUE` into int"). Quoted text is replaced by
// "…" (metadata keys such as "sops_version" are kept), private key
// material by [Placeholder], and a multi-line message becomes one line.
//
// data, when not nil, is the content the error is about: for a message that
// names a bad line without its number (dotenv, INI), the number is looked up
// in data and added. The result wraps nothing, so the original message is
// not reachable through it; nil stays nil.
func ScrubStoreError(err error, data []byte) error {
	if err == nil {
		return nil
	}
	return scrubbed(ScrubStoreText(err.Error(), data))
}

// ScrubStoreText is [ScrubStoreError] for a message.
func ScrubStoreText(msg string, data []byte) string {
	msg = joinLines(msg)
	for _, re := range rawTails {
		m := re.FindStringSubmatchIndex(msg)
		if m == nil {
			continue
		}
		kept := msg[m[2]:m[3]]
		tail := msg[m[4]:m[5]]
		if data != nil && !lineNumber.MatchString(msg) {
			if n := lineOf(data, tail); n > 0 {
				kept = fmt.Sprintf("line %d: %s", n, kept)
			}
		}
		msg = msg[:m[0]] + kept
	}
	msg = gotValue.ReplaceAllString(msg, "got a value of type $1 instead")
	msg = doubleQuoted.ReplaceAllStringFunc(msg, func(q string) string {
		if strings.HasPrefix(q, `"sops`) && !strings.ContainsAny(q, " \t") {
			return q // a metadata key
		}
		return `"…"`
	})
	msg = backQuoted.ReplaceAllLiteralString(msg, "`…`")
	msg = singleQuoted.ReplaceAllStringFunc(msg, func(q string) string {
		if !strings.ContainsFunc(q, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			return q // punctuation: "expected ','"
		}
		return q[:strings.IndexByte(q, '\'')] + "'…'"
	})
	return Redact(msg)
}

// lineOf returns the 1-based number of the only line of data that is line
// (spaces around ignored), or 0.
func lineOf(data []byte, line string) int {
	want := strings.TrimSpace(line)
	if want == "" {
		return 0
	}
	found := 0
	for i, l := range bytes.Split(data, []byte("\n")) {
		if string(bytes.TrimSpace(l)) == want {
			if found != 0 {
				return 0
			}
			found = i + 1
		}
	}
	return found
}
