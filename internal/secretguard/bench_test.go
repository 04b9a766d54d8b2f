package secretguard_test

import (
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/secretguard"
)

// BenchmarkLines measures the guard on an ordinary line of output, as every
// line of standard output goes through it.
func BenchmarkLines(b *testing.B) {
	line := "secrets/prod/db.yaml    updated (+1 −0)  +web3 age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n"
	var l secretguard.Lines
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		l.Line(line)
	}
}

// BenchmarkLinesMarker is a line that passes the fast test and meets the
// regular expressions.
func BenchmarkLinesMarker(b *testing.B) {
	line := "secrets/prod/db.yaml    updated (+1 −0)  +web3 AGE-PLUGIN-x MIIsomething\n"
	var l secretguard.Lines
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		l.Line(line)
	}
}

// BenchmarkLinesLookalike is a line with parts of the patterns that the fast
// test turns away ("storage-", "-----").
func BenchmarkLinesLookalike(b *testing.B) {
	line := "secrets/storage-account.yaml  ------  updated (+1 −0)  +web3 age-plugin\n"
	var l secretguard.Lines
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		l.Line(line)
	}
}
