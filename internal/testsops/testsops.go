// Package testsops gives tests the real sops, the version pinned in go.mod:
// built once per machine (not once per test binary) into a cache folder keyed
// by the hash of go.sum, under a lock so that test binaries run in parallel
// by `go test ./...` do not build it at the same time, and run with an
// environment the test chooses.
//
// It is test support only: nothing outside tests imports it.
package testsops

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Package is the import path of the sops command, as go.mod pins it.
const Package = "github.com/getsops/sops/v3/cmd/sops"

var (
	once    sync.Once
	binPath string
	binErr  error
)

// Bin returns the path of the pinned sops binary, building it the first
// time on this machine (about two minutes) and reusing it afterwards until
// go.sum changes.
func Bin() (string, error) {
	once.Do(func() { binPath, binErr = build() })
	return binPath, binErr
}

func build() (string, error) {
	root, sum, err := moduleRoot()
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(sum)
	dir, err := cacheDir()
	if err != nil {
		return "", err
	}
	key := hex.EncodeToString(h[:8])
	if err := os.MkdirAll(filepath.Join(dir, key), 0o755); err != nil {
		// A read-only home (some CI sandboxes): the temporary folder.
		dir = tempCacheDir()
		if err := os.MkdirAll(filepath.Join(dir, key), 0o755); err != nil {
			return "", err
		}
	}
	dir = filepath.Join(dir, key)
	bin := filepath.Join(dir, "sops")
	if ok(bin) {
		return bin, nil
	}
	unlock, err := lock(filepath.Join(dir, "lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if ok(bin) { // built by another process while we waited
		return bin, nil
	}
	tmp := bin + ".tmp"
	if err := goBuild(root, tmp); err != nil {
		os.Remove(tmp)
		return "", err
	}
	// The rename makes the binary appear whole or not at all.
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// goBuild builds the pinned sops into out (a variable for the tests).
var goBuild = func(root, out string) error {
	cmd := exec.Command("go", "build", "-o", out, Package)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build sops: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func ok(bin string) bool {
	st, err := os.Stat(bin)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// cacheDir is $SOPSFLEET_TESTSOPS_CACHE, else the user cache folder, else
// the temporary folder.
func cacheDir() (string, error) {
	if d := os.Getenv("SOPSFLEET_TESTSOPS_CACHE"); d != "" {
		return d, nil
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "sopsfleet-testsops"), nil
	}
	return tempCacheDir(), nil
}

// tempCacheDir is the cache folder of last resort (a variable for the
// tests).
var tempCacheDir = func() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("sopsfleet-testsops-%d", os.Getuid()))
}

// moduleRoot finds the folder of go.mod from the working folder (a test
// runs in its package's folder) and returns it with go.sum's content.
func moduleRoot() (string, []byte, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", nil, err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
			return dir, sum, err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil, errors.New("testsops: no go.mod above the working folder")
		}
		dir = parent
	}
}

// Error is a failed run of sops, with its standard error.
type Error struct {
	Args   []string
	Err    error
	Stderr string
}

func (e *Error) Error() string {
	return fmt.Sprintf("sops %s: %v: %s", strings.Join(e.Args, " "), e.Err, strings.TrimSpace(e.Stderr))
}

// Run runs sops in dir with args and only the environment env, on top of
// HOME and XDG_CONFIG_HOME set to dir (so that no user key or config leaks
// in), PATH, and SOPS_DISABLE_VERSION_CHECK. It returns standard output; a
// failure is an [*Error] holding standard error.
func Run(dir string, env []string, args ...string) ([]byte, error) {
	return RunInput(dir, env, nil, args...)
}

// RunInput is [Run] with stdin as standard input.
func RunInput(dir string, env []string, stdin []byte, args ...string) ([]byte, error) {
	cmd, err := Command(dir, env, args...)
	if err != nil {
		return nil, err
	}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, &Error{Args: args, Err: err, Stderr: stderr.String()}
	}
	return out, nil
}

// Command returns the command [Run] runs, for callers that need its
// standard error on success too.
func Command(dir string, env []string, args ...string) (*exec.Cmd, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{
		"HOME=" + dir,
		"XDG_CONFIG_HOME=" + dir,
		"PATH=" + os.Getenv("PATH"),
		"SOPS_DISABLE_VERSION_CHECK=1",
	}, env...)
	return cmd, nil
}
