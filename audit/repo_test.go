package audit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/internal/testsops"
)

// testRepo is a real git repository whose sops files are written by the
// real sops, with identities the test holds.
type testRepo struct {
	t   testing.TB
	dir string
	ids map[string]*age.X25519Identity
}

// gitEnv is an environment without the user's git configuration.
func gitEnv(home string) []string {
	return []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.org",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.org",
		"GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z",
	}
}

func newTestRepo(t testing.TB, names ...string) *testRepo {
	t.Helper()
	r := &testRepo{t: t, dir: t.TempDir(), ids: map[string]*age.X25519Identity{}}
	for _, n := range names {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		r.ids[n] = id
	}
	r.git("-c", "init.defaultBranch=main", "init", "-q")
	// Repo's own commands run git without the test's environment: keep the
	// user's configuration out of them too.
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	return r
}

func (r *testRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = gitEnv(r.dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (r *testRepo) recipient(name string) string { return r.ids[name].Recipient().String() }

// config writes a .sops.yaml with one rule per path regex, each to the named
// recipients, naming them by anchor.
func (r *testRepo) config(rules ...[2]string) {
	r.t.Helper()
	var b strings.Builder
	b.WriteString("keys:\n")
	for _, n := range sortedNames(r.ids) {
		b.WriteString("  - &" + n + " " + r.recipient(n) + "\n")
	}
	b.WriteString("creation_rules:\n")
	for _, rule := range rules {
		b.WriteString("  - path_regex: " + rule[0] + "\n    key_groups:\n      - age:\n")
		for _, n := range strings.Fields(rule[1]) {
			b.WriteString("          - *" + n + "\n")
		}
	}
	r.write(".sops.yaml", b.String())
}

func sortedNames(m map[string]*age.X25519Identity) []string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			if names[j] < names[i] {
				names[i], names[j] = names[j], names[i]
			}
		}
	}
	return names
}

func (r *testRepo) write(path, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *testRepo) read(path string) string {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, path))
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}

// sops runs the real sops at the top of the repository with the identities
// of holders (every identity when none is named).
func (r *testRepo) sops(holders []string, args ...string) {
	r.t.Helper()
	if len(holders) == 0 {
		holders = sortedNames(r.ids)
	}
	var keys []string
	for _, n := range holders {
		keys = append(keys, r.ids[n].String())
	}
	if _, err := testsops.Run(r.dir, []string{"SOPS_AGE_KEY=" + strings.Join(keys, "\n")}, args...); err != nil {
		r.t.Fatalf("sops %s: %v", strings.Join(args, " "), err)
	}
}

// encrypt writes plain to path and encrypts it in place with sops.
func (r *testRepo) encrypt(path, plain string) {
	r.t.Helper()
	r.write(path, plain)
	r.sops(nil, "encrypt", "-i", path)
}

func (r *testRepo) commit(msg string) string {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", msg)
	return strings.TrimSpace(r.git("rev-parse", "HEAD"))
}
