package cli

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sopsfleet/sopsfleet/recipients"
	"github.com/sopsfleet/sopsfleet/rekey"
)

// scanned is what check and report share: the config and the scan.
type scanned struct {
	Config      *recipients.Config
	ConfigShown string // the config's display path
	Result      *rekey.ScanResult
}

// scanRepo loads .sops.yaml and scans paths (default: the config's folder,
// recursively), reading metadata only. A missing or invalid config, or a
// path that does not exist, is a usage error (exit 2).
func scanRepo(g *globalOptions, paths []string, plaintext bool) (*scanned, error) {
	cfgPath, err := g.ConfigPath()
	if err != nil {
		return nil, usageErr(err)
	}
	cfg, err := recipients.LoadConfig(cfgPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usageErrorf("cannot read %q: no such file", cfgPath)
		}
		return nil, usageErr(err)
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, usageErrorf("%q: no such file or folder", p)
			}
			return nil, usageErr(err)
		}
	}
	// A changed .sops.yaml (pre-commit passes it among the changed files)
	// changes what every file should be encrypted to: check them all.
	for _, p := range paths {
		if absOr(p) == absOr(cfgPath) {
			paths = nil
			break
		}
	}
	cwd, _ := os.Getwd()
	display := func(abs string) string { return displayPath(cwd, abs) }
	res, err := rekey.Scan(rekey.ScanOptions{
		Config:    cfg,
		Paths:     paths,
		Plaintext: plaintext,
		Display:   display,
	})
	if err != nil {
		return nil, failErr(err)
	}
	return &scanned{Config: cfg, ConfigShown: display(absOr(cfgPath)), Result: res}, nil
}

// displayPath shows abs relative to the working directory when it is below
// it, with forward slashes; else as is.
func displayPath(cwd, abs string) string {
	if cwd != "" {
		if rel, err := filepath.Rel(cwd, abs); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return abs
}

func absOr(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
