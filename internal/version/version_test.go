package version

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
