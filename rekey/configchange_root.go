package rekey

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
)

// treeRoot returns the tree a config change searches for sops files: the
// git top level of the config's folder dir when there is one (git
// rev-parse --show-toplevel), else dir itself.
func treeRoot(ctx context.Context, dir string) (string, RootKind) {
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err == nil {
		top := strings.TrimRight(string(out), "\r\n")
		if top != "" && filepath.IsAbs(top) {
			return filepath.Clean(top), RootGit
		}
	}
	return dir, RootConfig
}
