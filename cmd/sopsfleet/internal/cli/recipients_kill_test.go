//go:build unix

package cli

import (
	"bytes"
	"errors"
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
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/internal/testsops"
)

// TestRecipientsRemoveKilledAtAnyMoment SIGKILLs `recipients remove` (with
// rotation) at moments spread over the second half of a run and past it, on a tree of 320 files, then
// runs the same command again. After the kill every file is its old content
// or a finished new one, and .sops.yaml is new only if every file is; after
// the re-run every file decrypts for the admin and none for the removed
// key, no temporary file is left, and .sops.yaml no longer lists the key.
func TestRecipientsRemoveKilledAtAnyMoment(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real sops and many processes")
	}
	signalRemove(t, syscall.SIGKILL, 5)
}

// TestRecipientsRemoveInterrupted sends SIGINT instead: the run stops
// between files, leaves no temporary file, and says how to finish.
func TestRecipientsRemoveInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real sops and many processes")
	}
	signalRemove(t, syscall.SIGINT, 2)
}

func signalRemove(t *testing.T, sig syscall.Signal, iterations int) {
	admin, web1 := killKey(t), killKey(t)
	both := admin.Recipient().String() + "," + web1.Recipient().String()
	plains := map[string]string{
		"a.yaml": "db:\n    password: hunter2\n",
		"b.json": "{\n    \"token\": \"t0ken\"\n}\n",
		"c.env":  "API_KEY=k3y\n",
		"d.ini":  "[smtp]\npassword = hunter2\n",
	}
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "empty.yaml"), nil, 0o644)
	old := map[string][]byte{}
	for name, plain := range plains {
		if err := os.WriteFile(filepath.Join(work, name), []byte(plain), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := testsops.Run(work, nil, "--config", "empty.yaml", "encrypt", "--age", both, name)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = out
	}
	config := fmt.Sprintf("keys:\n  - &admin %s\n  - &web1 %s\ncreation_rules:\n  - key_groups:\n      - age:\n          - *admin\n          - *web1\n",
		admin.Recipient(), web1.Recipient())
	const folders, perFolder = 4, 20 // 4 × 20 × 4 = 320 files
	build := func(dir string) map[string]string {
		files := map[string]string{} // path → template name
		os.WriteFile(filepath.Join(dir, ".sops.yaml"), []byte(config), 0o644)
		os.WriteFile(filepath.Join(dir, "admin.txt"), []byte(admin.String()+"\n"), 0o600)
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
	run := func(dir string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestUpdatekeysKillChild$")
		cmd.Dir = dir
		cmd.Env = []string{
			killChildEnv + "=" + strings.Join([]string{"recipients", "remove", "web1", "-j", "2"}, "\n"),
			"HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "PATH=" + os.Getenv("PATH"),
			"SOPS_AGE_KEY_FILE=" + filepath.Join(dir, "admin.txt"),
		}
		return cmd
	}
	adminOpener := sopsfile.NewOpener([]age.Identity{admin})
	web1Opener := sopsfile.NewOpener([]age.Identity{web1})
	web1ID := []byte(web1.Recipient().String())
	// done reports whether p is a finished new file: web1 gone, and the
	// admin opens it and its mac checks; web1's key opens nothing.
	done := func(p string, b []byte) error {
		if bytes.Contains(b, web1ID) {
			return errors.New("still lists web1")
		}
		f, err := sopsfile.Parse(p, b)
		if err != nil {
			return err
		}
		key, err := adminOpener.OpenDataKey(f, b)
		if err != nil {
			return fmt.Errorf("the admin cannot open it: %v", err)
		}
		if err := adminOpener.VerifyMAC(f, b, key); err != nil {
			return err
		}
		if _, err := web1Opener.OpenDataKey(f, b); !errors.Is(err, sopsfile.ErrNoIdentity) {
			return fmt.Errorf("web1 still opens it (%v)", err)
		}
		return nil
	}

	ref := t.TempDir()
	build(ref)
	start := time.Now()
	if out, err := run(ref).CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	whole := time.Since(start)
	t.Logf("a whole run of %d files takes %v", folders*perFolder*len(plains), whole)

	for it := range iterations {
		dir := t.TempDir()
		files := build(dir)
		cmd := run(dir)
		// From half-way (most of a run is preparing; the writes come
		// last) to past the end of a run.
		after := whole * time.Duration(2*(iterations-1)+3*it) / time.Duration(4*(iterations-1)) // ½ to 1¼ of a run
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(after)
		cmd.Process.Signal(sig)
		runErr := cmd.Wait()
		if sig != syscall.SIGKILL {
			// Stopped cleanly: no temporary file, and if it did not
			// finish, the command that does.
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && atomicfile.IsTemp(p) {
					t.Errorf("iteration %d: temporary file %s left after %v", it, p, sig)
				}
				return nil
			})
			if runErr != nil && !bytes.Contains(stderr.Bytes(), []byte("run the same command again")) {
				t.Errorf("iteration %d: stopped by %v without saying how to finish:\n%s", it, sig, stderr.Bytes())
			}
		}

		nOld, nNew := 0, 0
		for p, name := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatalf("iteration %d: %v", it, err)
			}
			if bytes.Equal(b, old[name]) {
				nOld++
				continue
			}
			if err := done(p, b); err != nil {
				t.Fatalf("iteration %d: %s is neither its old content nor finished: %v", it, p, err)
			}
			nNew++
		}
		cfg, _ := os.ReadFile(filepath.Join(dir, ".sops.yaml"))
		configNew := !bytes.Contains(cfg, web1ID)
		if configNew && nOld > 0 {
			t.Fatalf("iteration %d: .sops.yaml was written while %d files still hold web1", it, nOld)
		}
		t.Logf("iteration %d: killed after %v: %d old, %d new, .sops.yaml new: %v", it, after, nOld, nNew, configNew)

		// The same command again finishes the job (or, when the kill came
		// after .sops.yaml was written, finds nothing left to remove).
		out, err := run(dir).CombinedOutput()
		switch {
		case configNew:
			if err == nil || !bytes.Contains(out, []byte("web1")) {
				t.Fatalf("iteration %d: re-run after a finished change: %v\n%s", it, err, out)
			}
		case err != nil:
			t.Fatalf("iteration %d: re-run: %v\n%s", it, err, out)
		}
		for p := range files {
			b, _ := os.ReadFile(p)
			if err := done(p, b); err != nil {
				t.Fatalf("iteration %d: %s after the re-run: %v", it, p, err)
			}
		}
		if cfg, _ := os.ReadFile(filepath.Join(dir, ".sops.yaml")); bytes.Contains(cfg, web1ID) {
			t.Fatalf("iteration %d: .sops.yaml still lists web1 after the re-run", it)
		}
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && atomicfile.IsTemp(p) {
				t.Errorf("iteration %d: temporary file %s left after the re-run", it, p)
			}
			return nil
		})
		if it == iterations/2 {
			// The real sops agrees, on one file of each format.
			for name := range plains {
				p := filepath.Join(dir, "team0", "s000-"+name)
				if _, err := testsops.Run(dir, []string{"SOPS_AGE_KEY_FILE=" + filepath.Join(dir, "admin.txt")}, "decrypt", p); err != nil {
					t.Errorf("sops -d as the admin: %v", err)
				}
				os.WriteFile(filepath.Join(dir, "web1.txt"), []byte(web1.String()+"\n"), 0o600)
				if _, err := testsops.Run(dir, []string{"SOPS_AGE_KEY_FILE=" + filepath.Join(dir, "web1.txt")}, "decrypt", p); err == nil {
					t.Errorf("sops -d as web1 opens %s", p)
				}
			}
		}
	}
}
