package recipients

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// ConfigFileName is the only name sops reads for its configuration;
// ".sops.yml" is ignored by sops.
const ConfigFileName = ".sops.yaml"

// lookupDepth is how many folders sops walks up looking for .sops.yaml.
const lookupDepth = 100

// ErrNoConfigAbove reports that no .sops.yaml governs a file: none is in
// its folder or any folder above it.
var ErrNoConfigAbove = errors.New("no .sops.yaml in its folder or any folder above it")

// ConfigSet gives each file the .sops.yaml that governs it: the nearest one
// in the file's folder or a folder above it, which is the config sops uses
// when run from that folder. A set made by [FixedConfigSet] gives every
// file the same config (--config, SOPS_CONFIG). Configs are loaded once
// each, on first need; a ConfigSet is safe for concurrent use.
type ConfigSet struct {
	fixed *Config

	mu     sync.Mutex
	dirs   map[string]string // folder → governing config path ("" none)
	loaded map[string]*loadedConfig
	order  []string // config paths in the order first loaded
}

type loadedConfig struct {
	cfg *Config
	err error
}

// FixedConfigSet is a set in which cfg governs every file.
func FixedConfigSet(cfg *Config) *ConfigSet {
	return &ConfigSet{fixed: cfg}
}

// NearestConfigSet is a set in which each file is governed by the nearest
// .sops.yaml at or above its folder. Configs already loaded (the one found
// from the working directory) may be given so they are not read twice.
func NearestConfigSet(preloaded ...*Config) *ConfigSet {
	s := &ConfigSet{dirs: map[string]string{}, loaded: map[string]*loadedConfig{}}
	for _, c := range preloaded {
		if c == nil {
			continue
		}
		p := absOrSame(c.Path)
		s.loaded[p] = &loadedConfig{cfg: c}
		s.order = append(s.order, p)
	}
	return s
}

// Fixed returns the config of a set made by [FixedConfigSet], else nil.
func (s *ConfigSet) Fixed() *Config { return s.fixed }

// For returns the config that governs file (a path to a file, absolute or
// relative to the working directory). The error wraps [ErrNoConfigAbove]
// when no config does, or is the config's own load error.
func (s *ConfigSet) For(file string) (*Config, error) {
	if s.fixed != nil {
		return s.fixed, nil
	}
	return s.ForDir(filepath.Dir(absOrSame(file)))
}

// ForDir returns the config sops finds when run from dir: the nearest
// .sops.yaml in dir or a folder above it.
func (s *ConfigSet) ForDir(dir string) (*Config, error) {
	if s.fixed != nil {
		return s.fixed, nil
	}
	p := s.lookup(absOrSame(dir))
	if p == "" {
		return nil, ErrNoConfigAbove
	}
	s.mu.Lock()
	l := s.loaded[p]
	s.mu.Unlock()
	if l == nil {
		cfg, err := LoadConfig(p)
		s.mu.Lock()
		if l = s.loaded[p]; l == nil {
			l = &loadedConfig{cfg: cfg, err: err}
			s.loaded[p] = l
			s.order = append(s.order, p)
		}
		s.mu.Unlock()
	}
	return l.cfg, l.err
}

// lookup walks up from dir for .sops.yaml, at most lookupDepth folders, as
// sops does; every folder passed is cached.
func (s *ConfigSet) lookup(dir string) string {
	var passed []string
	found := ""
	for i := 0; i < lookupDepth; i++ {
		s.mu.Lock()
		p, ok := s.dirs[dir]
		s.mu.Unlock()
		if ok {
			found = p
			break
		}
		passed = append(passed, dir)
		if st, err := os.Stat(filepath.Join(dir, ConfigFileName)); err == nil && !st.IsDir() {
			found = filepath.Join(dir, ConfigFileName)
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	s.mu.Lock()
	for _, d := range passed {
		s.dirs[d] = found
	}
	s.mu.Unlock()
	return found
}

// Loaded returns the configs loaded so far that parsed, in the order they
// were first needed (the fixed config alone for a fixed set).
func (s *ConfigSet) Loaded() []*Config {
	if s.fixed != nil {
		return []*Config{s.fixed}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Config
	for _, p := range s.order {
		if l := s.loaded[p]; l.cfg != nil {
			out = append(out, l.cfg)
		}
	}
	return out
}

// FindConfigs returns the absolute paths of every .sops.yaml under root
// (root's own included), sorted, skipping .git folders and not following
// symbolic links to folders.
func FindConfigs(root string) ([]string, error) {
	return FindConfigsLimit(root, 0)
}

// errWalkLimit stops a limited walk.
var errWalkLimit = errors.New("walk limit reached")

// FindConfigsLimit is [FindConfigs] looking at no more than limit entries
// (0: no limit), for a hint that must stay quick even when run from a home
// folder; what was found before the limit is returned.
func FindConfigsLimit(root string, limit int) ([]string, error) {
	root = absOrSame(root)
	var out []string
	seen := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if seen++; limit > 0 && seen > limit {
			return errWalkLimit
		}
		if err != nil {
			if p == root {
				return err
			}
			return nil // an unreadable folder holds no config we can use
		}
		if d.IsDir() {
			if d.Name() == ".git" && p != root {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == ConfigFileName {
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				out = append(out, p)
			}
		}
		return nil
	})
	sort.Strings(out)
	if errors.Is(err, errWalkLimit) {
		err = nil
	}
	return out, err
}

func absOrSame(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// PathFor returns the path of the .sops.yaml that governs file without
// loading it ("" when none does; the fixed config's path for a fixed set).
func (s *ConfigSet) PathFor(file string) string {
	if s.fixed != nil {
		return s.fixed.Path
	}
	return s.lookup(filepath.Dir(absOrSame(file)))
}
