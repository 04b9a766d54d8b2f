package rekey

import (
	"path/filepath"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// ConfigEdit is one .sops.yaml edited by a config change: its text before
// (what must still be on disk when it is written) and after.
type ConfigEdit struct {
	Path     string
	Old, New []byte
}

// EditedConfig is a config a [ChangePlan] edits, parsed before and after.
type EditedConfig struct {
	Path     string
	Old, New *recipients.Config

	edit ConfigEdit
	abs  string
}

// edits parses the primary edit and [ChangeOptions.Also] (a path given
// twice is edited once, as given first).
func parseEdits(opts ChangeOptions, oldCfg, newCfg *recipients.Config) ([]*EditedConfig, error) {
	out := []*EditedConfig{{Path: opts.ConfigPath, Old: oldCfg, New: newCfg,
		edit: ConfigEdit{Path: opts.ConfigPath, Old: opts.Old, New: opts.New}, abs: absOr(opts.ConfigPath)}}
	seen := map[string]bool{out[0].abs: true}
	for _, e := range opts.Also {
		abs := absOr(e.Path)
		if seen[abs] {
			continue
		}
		seen[abs] = true
		o, err := recipients.ParseConfig(e.Path, e.Old)
		if err != nil {
			return nil, err
		}
		n, err := recipients.ParseConfig(e.Path, e.New)
		if err != nil {
			return nil, err
		}
		out = append(out, &EditedConfig{Path: e.Path, Old: o, New: n, edit: e, abs: abs})
	}
	return out, nil
}

// governing returns the edited config that governs the file at abs, or nil
// with the path of the unedited config that does ("" when none does). With
// [ChangeOptions.Nearest] that is the nearest .sops.yaml at or above the
// file's folder, as sops run from there finds it; else the primary config
// governs every file in its folder, as with --config.
func (p *ChangePlan) governing(abs string) (*EditedConfig, string) {
	if !p.opts.Nearest {
		if within(abs, p.New.Dir) {
			return p.Edits[0], ""
		}
		return nil, ""
	}
	gov := p.nearest.PathFor(abs)
	if gov == "" {
		return nil, ""
	}
	gov = absOr(gov)
	for _, e := range p.Edits {
		if e.abs == gov {
			return e, ""
		}
	}
	return nil, gov
}

func absOr(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
