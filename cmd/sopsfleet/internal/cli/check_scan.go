package cli

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sopsfleet/sopsfleet/audit"
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// scanned is what check and report share: the config and the scan.
type scanned struct {
	Config      *recipients.Config // nil when none is at or above the working directory
	ConfigShown string             // the config's display path
	Result      *audit.ScanResult
	// PerFile is true when each file is governed by its nearest
	// .sops.yaml (no --config or SOPS_CONFIG).
	PerFile bool

	tc *treeConfigs
}

// scanRepo loads .sops.yaml and scans paths (default: the config's folder,
// recursively), reading metadata only. A missing or invalid config, a file
// that is not a .sops.yaml, or a path that does not exist, is a usage error
// (exit 2); with badRegexFails, so is an invalid path_regex (report cannot
// say which rule a file has; check reports it as a finding instead).
func scanRepo(g *globalOptions, paths []string, plaintext, badRegexFails bool) (*scanned, error) {
	sc, err := loadScanConfig(g, badRegexFails)
	if err != nil {
		return nil, err
	}
	return sc.scan(paths, plaintext)
}

// loadScanConfig is the first half of scanRepo: it loads and vets the
// config, reading nothing else.
func loadScanConfig(g *globalOptions, badRegexFails bool) (*scanned, error) {
	// Each file is governed by the nearest .sops.yaml at or above its
	// folder, unless --config or SOPS_CONFIG names one for all.
	tc, err := g.treeConfigs(func(cfgPath string) (*recipients.Config, error) {
		cfg, err := recipients.LoadConfig(cfgPath)
		if err != nil && errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("cannot read %q: no such file", cfgPath)
		}
		return cfg, err
	})
	if err != nil {
		return nil, usageErr(err)
	}
	cfgPath, cfg := tc.Path, tc.Config
	cwd, _ := os.Getwd()
	display := func(abs string) string { return displayPath(cwd, abs) }
	shown := ""
	if cfg != nil {
		shown = display(absOr(cfgPath))
		if err := notSopsConfig(shown, cfg); err != nil {
			return nil, usageErr(err)
		}
	}
	if badRegexFails && cfg != nil {
		for _, r := range cfg.Rules {
			if r.RegexErr != nil {
				line := cmp.Or(r.PathLine, r.Line)
				return nil, usageErrorf("%s:%d: creation rule %d: invalid path_regex %q: %s", shown, line, r.Index+1,
					r.PathRegex, strings.TrimPrefix(firstLine(r.RegexErr.Error()), "error parsing regexp: "))
			}
		}
	}
	return &scanned{Config: cfg, ConfigShown: shown, tc: tc}, nil
}

// scan is the second half of scanRepo: it scans paths (default: the
// config's folder) and sets sc.Result.
func (sc *scanned) scan(paths []string, plaintext bool) (*scanned, error) {
	cfg, cfgPath, tc := sc.Config, sc.tc.Path, sc.tc
	cwd, _ := os.Getwd()
	display := func(abs string) string { return displayPath(cwd, abs) }
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
		if cfgPath != "" && absOr(p) == absOr(cfgPath) {
			paths = nil
			break
		}
	}
	if len(paths) == 0 && cfg == nil {
		paths = []string{tc.DefaultRoot()}
	}
	// A changed nested .sops.yaml changes what the files it governs should
	// be encrypted to: its folder is checked.
	if tc.PerFile() != nil {
		for i, p := range paths {
			if filepath.Base(p) == configFileName {
				paths[i] = filepath.Dir(p)
			}
		}
	}
	opts := audit.ScanOptions{
		Config:    cfg,
		Paths:     paths,
		Plaintext: plaintext,
		Display:   display,
	}
	if set := tc.PerFile(); set != nil {
		// Each file is governed by its nearest .sops.yaml; sops run from
		// the repository root uses the one found from there.
		opts.Configs = set
		opts.Root = sopsfile.TreeRoot(tc.DefaultRoot())
		if rc, err := set.ForDir(opts.Root); err == nil {
			opts.RootConfig = rc
		}
	}
	res, err := audit.Scan(opts)
	if err != nil {
		return nil, failErr(err)
	}
	sc.Result = res
	sc.PerFile = opts.Configs != nil
	return sc, nil
}

// notSopsConfig reports a --config that names something other than a
// .sops.yaml: a sops-encrypted file, or YAML with none of the keys sops
// reads (linting it would only say "no creation_rules").
func notSopsConfig(shown string, cfg *recipients.Config) error {
	data := cfg.Data()
	path := cfg.Path
	if f, err := sopsfile.Parse(path, data); f != nil || (err != nil && !errors.Is(err, sopsfile.ErrNotEncrypted) &&
		bytes.Contains(data, []byte("ENC[AES256_GCM,"))) {
		return fmt.Errorf("%s is a sops-encrypted file, not a .sops.yaml: give the configuration with --config", shown)
	}
	if cfg.HasCreationRules() || filepath.Base(path) == ".sops.yaml" {
		return nil
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) == nil && len(doc.Content) > 0 && doc.Content[0].Kind == yaml.MappingNode {
		top := doc.Content[0].Content
		for i := 0; i+1 < len(top); i += 2 {
			switch top[i].Value {
			case "creation_rules", "destination_rules", "stores":
				return nil
			}
		}
	}
	return fmt.Errorf("%s is not a .sops.yaml: it has no creation_rules", shown)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
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
