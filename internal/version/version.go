// Package version reports the sopsfleet version.
//
// Release builds set [Version] with
//
//	-ldflags "-X github.com/sopsfleet/sopsfleet/internal/version.Version=v1.2.3"
//
// Other builds fall back to the module version recorded by the Go toolchain
// (go install …@v1.2.3), and to "(devel)" for a build from a work tree.
package version

import "runtime/debug"

// Version is set at link time by release builds.
var Version = ""

// String returns the version of this binary.
func String() string {
	if Version != "" {
		return Version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
