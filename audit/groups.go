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
		var members []recipients.Member
		var stanzas []sopsfile.Stanza
		if i < len(wanted) {
			members = wanted[i].Members
		}
		if i < len(actual) {
			stanzas = actual[i]
		}
		var d GroupDiff
		if len(members)*len(stanzas) <= smallDiff {
			d = diffSmall(members, stanzas)
		} else {
			d = diffMaps(members, stanzas)
		}
		d.Group = i
		if !d.Empty() {
			diffs = append(diffs, d)
		}
	}
	return diffs
}

// smallDiff is the size (wanted × actual) up to which a group is compared
// by scanning: for the groups every repository has, quicker than the two
// maps a larger group needs (DiffGroups runs for every file).
const smallDiff = 1024

// diffMaps compares one group through sets of keys.
func diffMaps(members []recipients.Member, stanzas []sopsfile.Stanza) GroupDiff {
	var d GroupDiff
	have := make(map[recipients.Key]bool, len(stanzas))
	for _, s := range stanzas {
		have[s.Key] = true
	}
	want := make(map[recipients.Key]bool, len(members))
	for _, m := range members {
		want[m.Key] = true
		if !have[m.Key] {
			d.Missing = append(d.Missing, m)
		}
	}
	for _, s := range stanzas {
		if !want[s.Key] {
			d.Extra = append(d.Extra, s)
		}
	}
	return d
}

// diffSmall is diffMaps by scanning.
func diffSmall(members []recipients.Member, stanzas []sopsfile.Stanza) GroupDiff {
	var d GroupDiff
	for _, m := range members {
		found := false
		for j := range stanzas {
			if stanzas[j].Key == m.Key {
				found = true
				break
			}
		}
		if !found {
			d.Missing = append(d.Missing, m)
		}
	}
	for _, s := range stanzas {
		found := false
		for j := range members {
			if members[j].Key == s.Key {
				found = true
				break
			}
		}
		if !found {
			d.Extra = append(d.Extra, s)
		}
	}
	return d
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
