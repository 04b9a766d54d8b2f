package audit

import (
	"sort"
	"strconv"
	"strings"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// Access is the state of one recipient for one file.
type Access int

// The access states of a report cell.
const (
	// AccessNone: the file is not encrypted to the key, and should not be.
	AccessNone Access = iota
	// AccessOK: the key can decrypt the file, as the config wants.
	AccessOK
	// AccessMissing: the config wants the key; the file lacks it.
	AccessMissing
	// AccessExtra: the key can decrypt the file; the config does not want it.
	AccessExtra
	// AccessNoRule: the key can decrypt the file; no creation rule matches it.
	AccessNoRule
)

var accessNames = []string{"none", "ok", "missing", "extra", "no-rule"}

// String returns the state's name as used in JSON: none, ok, missing,
// extra, no-rule.
func (a Access) String() string { return accessNames[a] }

// CanDecrypt reports whether the key holds (a share of) the data key.
func (a Access) CanDecrypt() bool { return a == AccessOK || a == AccessExtra || a == AccessNoRule }

// Mark is the access state of a key in one key group of a file.
type Mark struct {
	Group  int // from 1
	Access Access
}

// ReportRecipient is a column of the access matrix.
type ReportRecipient struct {
	Key recipients.Key
	// Name is the config's name for the key (anchor or comment), or "".
	Name string
	// Label is Name, else a shortened key.
	Label string
	// Wanted is true when some creation rule lists the key.
	Wanted bool
}

// ReportFile is a row of the access matrix.
type ReportFile struct {
	Path   string
	Format string
	// Rule is the creation rule's number (from 1), 0 when none matches.
	Rule int
	// Groups is the number of key groups in the file; Threshold and
	// WantedThreshold the effective Shamir thresholds (0 for one group).
	Groups, Threshold, WantedThreshold int
	// Marks has one entry per report recipient (same index): the states in
	// each group, nil when the key has nothing to do with the file.
	Marks [][]Mark
	// Err is set for a file whose metadata could not be read.
	Err string
	// Config is the display path of the .sops.yaml that governs the file
	// ("" when none does), set when the scan met more than one config.
	Config string
}

// Report is the access matrix: who can decrypt which file.
type Report struct {
	Recipients []ReportRecipient
	Files      []ReportFile
	// Configs lists the configs the files are governed by, when there
	// are several (display paths); the rows then name theirs.
	Configs []string
}

// BuildReport computes the access matrix of a scan. Recipients come in
// config order, then keys found only in files (by type and identifier).
func BuildReport(res *ScanResult) *Report {
	// Every config met names keys and lists wanted ones, the one found
	// from the working directory first.
	var configs []*recipients.Config
	if res.Config != nil {
		configs = append(configs, res.Config)
	}
	for _, c := range res.Configs {
		if c.Config != res.Config {
			configs = append(configs, c.Config)
		}
	}
	rep := &Report{}
	if len(res.Configs) > 1 {
		for _, c := range res.Configs {
			rep.Configs = append(rep.Configs, c.Path)
		}
	}
	index := map[recipients.Key]int{}
	addKey := func(k recipients.Key, wanted bool) int {
		if i, ok := index[k]; ok {
			if wanted {
				rep.Recipients[i].Wanted = true
			}
			return i
		}
		name := ""
		for _, c := range configs {
			if name = c.NameOf(k); name != "" {
				break
			}
		}
		label := name
		if label == "" {
			label = ShortKey(k)
		}
		index[k] = len(rep.Recipients)
		rep.Recipients = append(rep.Recipients, ReportRecipient{Key: k, Name: name, Label: label, Wanted: wanted})
		return index[k]
	}
	for _, cfg := range configs {
		for _, r := range cfg.Rules {
			for _, g := range r.Groups {
				for _, m := range g.Members {
					if m.Err == nil {
						addKey(m.Key, true)
					}
				}
			}
		}
	}
	var found []recipients.Key
	seen := map[recipients.Key]bool{}
	for _, fr := range res.Files {
		if fr.File == nil {
			continue
		}
		for _, g := range fr.File.Groups {
			for _, s := range g {
				if _, ok := index[s.Key]; !ok && !seen[s.Key] && s.Key.ID != "" {
					seen[s.Key] = true
					found = append(found, s.Key)
				}
			}
		}
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].Type != found[j].Type {
			return found[i].Type < found[j].Type
		}
		return found[i].ID < found[j].ID
	})
	for _, k := range found {
		addKey(k, false)
	}
	// Labels must tell columns apart.
	count := map[string]int{}
	for _, r := range rep.Recipients {
		count[r.Label]++
	}
	for i, r := range rep.Recipients {
		if count[r.Label] > 1 && r.Name != "" {
			rep.Recipients[i].Label = r.Name + " (" + ShortKey(r.Key) + ")"
		}
	}

	for _, fr := range res.Files {
		if fr.NotEncrypted {
			continue
		}
		row := ReportFile{Path: fr.Path}
		if rep.Configs != nil {
			row.Config = fr.ConfigPath
		}
		if fr.Err != nil {
			_, row.Err = errorText(fr.Err)
			rep.Files = append(rep.Files, row)
			continue
		}
		f := fr.File
		row.Format = f.Format.String()
		row.Groups = len(f.Groups)
		row.Threshold = EffectiveThreshold(f.ShamirThreshold, len(f.Groups))
		row.Marks = make([][]Mark, len(rep.Recipients))
		var wanted []recipients.Group
		if fr.Rule != nil && fr.RuleErr == nil {
			row.Rule = fr.Rule.Index + 1
			wanted = fr.Rule.Groups
			row.WantedThreshold = fr.WantedThreshold
		}
		for gi := 0; gi < max(len(f.Groups), len(wanted)); gi++ {
			want := map[recipients.Key]bool{}
			if gi < len(wanted) {
				for _, m := range wanted[gi].Members {
					want[m.Key] = true
				}
			}
			have := map[recipients.Key]bool{}
			if gi < len(f.Groups) {
				for _, s := range f.Groups[gi] {
					if s.Key.ID == "" || have[s.Key] {
						continue
					}
					have[s.Key] = true
					a := AccessOK
					switch {
					case row.Rule == 0:
						a = AccessNoRule
					case !want[s.Key]:
						a = AccessExtra
					}
					i := index[s.Key]
					row.Marks[i] = append(row.Marks[i], Mark{Group: gi + 1, Access: a})
				}
			}
			if gi < len(wanted) {
				for _, m := range wanted[gi].Members {
					if have[m.Key] {
						continue
					}
					have[m.Key] = true
					i, ok := index[m.Key]
					if !ok {
						continue // an invalid recipient: reported by check
					}
					row.Marks[i] = append(row.Marks[i], Mark{Group: gi + 1, Access: AccessMissing})
				}
			}
		}
		rep.Files = append(rep.Files, row)
	}
	return rep
}

// Find returns the index of the recipient that name designates: a config
// name, a full key identifier, "type:id", or a unique prefix of an
// identifier (at least 8 characters). It returns -1 and up to three close
// names when nothing matches, or -2 when a prefix is ambiguous.
func (r *Report) Find(name string) (int, []string) {
	for i, rc := range r.Recipients {
		if rc.Name == name || rc.Key.ID == name || rc.Key.String() == name || rc.Label == name {
			return i, nil
		}
	}
	for i, rc := range r.Recipients {
		if strings.EqualFold(rc.Name, name) && rc.Name != "" {
			return i, nil
		}
	}
	if len(name) >= 8 {
		found := -1
		for i, rc := range r.Recipients {
			if strings.HasPrefix(rc.Key.ID, name) {
				if found >= 0 {
					return -2, nil
				}
				found = i
			}
		}
		if found >= 0 {
			return found, nil
		}
	}
	type cand struct {
		name string
		d    int
	}
	var cands []cand
	for _, rc := range r.Recipients {
		if rc.Name == "" {
			continue
		}
		d := recipients.EditDistance(strings.ToLower(name), strings.ToLower(rc.Name))
		if d <= max(2, len(name)/3) || strings.Contains(strings.ToLower(rc.Name), strings.ToLower(name)) {
			cands = append(cands, cand{rc.Name, d})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].d < cands[j].d })
	var out []string
	for i := 0; i < len(cands) && i < 3; i++ {
		out = append(out, cands[i].name)
	}
	return -1, out
}

// RecipientFiles is what one recipient can decrypt.
type RecipientFiles struct {
	Recipient ReportRecipient
	// Files the key can decrypt (or holds a Shamir share of).
	Files []RecipientFile
	// Missing are files the config wants the key on but that lack it.
	Missing []string
}

// RecipientFile is one file a recipient can decrypt.
type RecipientFile struct {
	Path   string
	Access Access // ok, extra or no-rule
	// Share is set for Shamir files: the key holds a share in Groups, and
	// Threshold groups are needed.
	Share          bool
	Groups         []int
	Threshold, OfN int
}

// ByRecipient pivots the report: for every recipient the files it can
// decrypt. Recipients with no file at all are kept (count 0).
func (r *Report) ByRecipient() []RecipientFiles {
	out := make([]RecipientFiles, len(r.Recipients))
	for i, rc := range r.Recipients {
		out[i].Recipient = rc
	}
	for _, f := range r.Files {
		for i, marks := range f.Marks {
			if len(marks) == 0 {
				continue
			}
			rf := RecipientFile{Path: f.Path}
			missing := false
			for _, m := range marks {
				if m.Access.CanDecrypt() {
					if rf.Access == AccessNone || m.Access != AccessOK {
						rf.Access = m.Access
					}
					rf.Groups = append(rf.Groups, m.Group)
				} else if m.Access == AccessMissing {
					missing = true
				}
			}
			if rf.Access != AccessNone {
				if f.Groups > 1 {
					rf.Share = true
					rf.Threshold, rf.OfN = f.Threshold, f.Groups
				}
				out[i].Files = append(out[i].Files, rf)
			} else if missing {
				out[i].Missing = append(out[i].Missing, f.Path)
			}
		}
	}
	return out
}

// CellText renders the marks of one cell: "✓", "✗", "+", "•", with the
// group numbers when the file has several groups ("✓1", "✓1 +2").
func CellText(marks []Mark, groups int) string {
	if len(marks) == 0 {
		return ""
	}
	parts := make([]string, 0, len(marks))
	for _, m := range marks {
		s := AccessSymbol(m.Access)
		if groups > 1 {
			s += strconv.Itoa(m.Group)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// AccessSymbol is the mark of an access state in the matrix.
func AccessSymbol(a Access) string {
	switch a {
	case AccessOK:
		return "✓"
	case AccessMissing:
		return "✗"
	case AccessExtra:
		return "+"
	case AccessNoRule:
		return "•"
	}
	return ""
}

// Legend returns the legend lines for the states used in the report.
func (r *Report) Legend() []string {
	used := map[Access]bool{}
	shamir := false
	for _, f := range r.Files {
		if f.Groups > 1 {
			shamir = true
		}
		for _, ms := range f.Marks {
			for _, m := range ms {
				used[m.Access] = true
			}
		}
	}
	var out []string
	text := map[Access]string{
		AccessOK:      "can decrypt, as .sops.yaml wants",
		AccessMissing: "missing: .sops.yaml wants it, the file is not encrypted to it",
		AccessExtra:   "extra: can decrypt, .sops.yaml does not want it",
		AccessNoRule:  "can decrypt; no creation rule matches the file",
	}
	for _, a := range []Access{AccessOK, AccessMissing, AccessExtra, AccessNoRule} {
		if used[a] {
			out = append(out, AccessSymbol(a)+"  "+text[a])
		}
	}
	if shamir {
		out = append(out, "N  after a mark: the key group (Shamir); \"groups\" is threshold/groups")
	}
	return out
}

// Columns returns the indexes of recipients that have a mark in some file
// (the columns worth showing in a matrix).
func (r *Report) Columns() []int {
	var cols []int
	for i := range r.Recipients {
		for _, f := range r.Files {
			if i < len(f.Marks) && len(f.Marks[i]) > 0 {
				cols = append(cols, i)
				break
			}
		}
	}
	return cols
}

// HasShamir reports whether any file has several key groups.
func (r *Report) HasShamir() bool {
	for _, f := range r.Files {
		if f.Groups > 1 || f.WantedThreshold > 0 {
			return true
		}
	}
	return false
}

// GroupsText renders a file's Shamir setting: "2/3" (threshold/groups),
// with the wanted threshold when it differs ("2/3, wants 3").
func (f ReportFile) GroupsText() string {
	if f.Groups <= 1 && f.WantedThreshold == 0 {
		return ""
	}
	s := strconv.Itoa(f.Threshold) + "/" + strconv.Itoa(f.Groups)
	if f.Groups <= 1 {
		s = "1/1"
	}
	if f.Rule > 0 && f.WantedThreshold != f.Threshold {
		s += " (wants " + strconv.Itoa(f.WantedThreshold) + ")"
	}
	return s
}
