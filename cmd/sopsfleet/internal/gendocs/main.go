// Command gendocs writes the files a sopsfleet release archive carries
// beside the binary: a man page per command (man/*.1) and the bash, zsh and
// fish completion scripts (completions/), rendered from the cobra command
// tree. goreleaser runs it as a before hook (see .goreleaser.yaml and
// docs/releasing.md); by hand:
//
//	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) go run ./cmd/sopsfleet/internal/gendocs -out build
//
// # Reproducible
//
// The man pages are dated from SOURCE_DATE_EPOCH (seconds since 1970-01-01
// UTC; goreleaser passes the commit time), never from the clock, so the
// same commit always gives the same bytes. There is no fallback date: an
// unset or malformed SOURCE_DATE_EPOCH is an error and nothing is written.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/sopsfleet/sopsfleet/cmd/sopsfleet/internal/cli"
	"github.com/sopsfleet/sopsfleet/internal/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

// run is main without the process: it returns the exit code (0 ok, 1
// failure, 2 usage).
func run(args []string, getenv func(string) string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gendocs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "build", "folder to write man/ and completions/ into")
	ver := fs.String("version", "", "version named in the man pages' footer (default: this build's, e.g. (devel))")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "gendocs: error: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	date, err := sourceDate(getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		fmt.Fprintf(stderr, "gendocs: error: %v\n", err)
		fmt.Fprintf(stderr, "gendocs: hint: set it to the commit time: SOURCE_DATE_EPOCH=$(git log -1 --format=%%ct)\n")
		return 1
	}
	v := *ver
	if v == "" {
		v = version.String()
	}
	if err := cli.WriteReleaseFiles(*out, date, "sopsfleet "+v); err != nil {
		fmt.Fprintf(stderr, "gendocs: error: %v\n", err)
		return 1
	}
	return 0
}

// maxEpoch is the first second of the year 10000: a man page date has four
// digits of year.
const maxEpoch = 253402300800

// sourceDate parses SOURCE_DATE_EPOCH as the reproducible-builds
// specification defines it: a decimal count of seconds since 1970-01-01
// UTC, as "date +%s" prints it.
func sourceDate(epoch string) (time.Time, error) {
	if epoch == "" {
		return time.Time{}, errors.New("SOURCE_DATE_EPOCH is not set; the man pages are dated from it, not from the clock")
	}
	for _, r := range epoch {
		if r < '0' || r > '9' {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a whole number of seconds since 1970-01-01 UTC", epoch)
		}
	}
	n, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil || n >= maxEpoch {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is past the year 9999", epoch)
	}
	return time.Unix(n, 0).UTC(), nil
}
