package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sopsfleet/sopsfleet/cmd/sopsfleet/internal/cli"
)

// env returns a getenv that knows only SOURCE_DATE_EPOCH (unset when epoch
// is empty).
func env(epoch string) func(string) string {
	return func(k string) string {
		if k == "SOURCE_DATE_EPOCH" {
			return epoch
		}
		return ""
	}
}

// generate runs the generator into a fresh folder and returns it.
func generate(t *testing.T, epoch string, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "build")
	var stderr bytes.Buffer
	if code := run(append([]string{"-out", dir}, args...), env(epoch), &stderr); code != 0 {
		t.Fatalf("gendocs exit %d: %s", code, stderr.String())
	}
	return dir
}

// readTree maps every file below dir (slash-separated relative path) to its
// content.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// Every command of the Markdown reference gets a man page, and every page
// carries the month of SOURCE_DATE_EPOCH (UTC) and the given version.
func TestManPagePerCommandDatedFromEpoch(t *testing.T) {
	// 1700000000 is 2023-11-14T22:13:20Z.
	dir := generate(t, "1700000000", "-version", "v1.2.3")
	ref, err := cli.GenerateReference()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for name := range ref {
		want = append(want, "man/"+strings.ReplaceAll(strings.TrimSuffix(name, ".md"), "_", "-")+".1")
	}
	sort.Strings(want)
	files := readTree(t, dir)
	var got []string
	for name := range files {
		if strings.HasPrefix(name, "man/") {
			got = append(got, name)
		}
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("man pages:\n  %s\nwant one per command:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for _, name := range got {
		page := files[name]
		cmd := strings.TrimSuffix(strings.TrimPrefix(name, "man/"), ".1")
		th := `.TH "` + strings.ToUpper(cmd) + `" "1" "Nov 2023" "sopsfleet v1.2.3" "sopsfleet manual"` + "\n"
		if !strings.Contains(page, th) {
			t.Errorf("%s has no header %q:\n%.300s", name, th, page)
		}
		if !strings.Contains(page, ".SH NAME\n"+cmd+" - ") {
			t.Errorf("%s does not name %s", name, cmd)
		}
		if strings.Contains(page, "Auto generated") {
			t.Errorf("%s has cobra's generated-on footer", name)
		}
	}
	if !strings.Contains(files["man/sopsfleet-recipients.1"], `\fBsopsfleet-recipients-add(1)\fP`) {
		t.Errorf("sopsfleet-recipients.1 does not point to its subcommands:\n%s", files["man/sopsfleet-recipients.1"])
	}
}

// The same epoch gives the same bytes; the date is the only thing another
// epoch changes, and it follows UTC, not the local zone.
func TestManPagesDeterministic(t *testing.T) {
	a := readTree(t, generate(t, "1700000000", "-version", "v1.2.3"))
	b := readTree(t, generate(t, "1700000000", "-version", "v1.2.3"))
	if len(a) == 0 {
		t.Fatal("nothing generated")
	}
	for name, content := range a {
		if b[name] != content {
			t.Errorf("%s differs between two runs with the same SOURCE_DATE_EPOCH", name)
		}
	}
	if len(a) != len(b) {
		t.Errorf("%d files, then %d", len(a), len(b))
	}
	// 1704067199 is 2023-12-31T23:59:59Z: already January 2024 in a zone
	// east of UTC, which the pages must not follow.
	local := time.Local
	time.Local = time.FixedZone("UTC+1", 3600)
	t.Cleanup(func() { time.Local = local })
	c := readTree(t, generate(t, "1704067199", "-version", "v1.2.3"))
	for name, content := range a {
		if !strings.HasPrefix(name, "man/") {
			continue
		}
		want := strings.Replace(content, `"1" "Nov 2023"`, `"1" "Dec 2023"`, 1)
		if c[name] != want {
			t.Errorf("%s with another epoch: not just the date changed:\n%.300s", name, c[name])
		}
	}
}

// The completion scripts are the ones cobra generates for sopsfleet, each
// under the name its shell loads.
func TestCompletionScripts(t *testing.T) {
	files := readTree(t, generate(t, "1700000000"))
	markers := map[string]string{
		"completions/sopsfleet.bash": "complete -o default -F __start_sopsfleet sopsfleet",
		"completions/_sopsfleet":     "#compdef sopsfleet",
		"completions/sopsfleet.fish": "complete -c sopsfleet ",
	}
	for name, marker := range markers {
		script, ok := files[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if !strings.Contains(script, marker) {
			t.Errorf("%s lacks %q", name, marker)
		}
		if !strings.Contains(script, " __complete") {
			t.Errorf("%s does not ask sopsfleet for completions", name)
		}
	}
	for name := range files {
		if strings.HasPrefix(name, "completions/") {
			if _, ok := markers[name]; !ok {
				t.Errorf("unexpected completion file %s", name)
			}
		}
	}
}

// An unset or malformed SOURCE_DATE_EPOCH is an error that says what is
// wrong and how to fix it, and nothing is written.
func TestBadSourceDateEpoch(t *testing.T) {
	for _, tc := range []struct{ epoch, want string }{
		{"", "gendocs: error: SOURCE_DATE_EPOCH is not set"},
		{"soon", `gendocs: error: SOURCE_DATE_EPOCH "soon" is not a whole number of seconds`},
		{"-1", `gendocs: error: SOURCE_DATE_EPOCH "-1" is not a whole number of seconds`},
		{"1700000000.5", `gendocs: error: SOURCE_DATE_EPOCH "1700000000.5" is not a whole number of seconds`},
		{" 1700000000", `gendocs: error: SOURCE_DATE_EPOCH " 1700000000" is not a whole number of seconds`},
		{"253402300800", `gendocs: error: SOURCE_DATE_EPOCH "253402300800" is past the year 9999`},
		{"99999999999999999999", `gendocs: error: SOURCE_DATE_EPOCH "99999999999999999999" is past the year 9999`},
	} {
		dir := filepath.Join(t.TempDir(), "build")
		var stderr bytes.Buffer
		code := run([]string{"-out", dir}, env(tc.epoch), &stderr)
		if code != 1 {
			t.Errorf("SOURCE_DATE_EPOCH=%q: exit %d, want 1", tc.epoch, code)
		}
		lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], tc.want) || !strings.HasPrefix(lines[1], "gendocs: hint: ") {
			t.Errorf("SOURCE_DATE_EPOCH=%q: stderr %q, want an error starting %q and a hint", tc.epoch, stderr.String(), tc.want)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("SOURCE_DATE_EPOCH=%q: %s was created (%v)", tc.epoch, dir, err)
		}
	}
}

// The largest accepted epoch still gives a four-digit year.
func TestSourceDateLimits(t *testing.T) {
	for epoch, want := range map[string]string{
		"0":            "1970-01-01T00:00:00Z",
		"253402300799": "9999-12-31T23:59:59Z",
	} {
		got, err := sourceDate(epoch)
		if err != nil || got.Format("2006-01-02T15:04:05Z07:00") != want {
			t.Errorf("sourceDate(%q) = %v, %v; want %s", epoch, got, err, want)
		}
	}
}

// A second run replaces the pages, drops the page of a command that is gone
// and leaves files it does not own alone.
func TestRegenerateReplaces(t *testing.T) {
	dir := generate(t, "1700000000")
	gone := filepath.Join(dir, "man", "sopsfleet-gone.1")
	mine := filepath.Join(dir, "man", "README")
	edited := filepath.Join(dir, "man", "sopsfleet.1")
	for _, f := range []string{gone, mine, edited} {
		if err := os.WriteFile(f, []byte("stale\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var stderr bytes.Buffer
	if code := run([]string{"-out", dir}, env("1700000000"), &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Errorf("the page of a removed command survived: %v", err)
	}
	if b, err := os.ReadFile(mine); err != nil || string(b) != "stale\n" {
		t.Errorf("a file the generator does not own changed: %q, %v", b, err)
	}
	if b, err := os.ReadFile(edited); err != nil || !strings.Contains(string(b), ".TH \"SOPSFLEET\"") {
		t.Errorf("sopsfleet.1 not regenerated: %.100q, %v", b, err)
	}
}

// Flags are checked before anything is written; a stray argument is a
// usage error.
func TestUsage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "build")
	for _, args := range [][]string{{"-out", dir, "-bogus"}, {"-out", dir, "extra"}} {
		var stderr bytes.Buffer
		if code := run(args, env("1700000000"), &stderr); code != 2 {
			t.Errorf("gendocs %q: exit %d, want 2 (%s)", args, code, stderr.String())
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s was created (%v)", dir, err)
	}
}
