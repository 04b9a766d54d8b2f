package cli

import (
	"strings"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
)

// warnSkippedLinks says that symbolic links to files outside the tree were
// skipped (never read or written through): one warning naming the link when
// there is one, else a count, with every link listed under -v/--verbose.
func warnSkippedLinks(g *globalOptions, root string, links []sopsfile.SkippedLink) {
	switch len(links) {
	case 0:
		return
	case 1:
		g.IO.Warnf("skipped %s: a symbolic link to a file outside the tree %s", ukDisplayPath(links[0].Path), root)
		return
	}
	g.IO.Warnf("skipped %d symbolic links to files outside the tree %s", len(links), root)
	if !g.IO.Verbose {
		g.IO.Hintf("-v/--verbose lists them")
		return
	}
	for _, l := range links {
		target := l.Target
		if target == "" {
			target = "(a target that cannot be resolved)"
		}
		g.IO.Verbosef("skipped %s → %s", ukDisplayPath(l.Path), target)
	}
}

// sayLeftovers says that temporary files a killed run left were removed:
// named when there are a few, else counted, with every one listed under
// -v/--verbose.
func sayLeftovers(ios *IOStreams, paths []string) {
	n := len(paths)
	switch {
	case n == 0:
		return
	case n <= 3:
		ios.Infof("removed %d temporary %s left by an interrupted run: %s", n, ukPlural(n, "file", "files"), strings.Join(ukDisplayPaths(paths), ", "))
		return
	}
	ios.Infof("removed %d temporary files left by an interrupted run", n)
	for _, p := range paths {
		ios.Verbosef("removed %s", ukDisplayPath(p))
	}
}
