package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sopsfleet/sopsfleet/internal/secretguard"
	"github.com/sopsfleet/sopsfleet/internal/secretguard/guardtest"
)

// commandPaths lists every command of the tree (hidden ones too, and
// cobra's own help and completion commands) as argument paths, with the
// flags each one accepts (its own and the inherited ones).
func commandPaths(t *testing.T) map[string][]*pflag.Flag {
	t.Helper()
	ios, _, _ := TestIO("")
	root := newRootCmd(ios)
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	paths := map[string][]*pflag.Flag{}
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		var flags []*pflag.Flag
		seen := map[string]bool{}
		for _, fs := range []*pflag.FlagSet{c.LocalFlags(), c.InheritedFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if !seen[f.Name] {
					seen[f.Name] = true
					flags = append(flags, f)
				}
			})
		}
		paths[strings.Join(path, " ")] = flags
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(root, nil)
	if len(paths) < 10 {
		t.Fatalf("only %d commands found: %v", len(paths), paths)
	}
	return paths
}

// guardRuns are the command lines that plant key in every argument
// position and as the value of every flag of the command at path.
func guardRuns(path string, flags []*pflag.Flag, key string) [][]string {
	base := strings.Fields(path)
	var runs [][]string
	// Every position: before, between and after the command words, and
	// after some ordinary arguments.
	for p := 0; p <= len(base); p++ {
		args := append(append(append([]string(nil), base[:p]...), key), base[p:]...)
		runs = append(runs, args)
	}
	for n := 1; n <= 3; n++ {
		args := append([]string(nil), base...)
		for i := 0; i < n; i++ {
			args = append(args, fmt.Sprintf("arg%d", i))
		}
		runs = append(runs, append(args, key), append(append(append([]string(nil), base...), key), args[len(base):]...))
	}
	runs = append(runs, append(append([]string(nil), base...), "--", key))
	for _, f := range flags {
		with := func(a ...string) []string { return append(append([]string(nil), base...), a...) }
		runs = append(runs,
			with("--"+f.Name, key),
			with("--"+f.Name+"="+key),
			with("--"+key),
		)
		if f.Shorthand != "" {
			runs = append(runs, with("-"+f.Shorthand, key), with("-"+f.Shorthand+key), with("-"+f.Shorthand+"="+key))
		}
	}
	return runs
}

// failReader fails the test when a command reads standard input: a
// refused command line must not get that far.
type failReader struct {
	mu   sync.Mutex
	read bool
}

func (r *failReader) Read([]byte) (int, error) {
	r.mu.Lock()
	r.read = true
	r.mu.Unlock()
	return 0, io.EOF
}

// TestNoPrivateKeyEchoed runs every command with a planted private key in
// every argument position and as every flag's value: each run is refused
// with exit 2 and the guard's message, before any command code runs (no
// environment variable read but NO_COLOR, no standard input read, so no
// file opened and no host name resolved), and no part of the key appears
// on stdout or stderr.
func TestNoPrivateKeyEchoed(t *testing.T) {
	keys := guardtest.Keys(t)
	paths := commandPaths(t)
	names := make([]string, 0, len(paths))
	for p := range paths {
		names = append(names, p)
	}
	sort.Strings(names)
	runs := 0
	for _, k := range keys {
		for _, path := range names {
			for _, args := range guardRuns(path, paths[path], k.Text) {
				runs++
				if path == "keyscan" {
					// Were the guard to fail, no host lookup hangs the test.
					for i, a := range args {
						if a == "keyscan" {
							args = append(append(append([]string(nil), args[:i+1]...), "--timeout=1s"), args[i+1:]...)
							break
						}
					}
				}
				ios, out, errOut := TestIO("")
				in := &failReader{}
				ios.In = in
				var env []string
				ios.Getenv = func(name string) string {
					env = append(env, name)
					return ""
				}
				code := Run(ios, args)
				label := fmt.Sprintf("%s: sopsfleet %s", k.Name, strings.ReplaceAll(strings.Join(args, " "), k.Text, "KEY"))
				if leaks := guardtest.Leaks(out.String()+errOut.String(), keys, nil); len(leaks) > 0 {
					t.Errorf("%s: output shows %v:\n%s%s", label, leaks, out, errOut)
					continue
				}
				if code != ExitUsage || !strings.Contains(errOut.String(), ": "+secretguard.Refusal+"\n") || out.Len() != 0 {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and the refusal", label, code, out, errOut)
				}
				if len(env) > 1 || (len(env) == 1 && env[0] != "NO_COLOR") || in.read {
					t.Errorf("%s: command code ran before the refusal (env read %q, stdin read %v)", label, env, in.read)
				}
			}
		}
	}
	t.Logf("%d command lines over %d commands", runs, len(paths))
}

// The refusal names the flag or the position, never the value.
func TestRefusalNamesWhere(t *testing.T) {
	k := guardtest.Keys(t)[0].Text
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"updatekeys", "-i", k}, "sopsfleet: error: -i/--identity: " + secretguard.Refusal},
		{[]string{"updatekeys", "--identity=" + k}, "sopsfleet: error: -i/--identity: " + secretguard.Refusal},
		{[]string{"updatekeys", "-i" + k}, "sopsfleet: error: -i/--identity: " + secretguard.Refusal},
		{[]string{"recipients", "add", "web3", k}, "sopsfleet: error: argument 4: " + secretguard.Refusal},
		{[]string{"keyscan", k}, "sopsfleet: error: argument 2: " + secretguard.Refusal},
		{[]string{"report", "--recipient", k}, "sopsfleet: error: --recipient: " + secretguard.Refusal},
		{[]string{"--config", k, "check"}, "sopsfleet: error: --config: " + secretguard.Refusal},
		{[]string{"check", "--strict", k}, "sopsfleet: error: argument 3: " + secretguard.Refusal},
		{[]string{"__complete", "recipients", "add", k}, "sopsfleet: error: argument 4: " + secretguard.Refusal},
		{[]string{"keyscan", "--timeout=100ms", "--labels", k}, "sopsfleet: error: argument 4: " + secretguard.Refusal},
	} {
		ios, _, errOut := TestIO("")
		if code := Run(ios, tc.args); code != ExitUsage {
			t.Errorf("%v: exit %d", tc.args[:len(tc.args)-1], code)
		}
		if first, _, _ := strings.Cut(errOut.String(), "\n"); first != tc.want {
			t.Errorf("%v: stderr %q, want %q", tc.args[:len(tc.args)-1], errOut, tc.want)
		}
	}
}

// Every message printed through IOStreams is redacted, whatever its source.
func TestMessagesRedacted(t *testing.T) {
	k := guardtest.Keys(t)
	ios, _, errOut := TestIO("")
	for _, key := range k {
		ios.Errorf("open %s: no such file or directory", key.Text)
		ios.Warnf("%s", key.Text)
		ios.Hintf("%q", key.Text)
		ios.Infof("x %s", key.Text)
		ios.Alertf("x %s", key.Text)
	}
	if leaks := guardtest.Leaks(errOut.String(), k, nil); len(leaks) > 0 {
		t.Fatalf("printed %v:\n%s", leaks, errOut)
	}
	if n := strings.Count(errOut.String(), secretguard.Placeholder); n != 5*len(k) {
		t.Fatalf("%d placeholders, want %d:\n%s", n, 5*len(k), errOut)
	}
}

// Standard output goes through the guard line by line, however it is
// written; a last line without newline is flushed.
func TestRedactingWriter(t *testing.T) {
	keys := guardtest.Keys(t)
	for _, k := range keys {
		var buf strings.Builder
		w := &redactingWriter{w: &buf}
		text := "a\n" + k.Text + "\nb\nlast"
		for i := 0; i < len(text); i += 7 {
			if _, err := w.Write([]byte(text[i:min(i+7, len(text))])); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.flush(); err != nil {
			t.Fatal(err)
		}
		got := buf.String()
		if leaks := guardtest.Leaks(got, keys, nil); len(leaks) > 0 {
			t.Errorf("%s: stdout shows %v: %q", k.Name, leaks, got)
		}
		if !strings.HasPrefix(got, "a\n") || !strings.HasSuffix(got, "\nb\nlast") || !strings.Contains(got, secretguard.Placeholder) {
			t.Errorf("%s: %q", k.Name, got)
		}
	}
}

// Writes to standard error that bypass the message helpers are redacted
// too, one write at a time, and unbuffered.
func TestRedactEachWrite(t *testing.T) {
	keys := guardtest.Keys(t)
	var buf strings.Builder
	w := redactEachWrite{w: &buf}
	for _, k := range keys {
		fmt.Fprintf(w, "  %s: %s\n", "file", k.Text)
	}
	fmt.Fprintf(w, "Enter passphrase for %s: ", "id")
	got := buf.String()
	if leaks := guardtest.Leaks(got, keys, nil); len(leaks) > 0 {
		t.Fatalf("stderr shows %v: %q", leaks, got)
	}
	if !strings.HasSuffix(got, "Enter passphrase for id: ") {
		t.Fatalf("prompt held back: %q", got)
	}
}

// convert --private-key prints an age identity by design: its standard
// output is not redacted, however the command line is written; any other
// command's is.
func TestConvertOutputNotRedacted(t *testing.T) {
	dir := t.TempDir()
	key := writeTemp(t, dir, "k01", vectorKey(t, "k01"), 0o600)
	want := vectorExpected(t, "k01", "private") + "\n"
	for _, args := range [][]string{
		{"convert", "--private-key", key},
		{"--no-color", "--config", filepath.Join(dir, "none.yaml"), "convert", "--private-key", key},
		{"-q", "convert", "--private-key", key},
	} {
		ios, out, errOut := TestIO("")
		if code := Run(ios, args); code != ExitOK || out.String() != want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}
