package audit

import (
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// GroupDiff is the difference between one wanted key group and the file's
// group at the same index, compared as sops compares them (by key identity,
// ignoring order; common.DiffKeyGroups).
type GroupDiff struct {
	Group int
	// Missing are keys the config wants that the file lacks.
	Missing []recipients.Member
	// Extra are keys the file has that the config does not want.
	Extra []sopsfile.Stanza
}

// Empty reports whether the group matches.
func (d GroupDiff) Empty() bool { return len(d.Missing) == 0 && len(d.Extra) == 0 }

// DiffGroups compares wanted groups with a file's groups, index by index (as
// sops does). Only groups that differ are returned; nil means they match.
func DiffGroups(wanted []recipients.Group, actual [][]sopsfile.Stanza) []GroupDiff {
	var diffs []GroupDiff
	for i := 0; i < max(len(wanted), len(actual)); i++ {
		d := GroupDiff{Group: i}
		have := map[recipients.Key]bool{}
		if i < len(actual) {
			for _, s := range actual[i] {
				have[s.Key] = true
			}
		}
		want := map[recipients.Key]bool{}
		if i < len(wanted) {
			for _, m := range wanted[i].Members {
				want[m.Key] = true
				if !have[m.Key] {
					d.Missing = append(d.Missing, m)
				}
			}
		}
		if i < len(actual) {
			for _, s := range actual[i] {
				if !want[s.Key] {
					d.Extra = append(d.Extra, s)
				}
			}
		}
		if !d.Empty() {
			diffs = append(diffs, d)
		}
	}
	return diffs
}

// EffectiveThreshold returns the Shamir threshold sops applies: with several
// groups and no threshold set, every group is required.
func EffectiveThreshold(threshold, groups int) int {
	if groups <= 1 {
		return 0
	}
	if threshold <= 0 {
		return groups
	}
	return threshold
}
