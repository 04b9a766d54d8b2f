package rekey

import (
	"github.com/sopsfleet/sopsfleet/audit"

	"errors"
	"fmt"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// Action is what updatekeys does to one file.
type Action int

const (
	// ActionNone: the file already has the wanted key groups.
	ActionNone Action = iota
	// ActionRewrap: one key group before and after; removed entries are
	// dropped and added ones spliced in, everything else stays byte-identical.
	ActionRewrap
	// ActionReshare: several key groups (Shamir), or a change in their number
	// or threshold: the data key is split again, as sops does, and every
	// entry changes. Values, mac and lastmodified stay.
	ActionReshare
	// ActionRotate: a new data key (--rotate), as `sops rotate` does.
	ActionRotate
)

func (a Action) String() string {
	switch a {
	case ActionRewrap:
		return "rewrap"
	case ActionReshare:
		return "reshare"
	case ActionRotate:
		return "rotate"
	}
	return "none"
}

// Plan is what updatekeys will do to one file, decided from its metadata
// and .sops.yaml alone (nothing is decrypted).
type Plan struct {
	File *sopsfile.File
	// Config is the .sops.yaml the rule comes from (the one that governs
	// the file).
	Config *recipients.Config
	Rule   *recipients.Rule
	// Wanted are the rule's key groups.
	Wanted []recipients.Group
	// Diffs are the groups that differ (see [audit.DiffGroups]).
	Diffs []audit.GroupDiff
	// ThresholdFrom and ThresholdTo are the effective Shamir thresholds of
	// the file and of the rule (0 for one group).
	ThresholdFrom, ThresholdTo int
	Action                     Action
}

// Added returns the recipients the plan adds, in config order.
func (p *Plan) Added() []recipients.Member {
	var out []recipients.Member
	for _, d := range p.Diffs {
		out = append(out, d.Missing...)
	}
	return out
}

// Removed returns the entries the plan removes, in file order.
func (p *Plan) Removed() []sopsfile.Stanza {
	var out []sopsfile.Stanza
	for _, d := range p.Diffs {
		out = append(out, d.Extra...)
	}
	return out
}

// NeedsDataKey reports whether carrying out the plan needs the file's data
// key, i.e. an identity that opens it. Dropping entries does not.
func (p *Plan) NeedsDataKey() bool {
	switch p.Action {
	case ActionRotate, ActionReshare:
		return true
	case ActionRewrap:
		return len(p.Added()) > 0
	}
	return false
}

// ErrEmptyGroup reports a rule with a key group that has no recipients.
var ErrEmptyGroup = errors.New("a key group of the matching rule has no recipients")

// PlanFile decides what to do with f under cfg. With rotate, every file is
// rotated, whether its recipients change or not.
func PlanFile(cfg *recipients.Config, f *sopsfile.File, rotate bool) (*Plan, error) {
	rule, err := cfg.RuleFor(f.Path)
	if err != nil {
		if errors.Is(err, recipients.ErrNoRule) {
			return nil, noRuleError{cfg.Path}
		}
		return nil, err
	}
	if len(rule.Groups) == 0 {
		return nil, fmt.Errorf("the matching rule (%s:%d) has no recipients", cfg.Path, rule.Line)
	}
	for _, g := range rule.Groups {
		if len(g.Members) == 0 {
			return nil, fmt.Errorf("%w (%s:%d)", ErrEmptyGroup, cfg.Path, g.Line)
		}
		for _, m := range g.Members {
			if m.Err != nil {
				return nil, fmt.Errorf("%s:%d: invalid %s recipient: %v", cfg.Path, m.Line, m.Key.Type, m.Err)
			}
		}
	}
	if len(rule.Groups) > 1 && rule.ShamirThreshold == 1 {
		return nil, fmt.Errorf("%s:%d: shamir_threshold 1 with %d key groups: sops needs a threshold of at least 2", cfg.Path, rule.ShamirLine, len(rule.Groups))
	}
	if rule.ShamirThreshold > len(rule.Groups) && len(rule.Groups) > 1 {
		return nil, fmt.Errorf("%s:%d: shamir_threshold %d is larger than the %d key groups", cfg.Path, rule.ShamirLine, rule.ShamirThreshold, len(rule.Groups))
	}
	if len(f.Problems) > 0 {
		return nil, errors.New(f.Problems[0].String())
	}
	for _, g := range f.Groups {
		for _, s := range g {
			if s.Problem != "" {
				return nil, fmt.Errorf("line %d: malformed %s entry: %s", s.Line, s.Key.Type, s.Problem)
			}
		}
	}
	p := &Plan{
		File:          f,
		Config:        cfg,
		Rule:          rule,
		Wanted:        rule.Groups,
		Diffs:         audit.DiffGroups(rule.Groups, f.Groups),
		ThresholdFrom: audit.EffectiveThreshold(f.ShamirThreshold, len(f.Groups)),
		ThresholdTo:   audit.EffectiveThreshold(rule.ShamirThreshold, len(rule.Groups)),
	}
	switch {
	case rotate:
		p.Action = ActionRotate
	case len(p.Diffs) == 0 && p.ThresholdFrom == p.ThresholdTo:
		p.Action = ActionNone
	case len(f.Groups) == 1 && len(rule.Groups) == 1:
		p.Action = ActionRewrap
	default:
		p.Action = ActionReshare
	}
	return p, nil
}

// wantedKeys returns the keys of the wanted groups.
func wantedKeys(groups []recipients.Group) [][]recipients.Key {
	out := make([][]recipients.Key, len(groups))
	for i, g := range groups {
		for _, m := range g.Members {
			out[i] = append(out[i], m.Key)
		}
	}
	return out
}

// noRuleError reports a file no creation rule matches; it is
// [recipients.ErrNoRule].
type noRuleError struct{ config string }

func (e noRuleError) Error() string {
	return fmt.Sprintf("no creation rule in %s matches this file", e.config)
}

func (e noRuleError) Unwrap() error { return recipients.ErrNoRule }
