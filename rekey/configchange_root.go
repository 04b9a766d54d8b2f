package rekey

import (
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
)

// treeRoot returns the tree a config change searches for sops files: the
// git top level of the config's folder dir when there is one, else dir
// itself (see [sopsfile.FindTreeRoot]).
func treeRoot(dir string) (string, RootKind) {
	if root, git := sopsfile.FindTreeRoot(dir); git {
		return root, RootGit
	}
	return dir, RootConfig
}
