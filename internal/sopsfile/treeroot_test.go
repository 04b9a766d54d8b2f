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

// TestGitTopLevelLinkIntoTree: a folder reached through a symbolic link to
// a folder inside a work tree (~/secrets → ~/src/infra/secrets) has no
// folder above it that is the top level. Climbing from the link's spelling
// as many levels as the top is above the target (../ from secrets) lands
// in the link's own parent (~), an unrelated folder that recipients remove
// then walked as "the git top level", editing the other .sops.yaml files
// and rotating the sops files found there. The tree is the link itself.
func TestGitTopLevelLinkIntoTree(t *testing.T) {
	for _, v := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM"} {
		if _, ok := os.LookupEnv(v); ok {
			t.Setenv(v, "")
			os.Unsetenv(v)
		}
	}
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(base, "src", "infra")
	for _, d := range []string{filepath.Join(repo, ".git"), filepath.Join(repo, "secrets", "prod"), filepath.Join(base, "home", "other")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(repo, ".git", "HEAD"), []byte("ref: refs/heads/main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "home", "secrets")
	if err := os.Symlink(filepath.Join(repo, "secrets"), link); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{
		link:                           link,
		filepath.Join(link, "prod"):    link,
		filepath.Join(repo, "secrets"): repo,
	} {
		got, ok := gitTopLevel(dir)
		if !ok || got != want {
			t.Errorf("%s: top level %q (%v), want %q", dir, got, ok, want)
		}
	}
	// Through a link to the top level itself, the top is spelled with it.
	top := filepath.Join(base, "home", "infra")
	if err := os.Symlink(repo, top); err != nil {
		t.Fatal(err)
	}
	if got, ok := gitTopLevel(filepath.Join(top, "secrets", "prod")); !ok || got != top {
		t.Errorf("through %s: top level %q (%v), want %q", top, got, ok, top)
	}
}
