// Package version reports the sopsfleet version.
//
// Release builds set [Version] with
//
//	-ldflags "-X github.com/sopsfleet/sopsfleet/internal/version.Version=v1.2.3"
//
// Other builds fall back to what the Go toolchain recorded: the module
// version (go install …@v1.2.3, or the pseudo-version go build stamps from
// the work tree's commit, such as v0.0.0-20261202014436-5fce42b1a2b3+dirty),
// else "(devel)" followed by the commit (vcs.revision, short) and "+dirty"
// when the work tree had changes (vcs.modified), as in "(devel) 5fce42b".
package version

import "runtime/debug"

// Version is set at link time by release builds.
var Version = ""

// String returns the version of this binary.
func String() string {
	if Version != "" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return devel
	}
	return fromBuildInfo(info)
}

const devel = "(devel)"

// fromBuildInfo is the version recorded in info.
func fromBuildInfo(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != devel {
		return v
	}
	revision, modified := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if revision == "" {
		return devel
	}
	if len(revision) > 7 {
		revision = revision[:7]
	}
	if modified {
		revision += "+dirty"
	}
	return devel + " " + revision
}
