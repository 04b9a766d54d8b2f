package rekey

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
)

// treeRoot returns the tree a config change searches for sops files: the
// git top level of the config's folder dir when there is one (git
// rev-parse --show-toplevel), else dir itself. The top level is spelled
// from dir (git prints it with symbolic links resolved), so that paths
// under it stay comparable with the config's folder.
func treeRoot(ctx context.Context, dir string) (string, RootKind) {
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err == nil {
		top := strings.TrimRight(string(out), "\r\n")
		if top != "" && filepath.IsAbs(top) {
			if real, err := filepath.EvalSymlinks(dir); err == nil {
				if rel, err := filepath.Rel(real, filepath.Clean(top)); err == nil {
					return filepath.Join(dir, rel), RootGit
				}
			}
			return filepath.Clean(top), RootGit
		}
	}
	return dir, RootConfig
}
