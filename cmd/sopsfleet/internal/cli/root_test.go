package cli

import (
	"strings"
	"testing"
)

// mixedKeys is an RSA key (a warning) and an ed25519 key (data).
func mixedKeys(t *testing.T) string {
	return string(vectorKey(t, "rsa1.pub")) + string(vectorKey(t, "k01.pub"))
}

// Colour on stderr only when it is a terminal, and never with --no-color or
// NO_COLOR; stdout stays plain data either way.
func TestColourOnlyOnTerminal(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tty    bool
		env    string
		args   []string
		styled bool
	}{
		{"terminal", true, "", nil, true},
		{"pipe", false, "", nil, false},
		{"--no-color", true, "", []string{"--no-color"}, false},
		{"NO_COLOR", true, "1", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, out, errOut := TestIO(mixedKeys(t))
			ios.Color, ios.ErrTTY, ios.OutTTY = true, tc.tty, tc.tty
			ios.Getenv = func(k string) string {
				if k == "NO_COLOR" {
					return tc.env
				}
				return ""
			}
			if code := Run(ios, append(tc.args, "convert")); code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if got := strings.Contains(errOut.String(), "\x1b["); got != tc.styled {
				t.Fatalf("stderr styled = %v, want %v: %q", got, tc.styled, errOut)
			}
			if !strings.Contains(errOut.String(), "warning:") || !strings.HasPrefix(errOut.String(), "sopsfleet: ") {
				t.Fatalf("stderr %q", errOut)
			}
			if out.String() != vectorExpected(t, "k01.pub", "public")+"\n" {
				t.Fatalf("stdout %q", out)
			}
		})
	}
}

// -q drops warnings and hints, never errors or data.
func TestQuiet(t *testing.T) {
	ios, out, errOut := TestIO(mixedKeys(t))
	if code := Run(ios, []string{"-q", "convert"}); code != ExitOK || errOut.Len() != 0 || out.Len() == 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	ios, _, errOut = TestIO(string(vectorKey(t, "k01")))
	if code := Run(ios, []string{"--quiet", "convert"}); code != ExitUsage {
		t.Fatalf("exit %d", code)
	}
	if e := errOut.String(); e != "sopsfleet: error: stdin: this is a private key, not a public key\n" {
		t.Fatalf("stderr %q: want the error and no hint", e)
	}
}

// Exit codes are decided in one place: usage errors 2, failures 1, and the
// message once on stderr, usage text only for flag errors.
func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"--version"}, ExitOK, ""},
		{[]string{"--bogus"}, ExitUsage, "sopsfleet: error: unknown flag: --bogus\nsopsfleet: hint: see 'sopsfleet --help'\n"},
		{[]string{"convert", "--bogus"}, ExitUsage, "sopsfleet: error: unknown flag: --bogus\nsopsfleet: hint: see 'sopsfleet convert --help'\n"},
		{[]string{"frobnicate"}, ExitUsage, "sopsfleet: error: unknown command \"frobnicate\" for \"sopsfleet\"\nsopsfleet: hint: see 'sopsfleet --help'\n"},
		{[]string{"keyscan"}, ExitUsage, "sopsfleet: error: name at least one HOST[:PORT] to scan\nsopsfleet: hint: see 'sopsfleet keyscan --help'\n"},
		{[]string{"convert", "/no/such/file"}, ExitUsage, "sopsfleet: error: read \"/no/such/file\": no such file or directory\n"},
		{[]string{"convert"}, ExitFailure, "sopsfleet: error: no SSH public key found in stdin\n"},
	} {
		ios, out, errOut := TestIO("")
		if code := Run(ios, tc.args); code != tc.code {
			t.Errorf("%q: exit %d, want %d", tc.args, code, tc.code)
		}
		if errOut.String() != tc.stderr {
			t.Errorf("%q: stderr %q, want %q", tc.args, errOut, tc.stderr)
		}
		if tc.code != ExitOK && out.Len() != 0 {
			t.Errorf("%q: stdout %q", tc.args, out)
		}
	}
}

func TestVersionOutput(t *testing.T) {
	ios, out, _ := TestIO("")
	if code := Run(ios, []string{"--version"}); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.HasPrefix(out.String(), "sopsfleet ") || !strings.HasSuffix(out.String(), "\n") || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("stdout %q", out)
	}
}
