package version

import (
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	old := Version
	t.Cleanup(func() { Version = old })

	Version = "v1.2.3"
	if got := String(); got != "v1.2.3" {
		t.Fatalf("String() = %q with Version set", got)
	}
	// Without ldflags: the toolchain's module version, or "(devel)".
	Version = ""
	if got := String(); got == "" || got == "v1.2.3" {
		t.Fatalf("String() = %q without Version", got)
	}
}

// TestReleaseLdflags builds a program with the -X flag of .goreleaser.yaml,
// so that a renamed package or variable breaks this test and not a release.
func TestReleaseLdflags(t *testing.T) {
	cfg, err := os.ReadFile("../../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`-X (\S+)=(\S*)\{\{ *\.Version *\}\}`).FindSubmatch(cfg)
	if m == nil {
		t.Fatal(".goreleaser.yaml sets no version with -X …={{ .Version }}")
	}
	symbol, prefix := string(m[1]), string(m[2])
	if want := "github.com/sopsfleet/sopsfleet/internal/version.Version"; symbol != want {
		t.Fatalf(".goreleaser.yaml sets %q, want %q", symbol, want)
	}
	// Versions read the same however the binary was built: "v1.2.3", as
	// the Go toolchain records a module version.
	if prefix != "v" {
		t.Fatalf(".goreleaser.yaml sets the version to %q{{ .Version }}, want v{{ .Version }} (goreleaser's .Version has no v)", prefix)
	}

	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build with")
	}
	exe := filepath.Join(t.TempDir(), "printversion")
	build := exec.Command(gobin, "build", "-o", exe, "-ldflags", "-X "+symbol+"=v9.9.9", "./testdata/printversion")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(exe).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != "v9.9.9" {
		t.Fatalf("built with -X %s=v9.9.9, prints %q", symbol, got)
	}
}

// Without ldflags, the version comes from build info: the module version
// when the toolchain recorded one, else the commit, never a bare "(devel)"
// when the commit is known.
func TestFromBuildInfo(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	const rev = "5fce42b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6"
	for _, tc := range []struct {
		main     string
		settings []debug.BuildSetting
		want     string
	}{
		{"v1.2.3", vcs("vcs.revision", rev), "v1.2.3"},
		{"v0.0.0-20261202014436-5fce42b0c1d2+dirty", nil, "v0.0.0-20261202014436-5fce42b0c1d2+dirty"},
		{"(devel)", vcs("vcs.revision", rev, "vcs.modified", "false"), "(devel) 5fce42b"},
		{"(devel)", vcs("vcs.revision", rev, "vcs.modified", "true"), "(devel) 5fce42b+dirty"},
		{"", vcs("vcs.revision", "abc"), "(devel) abc"},
		{"(devel)", vcs("vcs", "git"), "(devel)"},
		{"", nil, "(devel)"},
	} {
		info := &debug.BuildInfo{Main: debug.Module{Version: tc.main}, Settings: tc.settings}
		if got := fromBuildInfo(info); got != tc.want {
			t.Errorf("fromBuildInfo(%q, %v) = %q, want %q", tc.main, tc.settings, got, tc.want)
		}
	}
}

// A binary built from a git work tree without ldflags names its module
// version or its commit.
func TestBuildFromWorkTree(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build with")
	}
	exe := filepath.Join(t.TempDir(), "printversion")
	build := exec.Command(gobin, "build", "-buildvcs=auto", "-o", exe, "./testdata/printversion")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	info, err := buildinfo.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	want := fromBuildInfo(info)
	if want == devel {
		t.Skip("the toolchain recorded neither a module version nor a commit (not a git checkout, or a git worktree)")
	}
	out, err := exec.Command(exe).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("prints %q, want %q", got, want)
	}
}
