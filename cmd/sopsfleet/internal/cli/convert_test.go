package cli

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// vectorKey reads a throwaway test key of recipients/testdata/vectors.
func vectorKey(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "recipients", "testdata", "vectors", "keys", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vectorExpected returns the expected.tsv column for input and mode.
func vectorExpected(t *testing.T, input, mode string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "recipients", "testdata", "vectors", "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		c := strings.Split(line, "\t")
		if len(c) == 4 && c[0] == input && c[1] == mode {
			return c[3]
		}
	}
	t.Fatalf("no vector %s %s", input, mode)
	return ""
}

func writeTemp(t *testing.T, dir, name string, data []byte, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil { // umask-proof
		t.Fatal(err)
	}
	return p
}

func TestConvertPrivateRefusesTerminal(t *testing.T) {
	dir := t.TempDir()
	key := writeTemp(t, dir, "k01", vectorKey(t, "k01"), 0o600)
	want := vectorExpected(t, "k01", "private") + "\n"

	ios, out, errOut := TestIO("")
	ios.OutTTY = true
	if code := Run(ios, []string{"convert", "--private-key", key}); code != ExitUsage {
		t.Fatalf("exit %d, want %d", code, ExitUsage)
	}
	if out.Len() != 0 {
		t.Fatalf("printed %q to the terminal", out)
	}
	if !strings.Contains(errOut.String(), "error: refusing to print a private key to a terminal") ||
		!strings.Contains(errOut.String(), "-o FILE") || !strings.Contains(errOut.String(), "--force") {
		t.Fatalf("stderr: %q", errOut)
	}
	if strings.Contains(errOut.String(), "AGE-SECRET-KEY") {
		t.Fatal("secret in stderr")
	}

	// --force prints it anyway.
	ios, out, _ = TestIO("")
	ios.OutTTY = true
	if code := Run(ios, []string{"convert", "--private-key", "--force", key}); code != ExitOK {
		t.Fatalf("--force: exit %d", code)
	}
	if out.String() != want {
		t.Fatalf("--force printed %q", out)
	}

	// -o FILE writes it, still nothing on the terminal.
	ios, out, _ = TestIO("")
	ios.OutTTY = true
	dst := filepath.Join(dir, "keys.txt")
	if code := Run(ios, []string{"convert", "--private-key", "-o", dst, key}); code != ExitOK {
		t.Fatalf("-o: exit %d", code)
	}
	if out.Len() != 0 {
		t.Fatalf("-o printed %q", out)
	}
	got, err := os.ReadFile(dst)
	if err != nil || string(got) != want {
		t.Fatalf("file holds %q, %v", got, err)
	}

	// Public keys may go to a terminal.
	ios, out, _ = TestIO("")
	ios.OutTTY = true
	pub := writeTemp(t, dir, "k01.pub", vectorKey(t, "k01.pub"), 0o644)
	if code := Run(ios, []string{"convert", pub}); code != ExitOK || out.String() != vectorExpected(t, "k01.pub", "public")+"\n" {
		t.Fatalf("public to terminal: exit %d, %q", code, out)
	}
}

func TestConvertPrivateOutputMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	dir := t.TempDir()
	key := writeTemp(t, dir, "k01", vectorKey(t, "k01"), 0o600)
	want := vectorExpected(t, "k01", "private") + "\n"

	// A new file is created 0600.
	dst := filepath.Join(dir, "new.txt")
	ios, _, errOut := TestIO("")
	if code := Run(ios, []string{"convert", "--private-key", "-o", dst, key}); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	assertMode(t, dst, 0o600)

	// An existing world-readable file is tightened to 0600 before the
	// secret is written, with a warning.
	wide := writeTemp(t, dir, "wide.txt", []byte("old\n"), 0o644)
	ios, _, errOut = TestIO("")
	if code := Run(ios, []string{"convert", "--private-key", "-o", wide, key}); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	assertMode(t, wide, 0o600)
	if got, _ := os.ReadFile(wide); string(got) != want {
		t.Fatalf("content %q", got)
	}
	if !strings.Contains(errOut.String(), "tightened mode from 0644 to 0600") {
		t.Fatalf("stderr %q", errOut)
	}

	// A stricter existing mode is kept.
	strict := writeTemp(t, dir, "strict.txt", []byte("old\n"), 0o400)
	ios, _, errOut = TestIO("")
	if code := Run(ios, []string{"convert", "--private-key", "-o", strict, key}); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	assertMode(t, strict, 0o400)

	// Through a symbolic link, the target gets 0600 and the link stays.
	target := writeTemp(t, dir, "target.txt", []byte("old\n"), 0o664)
	link := filepath.Join(dir, "link.txt")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	ios, _, errOut = TestIO("")
	if code := Run(ios, []string{"convert", "--private-key", "-o", link, key}); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	assertMode(t, target, 0o600)
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("link replaced by a file")
	}

	// A failed conversion writes nothing.
	ios, _, _ = TestIO("")
	none := filepath.Join(dir, "none.txt")
	rsa := writeTemp(t, dir, "rsa1", vectorKey(t, "rsa1"), 0o600)
	if code := Run(ios, []string{"convert", "--private-key", "-o", none, rsa}); code != ExitFailure {
		t.Fatalf("rsa: exit %d", code)
	}
	if _, err := os.Stat(none); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("output file created for a failed conversion")
	}

	// Public output files get the ordinary mode.
	pub := writeTemp(t, dir, "k01.pub", vectorKey(t, "k01.pub"), 0o644)
	pubOut := filepath.Join(dir, "recipients.txt")
	ios, _, _ = TestIO("")
	if code := Run(ios, []string{"convert", "-o", pubOut, pub}); code != ExitOK {
		t.Fatalf("public -o: exit %d", code)
	}
	if got, _ := os.ReadFile(pubOut); string(got) != vectorExpected(t, "k01.pub", "public")+"\n" {
		t.Fatalf("public -o wrote %q", got)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Fatalf("%s: mode %04o, want %04o", filepath.Base(path), got, want)
	}
}

func TestConvertPassphrasePrompt(t *testing.T) {
	dir := t.TempDir()
	key := writeTemp(t, dir, "k25", vectorKey(t, "k25"), 0o600)
	want := vectorExpected(t, "k25", "private") + "\n"

	ios, out, errOut := TestIO("")
	ios.InTTY = true
	asked := 0
	ios.ReadPassword = func() ([]byte, error) { asked++; return []byte("pass25"), nil }
	if code := Run(ios, []string{"convert", "--private-key", key}); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if asked != 1 || out.String() != want {
		t.Fatalf("asked %d times, printed %q", asked, out)
	}
	if !strings.Contains(errOut.String(), "Enter passphrase for "+key+": ") || strings.Contains(errOut.String(), "pass25") {
		t.Fatalf("prompt: %q", errOut)
	}

	// A key piped in on standard input, with a terminal on stderr: the
	// passphrase is still asked for (on the terminal, not from the pipe).
	ios, out, errOut = TestIO(string(vectorKey(t, "k25")))
	ios.ErrTTY = true
	asked = 0
	ios.ReadPassword = func() ([]byte, error) { asked++; return []byte("pass25"), nil }
	if code := Run(ios, []string{"convert", "--private-key"}); code != ExitOK || asked != 1 || out.String() != want {
		t.Fatalf("piped key: exit %d, asked %d, stdout %q, stderr %q", code, asked, out, errOut)
	}
	if !strings.Contains(errOut.String(), "Enter passphrase for stdin: ") {
		t.Fatalf("prompt: %q", errOut)
	}

	// $SSH_TO_AGE_PASSPHRASE wins over the prompt.
	ios, out, _ = TestIO("")
	ios.InTTY = true
	ios.ReadPassword = func() ([]byte, error) { t.Fatal("prompted"); return nil, nil }
	ios.Getenv = func(k string) string {
		if k == "SSH_TO_AGE_PASSPHRASE" {
			return "pass25"
		}
		return ""
	}
	if code := Run(ios, []string{"convert", "--private-key", key}); code != ExitOK || out.String() != want {
		t.Fatalf("env: exit %d, %q", code, out)
	}

	// An unencrypted key asks for nothing.
	plain := writeTemp(t, dir, "k01", vectorKey(t, "k01"), 0o600)
	ios, _, _ = TestIO("")
	ios.InTTY = true
	ios.ReadPassword = func() ([]byte, error) { t.Fatal("prompted for an unencrypted key"); return nil, nil }
	if code := Run(ios, []string{"convert", "--private-key", plain}); code != ExitOK {
		t.Fatalf("plain: exit %d", code)
	}

	// A failing terminal read is a failure, not a conversion.
	ios, out, _ = TestIO("")
	ios.InTTY = true
	ios.ReadPassword = func() ([]byte, error) { return nil, errors.New("no tty") }
	if code := Run(ios, []string{"convert", "--private-key", key}); code != ExitFailure || out.Len() != 0 {
		t.Fatalf("read error: exit %d, %q", code, out)
	}

	// --passphrase-stdin takes the first line only (CRLF too).
	ios, out, _ = TestIO("pass25\r\nrest\n")
	if code := Run(ios, []string{"convert", "--private-key", "--passphrase-stdin", key}); code != ExitOK || out.String() != want {
		t.Fatalf("stdin: exit %d, %q", code, out)
	}
	ios, out, errOut = TestIO("")
	if code := Run(ios, []string{"convert", "--private-key", "--passphrase-stdin", key}); code != ExitUsage || out.Len() != 0 {
		t.Fatalf("empty stdin: exit %d, %q", code, out)
	}
	if !strings.Contains(errOut.String(), "no passphrase on standard input") {
		t.Fatalf("stderr %q", errOut)
	}
}

// --json prints labels as written (no \u003c for "<") and an empty array,
// not null, when nothing converts.
func TestConvertJSONLabels(t *testing.T) {
	pub := strings.TrimSpace(string(vectorKey(t, "k01.pub")))
	fields := strings.Fields(pub)
	in := fields[0] + " " + fields[1] + " ops <ops@example.com> & co\n"
	ios, out, errOut := TestIO(in)
	if code := Run(ios, []string{"convert", "--json"}); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `[
  {
    "line": 1,
    "label": "ops <ops@example.com> & co",
    "ssh_type": "ssh-ed25519",
    "ssh_fingerprint": "` + fingerprintOf(t, pub) + `",
    "age": "` + vectorExpected(t, "k01.pub", "public") + `",
    "source": "-"
  }
]
`
	if out.String() != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", out, want)
	}

	// One unsupported key (an error) or several (warnings): [] either way.
	for _, in := range []string{
		string(vectorKey(t, "rsa1.pub")),
		string(vectorKey(t, "rsa1.pub")) + string(vectorKey(t, "ecdsa1.pub")),
	} {
		ios, out, _ = TestIO(in)
		if code := Run(ios, []string{"convert", "--json"}); code != ExitFailure {
			t.Fatalf("exit %d, want 1", code)
		}
		if out.String() != "[]\n" {
			t.Fatalf("stdout %q, want []", out)
		}
	}
}

// fingerprintOf is ssh-keygen -l's fingerprint of an authorized_keys line.
func fingerprintOf(t *testing.T, line string) string {
	t.Helper()
	pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return ssh.FingerprintSHA256(pk)
}

// TestConvertVectorsCLI runs the command line on every row of expected.tsv as
// ssh-to-age would be run, and compares standard output byte for byte with
// what the reference printed: each recipient or identity on its own line.
func TestConvertVectorsCLI(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "recipients", "testdata", "vectors", "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		c := strings.Split(line, "\t")
		if len(c) != 4 {
			t.Fatalf("bad row %q", line)
		}
		rows++
		input, mode, pass, expected := c[0], c[1], c[2], c[3]
		t.Run(input+"/"+mode, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("..", "..", "..", "..", "recipients", "testdata", "vectors", "keys", input)
			args := []string{"ssh-to-age", path}
			if mode == "private" {
				args = []string{"ssh-to-age", "--private-key", path}
			}
			ios, out, errOut := TestIO("")
			ios.Getenv = func(k string) string {
				if k == passphraseEnv && pass != "-" {
					return pass
				}
				return ""
			}
			code := Run(ios, args)
			if expected == "unsupported" {
				if code != ExitFailure || out.Len() != 0 {
					t.Fatalf("exit %d, stdout %q; want 1 and nothing", code, out)
				}
				assertNoKeyMaterialCLI(t, errOut.String(), vectorKey(t, input))
				return
			}
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			want := strings.ReplaceAll(expected, ",", "\n") + "\n"
			if out.String() != want {
				t.Fatalf("stdout %q\nwant   %q", out, want)
			}
		})
	}
	if rows < 70 {
		t.Fatalf("only %d rows", rows)
	}
}

// assertNoKeyMaterialCLI fails when msg holds any 16-character run of the
// key file's base64 data (fields of 40 characters or more: key blobs and
// PEM lines, not key type names or comments).
func assertNoKeyMaterialCLI(t *testing.T, msg string, key []byte) {
	t.Helper()
	for _, line := range strings.Split(string(key), "\n") {
		for _, f := range strings.Fields(line) {
			if len(f) < 40 || strings.HasPrefix(f, "-----") {
				continue
			}
			for i := 0; i+16 <= len(f); i += 8 {
				if strings.Contains(msg, f[i:i+16]) {
					t.Fatalf("message contains key material %q:\n%s", f[i:i+16], msg)
				}
			}
		}
	}
}

// On a terminal, reading standard input is announced (else the command seems
// to hang); from a pipe, or with -q, it is not.
func TestConvertStdinTerminalNotice(t *testing.T) {
	const notice = "sopsfleet: reading keys from standard input; end with Ctrl-D\n"
	for _, tc := range []struct {
		tty  bool
		args []string
		want string
	}{
		{true, []string{"convert"}, notice},
		{true, []string{"convert", "-"}, notice},
		{true, []string{"-q", "convert"}, ""},
		{false, []string{"convert"}, ""},
	} {
		ios, out, errOut := TestIO(string(vectorKey(t, "k01.pub")))
		ios.InTTY = tc.tty
		if code := Run(ios, tc.args); code != ExitOK || out.Len() == 0 {
			t.Fatalf("%q: exit %d, stdout %q", tc.args, code, out)
		}
		if errOut.String() != tc.want {
			t.Errorf("%q (tty %v): stderr %q, want %q", tc.args, tc.tty, errOut, tc.want)
		}
	}
}

// zeros is an endless input, like /dev/zero.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// An endless or huge input is refused once past the bound, not read into
// memory to the end.
func TestConvertInputBound(t *testing.T) {
	old := maxConvertInput
	maxConvertInput = 4096
	t.Cleanup(func() { maxConvertInput = old })

	ios, out, errOut := TestIO("")
	ios.In = zeros{}
	if code := Run(ios, []string{"convert"}); code != ExitUsage || out.Len() != 0 {
		t.Fatalf("stdin: exit %d, stdout %q", code, out)
	}
	if errOut.String() != "sopsfleet: error: read standard input: larger than 4096 bytes: not a key file\n" {
		t.Fatalf("stderr %q", errOut)
	}

	big := writeTemp(t, t.TempDir(), "big.pub", []byte(strings.Repeat("# padding\n", 500)+string(vectorKey(t, "k01.pub"))), 0o644)
	ios, out, errOut = TestIO("")
	if code := Run(ios, []string{"convert", big}); code != ExitUsage || out.Len() != 0 {
		t.Fatalf("file: exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errOut.String(), "larger than 4096 bytes") {
		t.Fatalf("stderr %q", errOut)
	}
	// At the bound, still read.
	maxConvertInput = 5000 + len(vectorKey(t, "k01.pub"))
	ios, out, errOut = TestIO("")
	if code := Run(ios, []string{"convert", big}); code != ExitOK || out.Len() == 0 {
		t.Fatalf("at the bound: exit %d, stderr %q", code, errOut)
	}
}
