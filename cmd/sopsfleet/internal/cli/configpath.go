package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// configFileName is the only name sops reads; ".sops.yml" is ignored by sops.
const configFileName = ".sops.yaml"

// errNoConfig reports that no .sops.yaml was found.
var errNoConfig = errors.New("no .sops.yaml found in this folder or any folder above it")

// findConfig returns the path of .sops.yaml as sops finds it: the --config
// flag, else SOPS_CONFIG, else the first .sops.yaml walking up from the
// working directory (at most 100 levels, like sops). A ".sops.yml" met on the
// way is reported through warn, as sops does, because sops ignores it.
func findConfig(flag string, getenv func(string) string, warn func(string, ...any)) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := getenv("SOPS_CONFIG"); env != "" {
		return env, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	alt := ""
	for i := 0; i < 100; i++ {
		p := filepath.Join(dir, configFileName)
		if _, err := os.Stat(p); err == nil {
			if alt != "" && warn != nil {
				warn("ignoring %q: sops only reads %q", alt, configFileName)
			}
			return p, nil
		}
		if a := filepath.Join(dir, ".sops.yml"); alt == "" {
			if _, err := os.Stat(a); err == nil {
				alt = a
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if alt != "" {
		return "", fmt.Errorf("%w (found %q, which sops ignores: rename it to %s)", errNoConfig, alt, configFileName)
	}
	if nested := nestedConfigs(); len(nested) > 0 {
		return "", nestedConfigError(nested)
	}
	return "", errNoConfig
}

// fixedConfig reports whether --config or SOPS_CONFIG names one config for
// every file.
func (g *globalOptions) fixedConfig() bool {
	return g.Config != "" || g.IO.Getenv("SOPS_CONFIG") != ""
}

// maxNestedShown is how many nested configs an error names, and
// nestedWalkLimit how many entries below the working directory are looked
// at to find them (the error must stay quick from a home folder).
const (
	maxNestedShown  = 5
	nestedWalkLimit = 50000
)

// nestedConfigs returns the .sops.yaml files below the working directory
// (display paths), found when none is at or above it.
func nestedConfigs() []string {
	cwd, err := os.Getwd()
	if err != nil {
		return nil
	}
	found, _ := recipients.FindConfigsLimit(cwd, nestedWalkLimit)
	out := make([]string, len(found))
	for i, p := range found {
		out[i] = displayPath(cwd, p)
	}
	return out
}

// nestedConfigError is errNoConfig naming the configs found below the
// working directory, with the hint to pick one.
func nestedConfigError(nested []string) error {
	shown := nested
	more := ""
	if len(shown) > maxNestedShown {
		more = fmt.Sprintf(" and %d more", len(shown)-maxNestedShown)
		shown = shown[:maxNestedShown]
	}
	first := nested[0]
	return withHint(fmt.Errorf("%w; below it: %s%s", errNoConfig, strings.Join(shown, ", "), more),
		fmt.Sprintf("name one with --config %s, or cd %s", first, filepath.Dir(first)))
}

// treeConfigs is how a tree-wide command (updatekeys, check, report) finds
// the config of each file.
type treeConfigs struct {
	// Path is the config found from the working directory, or named by
	// --config/SOPS_CONFIG; "" when none is at or above the working
	// directory (then Nested lists those below it).
	Path   string
	Config *recipients.Config // loaded Path; nil when Path is ""
	// Set gives each file its config: Config alone when Fixed, else the
	// nearest .sops.yaml at or above the file's folder.
	Set    *recipients.ConfigSet
	Fixed  bool
	Nested []string
}

// PerFile returns the set when each file has its own config, nil when one
// config (--config, SOPS_CONFIG) governs all.
func (t *treeConfigs) PerFile() *recipients.ConfigSet {
	if t.Fixed {
		return nil
	}
	return t.Set
}

// DefaultRoot is the folder a tree-wide command walks when no path is
// given: the config's folder, else the working directory.
func (t *treeConfigs) DefaultRoot() string {
	if t.Path != "" {
		return filepath.Dir(t.Path)
	}
	if wd, err := os.Getwd(); err == nil {
		return wd
	}
	return "."
}

// treeConfigs finds the configs of a tree-wide command. --config and
// SOPS_CONFIG name one config for every file, as before; otherwise every
// file is governed by the nearest .sops.yaml at or above its folder, the
// config sops uses when run from there. A config that cannot be loaded is
// returned as the error, unloaded (load reports it the way the caller
// wants).
func (g *globalOptions) treeConfigs(load func(string) (*recipients.Config, error)) (*treeConfigs, error) {
	fixed := g.fixedConfig()
	path, err := g.ConfigPath()
	if err != nil {
		var he *hintedError
		if fixed || !errors.Is(err, errNoConfig) || !errors.As(err, &he) {
			return nil, err
		}
		t := &treeConfigs{Set: recipients.NearestConfigSet()}
		t.Nested = nestedConfigs()
		return t, nil
	}
	cfg, err := load(path)
	if err != nil {
		return nil, err
	}
	t := &treeConfigs{Path: path, Config: cfg, Fixed: fixed}
	if fixed {
		t.Set = recipients.FixedConfigSet(cfg)
	} else {
		t.Set = recipients.NearestConfigSet(cfg)
	}
	return t, nil
}
