package sopsfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGitTopLevelAsGit compares the search for the git top level with git
// rev-parse --show-toplevel itself in the layouts a repository can have: a
// plain folder, a repository and a folder deep in it, a linked worktree, a
// submodule-style .git file, a .git folder that is no repository (git
// looks further up), a .git file git cannot read (git fails), and a
// folder reached through a symbolic link.
func TestGitTopLevelAsGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	for _, v := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM"} {
		if _, ok := os.LookupEnv(v); ok {
			t.Setenv(v, "")
			os.Unsetenv(v)
		}
	}
	base := t.TempDir()
	git := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("git %v: %v: %s", args, err, out)
		}
	}
	mkdir := func(p string) string {
		t.Helper()
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	repo := mkdir(filepath.Join(base, "repo"))
	git(repo, "init", "-q")
	git(repo, "commit", "-q", "--allow-empty", "-m", "first")
	deep := mkdir(filepath.Join(repo, "deploy", "prod", "eu"))
	wt := filepath.Join(base, "wt")
	git(repo, "worktree", "add", "-q", wt)
	wtDeep := mkdir(filepath.Join(wt, "hosts"))
	notRepo := mkdir(filepath.Join(repo, "vendor", "x"))
	mkdir(filepath.Join(notRepo, ".git")) // no HEAD: not a repository
	broken := mkdir(filepath.Join(repo, "broken"))
	if err := os.WriteFile(filepath.Join(broken, ".git"), []byte("not a gitfile\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := mkdir(filepath.Join(repo, "modules", "sub"))
	if err := os.WriteFile(filepath.Join(sub, ".git"), []byte("gitdir: "+filepath.Join(repo, ".git")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(repo, link); err != nil {
		t.Fatal(err)
	}
	plain := mkdir(filepath.Join(base, "plain"))
	for _, dir := range []string{plain, repo, deep, wt, wtDeep, notRepo, broken, sub, filepath.Join(link, "deploy", "prod")} {
		gotTop, gotOK := gitTopLevel(dir)
		wantTop, wantOK := gitRevParse(dir)
		if gotTop != wantTop || gotOK != wantOK {
			t.Errorf("%s: top level %q (%v), git says %q (%v)", dir, gotTop, gotOK, wantTop, wantOK)
		}
	}
	// With a variable that changes git's search, git itself is asked.
	t.Setenv("GIT_CEILING_DIRECTORIES", repo)
	if top, ok := gitTopLevel(deep); ok {
		t.Errorf("GIT_CEILING_DIRECTORIES=%s: top level %q, want none (git's answer)", repo, top)
	}
}
