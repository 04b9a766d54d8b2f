package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// ConfigName is the only name sops reads its configuration from.
const ConfigName = ".sops.yaml"

// Range is the pair of revisions a diff compares. Head "" is the work tree.
type Range struct {
	Base, Head string
	// Label says what was compared, as the user wrote it ("HEAD", "main...HEAD").
	Label string
}

// ResolveRange turns the arguments of `sopsfleet diff`, taken as git diff
// takes revisions, into commits: none compares the work tree with HEAD,
// one (REV) the work tree with REV, "A..B" or two revisions B with A, and
// "A...B" B with the merge base of A and B (an empty side is HEAD).
func ResolveRange(r *Repo, args []string) (Range, error) {
	resolve := func(rev string) (string, error) {
		if rev == "" {
			rev = "HEAD"
		}
		return r.ResolveCommit(rev)
	}
	switch len(args) {
	case 0:
		base, err := resolve("HEAD")
		return Range{Base: base, Label: "HEAD"}, err
	case 1:
		arg := args[0]
		if a, b, ok := strings.Cut(arg, "..."); ok {
			ca, err := resolve(a)
			if err != nil {
				return Range{}, err
			}
			cb, err := resolve(b)
			if err != nil {
				return Range{}, err
			}
			mb, err := r.MergeBase(ca, cb)
			return Range{Base: mb, Head: cb, Label: arg}, err
		}
		if a, b, ok := strings.Cut(arg, ".."); ok {
			return resolvePair(resolve, a, b, arg)
		}
		base, err := resolve(arg)
		return Range{Base: base, Label: arg}, err
	case 2:
		return resolvePair(resolve, args[0], args[1], args[0]+".."+args[1])
	}
	return Range{}, fmt.Errorf("want at most two revisions, got %d", len(args))
}

func resolvePair(resolve func(string) (string, error), a, b, label string) (Range, error) {
	ca, err := resolve(a)
	if err != nil {
		return Range{}, err
	}
	cb, err := resolve(b)
	if err != nil {
		return Range{}, err
	}
	return Range{Base: ca, Head: cb, Label: label}, nil
}

// Recipient is a key with the name .sops.yaml gives it ("" when none).
type Recipient struct {
	Name string
	Key  recipients.Key
}

// MarshalJSON writes {"name": …, "type": …, "key": …}.
func (r Recipient) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name string `json:"name"`
		Type string `json:"type"`
		Key  string `json:"key"`
	}{r.Name, string(r.Key.Type), r.Key.ID})
}

// Label is the recipient's name, else its type and shortened key.
func (r Recipient) Label() string {
	if r.Name != "" {
		return r.Name
	}
	return string(r.Key.Type) + ":" + keyLabel(r.Key)
}

// RecipientAccess is what a change does for one recipient.
type RecipientAccess struct {
	Recipient Recipient `json:"recipient"`
	// Gains are files present in the base the recipient could not decrypt
	// there and can now; Loses files it could and no longer can.
	Gains []string `json:"gains"`
	Loses []string `json:"loses"`
	// LosesKept are the files of Loses whose data key was not rotated: the
	// recipient still holds it, so it can still read them.
	LosesKept []string `json:"loses_not_rotated"`
	// NewFiles are files added by the change that the recipient can read.
	NewFiles []string `json:"new_files"`
}

// GroupChange is the change of one key group of a file.
type GroupChange struct {
	Group   int         `json:"group"` // from 0
	Added   []Recipient `json:"added"`
	Removed []Recipient `json:"removed"`
}

// FileDiff is what changed in one sops file.
type FileDiff struct {
	Path string `json:"path"`
	// OldPath is the path in the base when git saw a rename.
	OldPath string `json:"old_path,omitempty"`
	// Status is "added", "deleted", "renamed", "modified", or "decrypted"
	// (the file is still there but no longer sops-encrypted).
	Status string        `json:"status"`
	Groups []GroupChange `json:"groups,omitempty"`
	// Readers are the recipients of an added file.
	Readers []Recipient `json:"readers,omitempty"`
	// Thresholds (effective, 0 for one group) before and after.
	OldThreshold int `json:"old_threshold,omitempty"`
	NewThreshold int `json:"new_threshold,omitempty"`
	// DataKey is "kept" (some recipient entry, value ciphertext or mac is
	// byte-identical), "rotated" (none is), or "" when only one side exists.
	DataKey string `json:"data_key,omitempty"`
	// Changed, Added and Removed are value names. Changed is known only
	// when the data key was kept; after a rotation every value is
	// re-encrypted and Changed is empty.
	Changed []string `json:"changed,omitempty"`
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	// Problem is set when a side could not be read.
	Problem string `json:"problem,omitempty"`
}

// RuleDiff is the change of one creation rule of a .sops.yaml.
type RuleDiff struct {
	// Rule is the rule's number from 1 in the new config (old one when
	// removed), and Regex its path_regex ("" matches every file).
	Rule         int         `json:"rule"`
	Regex        string      `json:"path_regex"`
	Status       string      `json:"status"` // "added", "removed", "changed"
	Gained       []Recipient `json:"gained"`
	Lost         []Recipient `json:"lost"`
	OldThreshold int         `json:"old_threshold,omitempty"`
	NewThreshold int         `json:"new_threshold,omitempty"`
}

// Drift is a file whose wanted recipients the change altered but that was
// not updated to them.
type Drift struct {
	Path    string      `json:"path"`
	Missing []Recipient `json:"missing"`
	Extra   []Recipient `json:"extra"`
}

// ConfigDiff is what changed in one .sops.yaml.
type ConfigDiff struct {
	Path    string     `json:"path"`
	Status  string     `json:"status"` // "added", "deleted", "modified"
	Rules   []RuleDiff `json:"rules"`
	Drift   []Drift    `json:"drift"`
	Problem string     `json:"problem,omitempty"`
}

// DiffResult is the review of a change of sops files and .sops.yaml.
type DiffResult struct {
	Range   Range             `json:"-"`
	Base    string            `json:"base"`
	Head    string            `json:"head"` // "" for the work tree
	Label   string            `json:"range"`
	Access  []RecipientAccess `json:"access"`
	Files   []FileDiff        `json:"files"`
	Configs []ConfigDiff      `json:"configs"`
}

// Gained reports whether some recipient can now read a file of the base it
// could not read there, or a file of the base is no longer encrypted (so
// anyone who reads the repository can): what --fail-on-gain fails on.
func (d *DiffResult) Gained() bool {
	for _, a := range d.Access {
		if len(a.Gains) > 0 {
			return true
		}
	}
	for _, f := range d.Files {
		if f.Status == "decrypted" {
			return true
		}
	}
	return false
}

// Empty reports whether no sops file and no .sops.yaml changed.
func (d *DiffResult) Empty() bool { return len(d.Files) == 0 && len(d.Configs) == 0 }

type side struct {
	f    *sopsfile.File
	data []byte
	err  error // unreadable metadata (not: absent, not encrypted)
}

func readSide(r *Repo, rev, p string) (side, bool) {
	data, err := r.Read(rev, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return side{}, false
		}
		if errors.Is(err, ErrNotFile) {
			return side{}, true // there, but not a sops file
		}
		return side{err: err}, true
	}
	f, err := sopsfile.Parse(p, data)
	if errors.Is(err, sopsfile.ErrNotEncrypted) {
		return side{data: data}, true
	}
	return side{f: f, data: data, err: err}, true
}

// loadConfigAt reads the .sops.yaml at p in rev; nil when absent.
func loadConfigAt(r *Repo, rev, p string) (*recipients.Config, error) {
	data, err := r.Read(rev, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	return recipients.ParseConfig(p, data)
}

// Diff compares the sops files and .sops.yaml files of rg.Base and
// rg.Head. It reads metadata only: no key is needed and nothing is
// decrypted.
func Diff(r *Repo, rg Range) (*DiffResult, error) {
	changes, err := r.Changes(rg.Base, rg.Head)
	if err != nil {
		return nil, err
	}
	res := &DiffResult{Range: rg, Base: rg.Base, Head: rg.Head, Label: rg.Label}
	names, err := revisionNamer(r, rg)
	if err != nil {
		return nil, err
	}
	access := map[recipients.Key]*RecipientAccess{}
	acc := func(k recipients.Key) *RecipientAccess {
		a := access[k]
		if a == nil {
			a = &RecipientAccess{Recipient: Recipient{Name: names.Name(k), Key: k}}
			access[k] = a
		}
		return a
	}
	for _, c := range changes {
		if path.Base(c.Path) == ConfigName || (c.OldPath != "" && path.Base(c.OldPath) == ConfigName) {
			cd, err := diffConfig(r, rg, c, names)
			if err != nil {
				return nil, err
			}
			res.Configs = append(res.Configs, *cd)
			continue
		}
		fd, ok := diffFile(r, rg, c, names, acc)
		if ok {
			res.Files = append(res.Files, fd)
		}
	}
	for _, a := range access {
		if len(a.Gains)+len(a.Loses)+len(a.NewFiles) > 0 {
			res.Access = append(res.Access, *a)
		}
	}
	sort.Slice(res.Access, func(i, j int) bool { return res.Access[i].Recipient.Label() < res.Access[j].Recipient.Label() })
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Path < res.Files[j].Path })
	return res, nil
}

// revisionNamer names keys from every .sops.yaml of both revisions, the
// head's first.
func revisionNamer(r *Repo, rg Range) (*Namer, error) {
	var cfgs []*recipients.Config
	for _, rev := range []string{rg.Head, rg.Base} {
		files, err := r.Files(rev)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if path.Base(f.Path) != ConfigName {
				continue
			}
			if cfg, err := loadConfigAt(r, rev, f.Path); err == nil && cfg != nil {
				cfgs = append(cfgs, cfg)
			}
		}
	}
	return NewNamer(cfgs...), nil
}

func union(groups [][]sopsfile.Stanza) map[recipients.Key]bool {
	m := map[recipients.Key]bool{}
	for _, g := range groups {
		for _, s := range g {
			m[s.Key] = true
		}
	}
	return m
}

func sortedKeys(m map[recipients.Key]bool) []recipients.Key {
	ks := make([]recipients.Key, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if ks[i].Type != ks[j].Type {
			return ks[i].Type < ks[j].Type
		}
		return ks[i].ID < ks[j].ID
	})
	return ks
}

func (n *Namer) recipientsOf(keys []recipients.Key) []Recipient {
	out := make([]Recipient, 0, len(keys))
	for _, k := range keys {
		out = append(out, Recipient{Name: n.Name(k), Key: k})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Label() < out[j].Label() })
	return out
}

func diffFile(r *Repo, rg Range, c Change, names *Namer, acc func(recipients.Key) *RecipientAccess) (FileDiff, bool) {
	oldPath := c.Path
	if c.OldPath != "" {
		oldPath = c.OldPath
	}
	var old, cur side
	var oldOK, curOK bool
	if c.Status != 'A' {
		old, oldOK = readSide(r, rg.Base, oldPath)
	}
	if c.Status != 'D' {
		cur, curOK = readSide(r, rg.Head, c.Path)
	}
	oldSops := oldOK && (old.f != nil || old.err != nil)
	curSops := curOK && (cur.f != nil || cur.err != nil)
	if !oldSops && !curSops {
		return FileDiff{}, false
	}
	fd := FileDiff{Path: c.Path}
	if c.OldPath != "" && c.OldPath != c.Path {
		fd.OldPath = c.OldPath
	}
	switch {
	case !oldSops:
		fd.Status = "added"
	case !curOK:
		fd.Status = "deleted"
	case !curSops:
		fd.Status = "decrypted"
	case fd.OldPath != "":
		fd.Status = "renamed"
	default:
		fd.Status = "modified"
	}
	for _, s := range []side{old, cur} {
		if s.err != nil && fd.Problem == "" {
			fd.Problem = s.err.Error()
		}
	}
	if fd.Problem != "" {
		return fd, true
	}
	switch fd.Status {
	case "added":
		ks := sortedKeys(union(cur.f.Groups))
		fd.Readers = names.recipientsOf(ks)
		for _, k := range ks {
			a := acc(k)
			a.NewFiles = append(a.NewFiles, fd.Path)
		}
		fd.NewThreshold = EffectiveThreshold(cur.f.ShamirThreshold, len(cur.f.Groups))
		return fd, true
	case "deleted", "decrypted":
		return fd, true
	}
	of, nf := old.f, cur.f
	for i := 0; i < max(len(of.Groups), len(nf.Groups)); i++ {
		var og, ng []sopsfile.Stanza
		if i < len(of.Groups) {
			og = of.Groups[i]
		}
		if i < len(nf.Groups) {
			ng = nf.Groups[i]
		}
		om, nm := keySet(og), keySet(ng)
		gc := GroupChange{Group: i}
		var add, rem []recipients.Key
		for k := range nm {
			if _, ok := om[k]; !ok {
				add = append(add, k)
			}
		}
		for k := range om {
			if _, ok := nm[k]; !ok {
				rem = append(rem, k)
			}
		}
		if len(add)+len(rem) > 0 {
			gc.Added = names.recipientsOf(add)
			gc.Removed = names.recipientsOf(rem)
			fd.Groups = append(fd.Groups, gc)
		}
	}
	fd.OldThreshold = EffectiveThreshold(of.ShamirThreshold, len(of.Groups))
	fd.NewThreshold = EffectiveThreshold(nf.ShamirThreshold, len(nf.Groups))

	ov, err1 := sopsfile.Values(of, old.data)
	nv, err2 := sopsfile.Values(nf, cur.data)
	if err := errors.Join(err1, err2); err != nil {
		fd.Problem = err.Error()
		return fd, true
	}
	oldVals := map[string]string{}
	for _, v := range ov {
		oldVals[v.Name] = v.Ciphertext
	}
	kept := of.MAC != "" && of.MAC == nf.MAC
	for gi := 0; gi < min(len(of.Groups), len(nf.Groups)) && !kept; gi++ {
		om := keySet(of.Groups[gi])
		for _, s := range nf.Groups[gi] {
			if e, ok := om[s.Key]; ok && e == s.Enc && e != "" {
				kept = true
			}
		}
	}
	newNames := map[string]bool{}
	for _, v := range nv {
		newNames[v.Name] = true
		if c, ok := oldVals[v.Name]; ok && c == v.Ciphertext {
			kept = true
		}
	}
	for _, v := range nv {
		c, ok := oldVals[v.Name]
		switch {
		case !ok:
			fd.Added = append(fd.Added, v.Name)
		case c != v.Ciphertext && kept:
			fd.Changed = append(fd.Changed, v.Name)
		}
	}
	for _, v := range ov {
		if !newNames[v.Name] {
			fd.Removed = append(fd.Removed, v.Name)
		}
	}
	fd.DataKey = "rotated"
	if kept {
		fd.DataKey = "kept"
	}
	ou, nu := union(of.Groups), union(nf.Groups)
	for _, k := range sortedKeys(nu) {
		if !ou[k] {
			a := acc(k)
			a.Gains = append(a.Gains, fd.Path)
		}
	}
	for _, k := range sortedKeys(ou) {
		if !nu[k] {
			a := acc(k)
			a.Loses = append(a.Loses, fd.Path)
			if kept {
				a.LosesKept = append(a.LosesKept, fd.Path)
			}
		}
	}
	return fd, true
}

func ruleKeySet(rule *recipients.Rule) map[recipients.Key]bool {
	m := map[recipients.Key]bool{}
	if rule == nil {
		return m
	}
	for _, g := range rule.Groups {
		for _, mem := range g.Members {
			if mem.Err == nil {
				m[mem.Key] = true
			}
		}
	}
	return m
}

func groupSets(rule *recipients.Rule) []map[recipients.Key]bool {
	if rule == nil {
		return nil
	}
	var out []map[recipients.Key]bool
	for _, g := range rule.Groups {
		m := map[recipients.Key]bool{}
		for _, mem := range g.Members {
			if mem.Err == nil {
				m[mem.Key] = true
			}
		}
		out = append(out, m)
	}
	return out
}

func sameGroups(a, b []map[recipients.Key]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for k := range a[i] {
			if !b[i][k] {
				return false
			}
		}
	}
	return true
}

func diffConfig(r *Repo, rg Range, c Change, names *Namer) (*ConfigDiff, error) {
	oldPath := c.Path
	if c.OldPath != "" {
		oldPath = c.OldPath
	}
	cd := &ConfigDiff{Path: c.Path, Status: "modified"}
	var oldCfg, newCfg *recipients.Config
	var err error
	if c.Status != 'A' && path.Base(oldPath) == ConfigName {
		if oldCfg, err = loadConfigAt(r, rg.Base, oldPath); err != nil {
			cd.Problem = fmt.Sprintf("base: %v", err)
		}
	}
	if c.Status != 'D' && path.Base(c.Path) == ConfigName {
		if newCfg, err = loadConfigAt(r, rg.Head, c.Path); err != nil {
			cd.Problem = err.Error()
		}
	}
	switch {
	case oldCfg == nil && newCfg != nil:
		cd.Status = "added"
	case newCfg == nil && oldCfg != nil:
		cd.Status = "deleted"
		cd.Path = oldPath
	}
	if cd.Problem != "" {
		return cd, nil
	}
	var oldRules, newRules []*recipients.Rule
	if oldCfg != nil {
		oldRules = oldCfg.Rules
	}
	if newCfg != nil {
		newRules = newCfg.Rules
	}
	used := make([]bool, len(oldRules))
	for _, nr := range newRules {
		match := -1
		for i, or := range oldRules {
			if !used[i] && or.PathRegex == nr.PathRegex && or.HasPathRegex == nr.HasPathRegex {
				match = i
				break
			}
		}
		rd := RuleDiff{Rule: nr.Index + 1, Regex: nr.PathRegex, Status: "changed"}
		var ok map[recipients.Key]bool
		if match < 0 {
			rd.Status = "added"
			ok = map[recipients.Key]bool{}
		} else {
			used[match] = true
			ok = ruleKeySet(oldRules[match])
			rd.OldThreshold = EffectiveThreshold(oldRules[match].ShamirThreshold, len(oldRules[match].Groups))
		}
		nk := ruleKeySet(nr)
		rd.NewThreshold = EffectiveThreshold(nr.ShamirThreshold, len(nr.Groups))
		if match < 0 {
			rd.OldThreshold = 0
		}
		rd.Gained = names.recipientsOf(sortedKeys(minus(nk, ok)))
		rd.Lost = names.recipientsOf(sortedKeys(minus(ok, nk)))
		if rd.Status == "added" || len(rd.Gained)+len(rd.Lost) > 0 || rd.OldThreshold != rd.NewThreshold ||
			!sameGroups(groupSets(nr), groupSets(ruleOrNil(oldRules, match))) {
			cd.Rules = append(cd.Rules, rd)
		}
	}
	for i, or := range oldRules {
		if !used[i] {
			cd.Rules = append(cd.Rules, RuleDiff{Rule: or.Index + 1, Regex: or.PathRegex, Status: "removed",
				Gained: []Recipient{}, Lost: names.recipientsOf(sortedKeys(ruleKeySet(or)))})
		}
	}
	if newCfg != nil {
		drift, err := configDrift(r, rg, cd.Path, oldCfg, newCfg, names)
		if err != nil {
			return nil, err
		}
		cd.Drift = drift
	}
	return cd, nil
}

func ruleOrNil(rules []*recipients.Rule, i int) *recipients.Rule {
	if i < 0 {
		return nil
	}
	return rules[i]
}

func minus(a, b map[recipients.Key]bool) map[recipients.Key]bool {
	m := map[recipients.Key]bool{}
	for k := range a {
		if !b[k] {
			m[k] = true
		}
	}
	return m
}

// configDrift lists the sops files of the head governed by the config at
// cfgPath whose wanted key groups the change altered and that do not have
// the new ones.
func configDrift(r *Repo, rg Range, cfgPath string, oldCfg, newCfg *recipients.Config, names *Namer) ([]Drift, error) {
	files, err := r.Files(rg.Head)
	if err != nil {
		return nil, err
	}
	configs := map[string]bool{}
	for _, f := range files {
		if path.Base(f.Path) == ConfigName {
			configs[path.Dir(f.Path)] = true
		}
	}
	dir := path.Dir(cfgPath)
	var drift []Drift
	for _, f := range files {
		if path.Base(f.Path) == ConfigName || nearestConfigDir(f.Path, configs) != dir {
			continue
		}
		rel := f.Path
		if dir != "." {
			rel = strings.TrimPrefix(f.Path, dir+"/")
		}
		nr, err := newCfg.RuleForRel(rel)
		if err != nil || nr == nil {
			continue
		}
		var or *recipients.Rule
		if oldCfg != nil {
			or, _ = oldCfg.RuleForRel(rel)
		}
		if sameGroups(groupSets(or), groupSets(nr)) {
			continue
		}
		s, ok := readSide(r, rg.Head, f.Path)
		if !ok || s.f == nil {
			continue
		}
		diffs := DiffGroups(nr.Groups, s.f.Groups)
		if len(diffs) == 0 {
			continue
		}
		d := Drift{Path: f.Path}
		var missing, extra []recipients.Key
		for _, gd := range diffs {
			for _, m := range gd.Missing {
				missing = append(missing, m.Key)
			}
			for _, st := range gd.Extra {
				extra = append(extra, st.Key)
			}
		}
		d.Missing, d.Extra = names.recipientsOf(missing), names.recipientsOf(extra)
		drift = append(drift, d)
	}
	return drift, nil
}

// nearestConfigDir is the folder of the .sops.yaml sops would use for p
// (walking up from its folder), "" when none.
func nearestConfigDir(p string, configs map[string]bool) string {
	dir := path.Dir(p)
	for {
		if configs[dir] {
			return dir
		}
		if dir == "." || dir == "/" {
			return ""
		}
		dir = path.Dir(dir)
	}
}
