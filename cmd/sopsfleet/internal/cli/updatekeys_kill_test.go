//go:build unix

package cli

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
	"github.com/sopsfleet/sopsfleet/internal/testsops"
)

// killChildEnv makes the test binary run `sopsfleet ARGS…` (the real
// command-line entry point, cli.Main) instead of the tests: the args are
// the variable's value, split on newlines.
const killChildEnv = "SOPSFLEET_KILLTEST_ARGS"

func TestUpdatekeysKillChild(t *testing.T) {
	args := os.Getenv(killChildEnv)
	if args == "" {
		t.Skip("only run as the child of TestUpdatekeysKilledAtAnyMoment")
	}
	os.Exit(Main(strings.Split(args, "\n")))
}

// TestUpdatekeysKilledAtAnyMoment runs updatekeys on a repository of many
// files and SIGKILLs it at moments spread over a whole run: every file must
// then be byte for byte its old content or its new content, any temporary
// file left must be a hidden file of atomicfile's, and the next run must
// ignore those and finish the job.
func TestUpdatekeysKilledAtAnyMoment(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real sops and many processes")
	}
	alice, bob, carol := killKey(t), killKey(t), killKey(t)
	all := strings.Join([]string{alice.Recipient().String(), bob.Recipient().String(), carol.Recipient().String()}, ",")
	// Templates encrypted by the real sops to alice, bob and carol; the
	// config wants bob removed, which needs no identity and gives the same
	// new bytes every time, so "new" can be compared byte for byte.
	plains := map[string]string{
		"a.yaml": "db:\n    password: hunter2\n",
		"b.json": "{\n    \"token\": \"t0ken\"\n}\n",
		"c.env":  "API_KEY=k3y\n",
		"d.ini":  "[smtp]\npassword = hunter2\n",
	}
	work := t.TempDir()
	old := map[string][]byte{}
	for name, plain := range plains {
		if err := os.WriteFile(filepath.Join(work, name), []byte(plain), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := testsops.Run(work, nil, "encrypt", "--age", all, name)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = out
	}
	config := fmt.Sprintf("creation_rules:\n  - age: %s,%s\n", alice.Recipient(), carol.Recipient())
	const folders, perFolder = 6, 50 // 6 × 50 × 4 = 1,200 files
	build := func(dir string) map[string]string {
		files := map[string]string{} // path → template name
		os.WriteFile(filepath.Join(dir, ".sops.yaml"), []byte(config), 0o644)
		for d := range folders {
			sub := filepath.Join(dir, fmt.Sprintf("team%d", d))
			os.MkdirAll(sub, 0o755)
			for i := range perFolder {
				for name := range plains {
					p := filepath.Join(sub, fmt.Sprintf("s%03d-%s", i, name))
					if err := os.WriteFile(p, old[name], 0o600); err != nil {
						t.Fatal(err)
					}
					files[p] = name
				}
			}
		}
		return files
	}
	run := func(dir string, flags ...string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestUpdatekeysKillChild$")
		cmd.Dir = dir
		cmd.Env = []string{
			killChildEnv + "=" + strings.Join(append([]string{"updatekeys", "-j", "2"}, flags...), "\n"),
			"HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "PATH=" + os.Getenv("PATH"),
		}
		return cmd
	}

	// A whole run gives the new bytes, and how long a run takes.
	ref := t.TempDir()
	refFiles := build(ref)
	start := time.Now()
	if out, err := run(ref).CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	whole := time.Since(start)
	newer := map[string][]byte{}
	for p, name := range refFiles {
		b, _ := os.ReadFile(p)
		if prev, ok := newer[name]; ok && !bytes.Equal(prev, b) {
			t.Fatalf("%s: two copies of the same file got different new bytes", name)
		}
		newer[name] = b
	}
	for name := range plains {
		if bytes.Equal(newer[name], old[name]) || bytes.Contains(newer[name], []byte(bob.Recipient().String())) {
			t.Fatalf("%s: the reference run did not remove bob", name)
		}
	}
	t.Logf("a whole run of %d files takes %v", len(refFiles), whole)

	const iterations = 10
	for it := range iterations {
		dir := t.TempDir()
		files := build(dir)
		cmd := run(dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// From right after the start to past the end of a run.
		time.Sleep(whole * time.Duration(it) / (iterations - 2))
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		nOld, nNew := 0, 0
		for p, name := range files {
			b, err := os.ReadFile(p)
			switch {
			case err != nil:
				t.Fatalf("iteration %d: %v", it, err)
			case bytes.Equal(b, old[name]):
				nOld++
			case bytes.Equal(b, newer[name]):
				nNew++
			default:
				t.Fatalf("iteration %d: %s is neither its old nor its new content:\n%s", it, p, b)
			}
		}
		var temps []string
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && files[p] == "" && filepath.Base(p) != ".sops.yaml" {
				if !atomicfile.IsTemp(p) || !strings.HasPrefix(filepath.Base(p), ".") {
					t.Errorf("iteration %d: stray file %s is not a hidden temporary file", it, p)
				}
				temps = append(temps, p)
			}
			return nil
		})
		t.Logf("iteration %d: killed after %v: %d old, %d new, %d temporary files left",
			it, whole*time.Duration(it)/(iterations-2), nOld, nNew, len(temps))

		// The next run removes the leftovers, says so (they are never taken
		// for sops files of their own), and brings every file to its new
		// content.
		out, err := run(dir).CombinedOutput()
		if err != nil {
			t.Fatalf("iteration %d: run after the kill: %v\n%s", it, err, out)
		}
		for _, tmp := range temps {
			if _, err := os.Lstat(tmp); err == nil {
				t.Errorf("iteration %d: the next run left the temporary file %s", it, tmp)
			}
		}
		if len(temps) > 0 && !bytes.Contains(out, []byte(fmt.Sprintf("removed %d temporary file", len(temps)))) {
			t.Errorf("iteration %d: the next run does not say it removed %d temporary files:\n%s", it, len(temps), out)
		}
		for p, name := range files {
			if b, _ := os.ReadFile(p); !bytes.Equal(b, newer[name]) {
				t.Fatalf("iteration %d: %s not updated by the next run", it, p)
			}
		}
	}
}

func killKey(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}
