package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	return "", errNoConfig
}
