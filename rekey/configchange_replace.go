package rekey

// A replacement (recipients replace): a removed key whose place is taken by
// another key. Files a rule governs get the new key from the rule; a file
// no rule governs would only lose the removed key, so it gets the new key
// in the same group instead.

import (
	"github.com/sopsfleet/sopsfleet/audit"
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// replacingKeepPlan is keepPlan with, in each group that loses a removed
// key that has a replacement, the replacement added (unless the group
// already has it).
func replacingKeepPlan(f *sopsfile.File, removed map[recipients.Key]bool, replace map[recipients.Key]recipients.Key) (*Plan, error) {
	p, err := keepPlan(f, removed)
	if err != nil || len(replace) == 0 {
		return p, err
	}
	for gi, g := range f.Groups {
		for _, s := range g {
			nk, ok := replace[s.Key]
			if !ok || groupHas(p.Wanted[gi], nk) {
				continue
			}
			p.Wanted[gi].Members = append(p.Wanted[gi].Members, recipients.Member{Key: nk})
		}
	}
	p.Diffs = audit.DiffGroups(p.Wanted, f.Groups)
	switch {
	case len(p.Diffs) == 0:
		p.Action = ActionNone
	case len(f.Groups) == 1:
		p.Action = ActionRewrap
	default:
		p.Action = ActionReshare
	}
	return p, nil
}

func groupHas(g recipients.Group, k recipients.Key) bool {
	for _, m := range g.Members {
		if m.Key == k {
			return true
		}
	}
	return false
}
