package audit

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// Secret statuses in an exposure report.
const (
	// StillExposed: the value the key could read is the value today — the
	// current file still uses a data key it held, or (with an identity)
	// today's plaintext equals the last readable one.
	StillExposed = "still-exposed"
	// Changed: with an identity, today's plaintext differs.
	Changed = "changed"
	// Unknown: keyless, and the data key was rotated since: only an
	// identity can tell.
	Unknown = "unknown"
	// Removed: the name (or the whole file) is no longer in the current
	// revision.
	Removed = "removed"
)

// ExposureOptions are the inputs of Exposure.
type ExposureOptions struct {
	// Revs are the revisions whose history is walked (nil: HEAD; "--all"
	// every ref); Since, when set, leaves out what it reaches.
	Revs  []string
	Since string
	// Opener, when it has identities, compares plaintext in memory where it
	// opens both revisions. Nil: keyless.
	Opener *sopsfile.Opener
}

// Revision is a commit of an exposure report.
type Revision struct {
	Commit string `json:"commit"`
	Date   string `json:"date"`
}

// SecretExposure is one secret name a key could read and what became of
// its value.
type SecretExposure struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// FileExposure is what a key could read of one file (by path).
type FileExposure struct {
	Path string `json:"path"`
	// First and Last are the first and last revisions the key could read;
	// Revisions how many of the walked commits it could read.
	First     Revision `json:"first"`
	Last      Revision `json:"last"`
	Revisions int      `json:"revisions"`
	// Current is "readable" when the current revision still uses a data key
	// the key held, "rotated" when it does not, "deleted" when the path is
	// not in the current revision.
	Current string `json:"current"`
	// RenamedFrom are earlier paths of this file: paths no longer in the
	// current revision whose last readable version shares its data key with
	// this file's current version (a git mv, or a copy whose original was
	// then deleted). Their revisions are counted here, not listed apart.
	RenamedFrom  []string         `json:"renamed_from,omitempty"`
	Secrets      []SecretExposure `json:"secrets"`
	StillExposed int              `json:"still_exposed"`
}

// ExposureResult is what a key (or the keys a name stood for) could read in
// the history walked.
type ExposureResult struct {
	Query   string      `json:"query"`
	Keys    []Recipient `json:"keys"`
	Head    string      `json:"head"`
	Commits int         `json:"commits"`
	// Keyless is true when no identity compared plaintext.
	Keyless      bool           `json:"keyless"`
	Files        []FileExposure `json:"files"`
	StillExposed int            `json:"still_exposed"`
	// Unknown counts the names whose status is Unknown.
	Unknown int `json:"unknown"`
}

// blobInfo is one parsed version of a sops file, shared by every commit and
// path that has the same blob.
type blobInfo struct {
	f     *sopsfile.File
	data  []byte
	vals  []sopsfile.Value
	class int // data-key class (union-find index)
	keys  map[recipients.Key]bool
}

// dataKeys groups file versions by data key without decrypting: two
// versions share a data key when they share a recipient entry, a value
// ciphertext or a mac (each is encrypted with it), or when an identity
// opened the same key from both.
type dataKeys struct {
	parent []int
	token  map[string]int
}

func (d *dataKeys) find(i int) int {
	for d.parent[i] != i {
		d.parent[i] = d.parent[d.parent[i]]
		i = d.parent[i]
	}
	return i
}

func (d *dataKeys) add(tokens []string) int {
	c := len(d.parent)
	d.parent = append(d.parent, c)
	for _, t := range tokens {
		if o, ok := d.token[t]; ok {
			d.parent[d.find(o)] = d.find(c)
		} else {
			d.token[t] = c
		}
	}
	return c
}

// ErrUnknownRecipient reports a name or key found nowhere in the history.
var ErrUnknownRecipient = errors.New("no recipient")

// ResolveName finds the keys a name (or key) stands for in the history: by
// name in every version of every .sops.yaml of commits (after a replace,
// a name stands for the old key and the new one), or the key itself when it
// is one that a version names or a file holds.
func ResolveName(r *Repo, commits []Commit, nameOrKey string) ([]recipients.Key, *Namer, error) {
	seen := map[string]bool{}
	found := map[recipients.Key]bool{}
	var cfgs []*recipients.Config
	for i := len(commits) - 1; i >= 0; i-- {
		files, err := r.TreeFiles(commits[i].Tree)
		if err != nil {
			return nil, nil, err
		}
		for _, f := range files {
			if path.Base(f.Path) != ConfigName || seen[f.Blob] {
				continue
			}
			seen[f.Blob] = true
			data, err := r.Blob(f.Blob)
			if err != nil {
				return nil, nil, err
			}
			cfg, err := recipients.ParseConfig(f.Path, data)
			if err != nil {
				continue // a broken old version names nothing
			}
			cfgs = append(cfgs, cfg)
			if k, err := cfg.Lookup(nameOrKey); err == nil {
				found[k] = true
			}
		}
	}
	s := strings.TrimSpace(nameOrKey)
	if len(found) == 0 && (strings.HasPrefix(s, "age1") || strings.HasPrefix(s, "ssh-")) {
		found[recipients.Key{Type: recipients.TypeAge, ID: s}] = true
	}
	if len(found) == 0 && isFingerprint(s) {
		found[recipients.Key{Type: recipients.TypePGP, ID: strings.ToUpper(s)}] = true
	}
	if len(found) == 0 {
		return nil, nil, fmt.Errorf("%w %s in any version of %s in the history walked", ErrUnknownRecipient, recipients.QuoteInput(nameOrKey), ConfigName)
	}
	return sortedKeys(found), NewNamer(cfgs...), nil
}

func isFingerprint(s string) bool {
	if len(s) != 40 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// Exposure walks the history and lists, per file, what the keys of
// nameOrKey could read: the revisions where a key was a recipient and every
// other revision that kept a data key it held (a removal without rotation
// leaves every later value readable to it), the secret names in them, and
// for each name whether its value has changed since. Values are never
// returned; with an identity, plaintext is compared in memory only.
func Exposure(r *Repo, nameOrKey string, opts ExposureOptions) (*ExposureResult, error) {
	commits, headCommit, err := walkStart(r, opts)
	if err != nil {
		return nil, err
	}
	keys, names, err := ResolveName(r, append(commits, headCommit), nameOrKey)
	if err != nil {
		return nil, err
	}
	return exposure(r, nameOrKey, keys, names, commits, headCommit, opts)
}

// ExposureOfKeys is Exposure for keys already known (a command that is
// removing a key knows it): no name is resolved, and names are given by
// names (nil: none).
func ExposureOfKeys(r *Repo, keys []recipients.Key, names *Namer, opts ExposureOptions) (*ExposureResult, error) {
	commits, headCommit, err := walkStart(r, opts)
	if err != nil {
		return nil, err
	}
	query := ""
	if len(keys) > 0 {
		query = names.Label(keys[0])
	}
	return exposure(r, query, keys, names, commits, headCommit, opts)
}

func walkStart(r *Repo, opts ExposureOptions) ([]Commit, Commit, error) {
	commits, err := r.Log(opts.Revs, opts.Since)
	if err != nil {
		return nil, Commit{}, err
	}
	head, err := r.ResolveCommit("HEAD")
	if err != nil {
		return nil, Commit{}, err
	}
	out, err := r.git("rev-parse", head+"^{tree}")
	if err != nil {
		return nil, Commit{}, err
	}
	return commits, Commit{ID: head, Tree: strings.TrimSpace(string(out))}, nil
}

func exposure(r *Repo, query string, keys []recipients.Key, names *Namer, commits []Commit, headCommit Commit, opts ExposureOptions) (*ExposureResult, error) {
	head := headCommit.ID
	res := &ExposureResult{Query: query, Keys: names.recipientsOf(keys), Head: head, Commits: len(commits),
		Keyless: opts.Opener == nil || !opts.Opener.HasAgeIdentities()}
	want := map[recipients.Key]bool{}
	for _, k := range keys {
		want[k] = true
	}

	dk := &dataKeys{token: map[string]int{}}
	blobs := map[string]*blobInfo{} // blob id + format → version
	load := func(f TreeFile) (*blobInfo, error) {
		format := sopsfile.FormatFor(f.Path)
		id := f.Blob + ":" + format.String()
		if b, ok := blobs[id]; ok {
			return b, nil
		}
		blobs[id] = nil
		data, err := r.Blob(f.Blob)
		if err != nil {
			return nil, err
		}
		if !bytes.Contains(data, []byte("sops")) {
			return nil, nil
		}
		sf, err := sopsfile.Parse(f.Path, data)
		if err != nil {
			return nil, nil // not sops, or unreadable: nothing can be said
		}
		vals, err := sopsfile.Values(sf, data)
		if err != nil {
			return nil, nil
		}
		b := &blobInfo{f: sf, data: data, vals: vals, keys: map[recipients.Key]bool{}}
		var tokens []string
		if sf.MAC != "" {
			tokens = append(tokens, "mac\x00"+sf.MAC)
		}
		for _, g := range sf.Groups {
			for _, s := range g {
				b.keys[s.Key] = true
				if s.Enc != "" {
					tokens = append(tokens, "enc\x00"+s.Key.String()+"\x00"+s.Enc)
				}
			}
		}
		for _, v := range vals {
			tokens = append(tokens, "ct\x00"+v.Ciphertext)
		}
		b.class = dk.add(tokens)
		blobs[id] = b
		return b, nil
	}

	// Pass 1: every version of every file, and which data keys were held.
	history := map[string][]seenAt{}
	for _, c := range commits {
		files, err := r.TreeFiles(c.Tree)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if path.Base(f.Path) == ConfigName {
				continue
			}
			b, err := load(f)
			if err != nil {
				return nil, err
			}
			if b != nil {
				history[f.Path] = append(history[f.Path], seenAt{c, b})
			}
		}
	}
	// The current revision of each path.
	current := map[string]*blobInfo{}
	headFiles, err := r.TreeFiles(headCommit.Tree)
	if err != nil {
		return nil, err
	}
	for _, f := range headFiles {
		if b, _ := load(f); b != nil {
			current[f.Path] = b
		}
	}

	held := map[int]bool{}
	for _, b := range blobs {
		if b == nil {
			continue
		}
		for k := range b.keys {
			if want[k] {
				held[dk.find(b.class)] = true
			}
		}
	}

	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	digests := map[*blobInfo]map[string][32]byte{}
	plain := func(b *blobInfo) map[string][32]byte {
		if res.Keyless {
			return nil
		}
		if d, ok := digests[b]; ok {
			return d
		}
		digests[b] = nil
		key, err := opts.Opener.OpenDataKey(b.f, b.data)
		if err != nil {
			return nil
		}
		d, err := sopsfile.PlainDigests(b.f, b.data, key, salt)
		if err != nil {
			return nil
		}
		digests[b] = d
		return d
	}

	renamedFrom := followRenames(history, current, commits, func(b *blobInfo) int { return dk.find(b.class) }, func(b *blobInfo) bool { return held[dk.find(b.class)] })

	paths := make([]string, 0, len(history))
	for p := range history {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fe := FileExposure{Path: p, RenamedFrom: renamedFrom[p]}
		lastFor := map[string]*blobInfo{}
		var order []string
		for _, s := range history[p] {
			if !held[dk.find(s.b.class)] {
				continue
			}
			rev := Revision{Commit: s.commit.ID, Date: s.commit.Date}
			if fe.Revisions == 0 {
				fe.First = rev
			}
			fe.Last = rev
			fe.Revisions++
			for _, v := range s.b.vals {
				if _, ok := lastFor[v.Name]; !ok {
					order = append(order, v.Name)
				}
				lastFor[v.Name] = s.b
			}
		}
		if fe.Revisions == 0 {
			continue
		}
		cur := current[p]
		switch {
		case cur == nil:
			fe.Current = "deleted"
		case held[dk.find(cur.class)]:
			fe.Current = "readable"
		default:
			fe.Current = "rotated"
		}
		var curVals map[string]string
		if cur != nil {
			curVals = map[string]string{}
			for _, v := range cur.vals {
				curVals[v.Name] = v.Ciphertext
			}
		}
		for _, name := range order {
			st := Unknown
			_, inCur := curVals[name]
			switch {
			case !inCur:
				st = Removed
			case fe.Current == "readable":
				st = StillExposed
			default:
				was, now := plain(lastFor[name]), plain(cur)
				if a, ok := was[name]; ok {
					if b, ok := now[name]; ok {
						st = Changed
						if a == b {
							st = StillExposed
						}
					}
				}
			}
			switch st {
			case StillExposed:
				fe.StillExposed++
			case Unknown:
				res.Unknown++
			}
			fe.Secrets = append(fe.Secrets, SecretExposure{Name: name, Status: st})
		}
		res.StillExposed += fe.StillExposed
		res.Files = append(res.Files, fe)
	}
	return res, nil
}

// seenAt is one version of a path in the history walked.
type seenAt struct {
	commit Commit
	b      *blobInfo
}

// followRenames folds the history of each path that is not in the current
// revision into the path that holds its data key now: when its last
// readable version (held) shares a data key (class) with the current
// version of another path, that path is the same file under a new name (a
// git mv, or a copy whose original was deleted). history is changed in
// place, the versions merged in commit order; the result maps each new path
// to the old paths folded into it. A path whose data key no current file
// holds stays on its own: deleted, or renamed and rotated since (keyless,
// nothing links those).
func followRenames(history map[string][]seenAt, current map[string]*blobInfo, commits []Commit, class func(*blobInfo) int, held func(*blobInfo) bool) map[string][]string {
	byClass := map[int][]string{}
	for p, b := range current {
		if held(b) {
			byClass[class(b)] = append(byClass[class(b)], p)
		}
	}
	for _, ps := range byClass {
		sort.Strings(ps)
	}
	pos := make(map[string]int, len(commits))
	for i, c := range commits {
		pos[c.ID] = i
	}
	var gone []string
	for p := range history {
		if current[p] == nil {
			gone = append(gone, p)
		}
	}
	sort.Strings(gone)
	out := map[string][]string{}
	for _, p := range gone {
		var last *blobInfo
		for _, s := range history[p] {
			if held(s.b) {
				last = s.b
			}
		}
		if last == nil {
			continue
		}
		var to string
		for _, q := range byClass[class(last)] {
			if q != p {
				to = q
				break
			}
		}
		if to == "" {
			continue
		}
		merged := append(append([]seenAt(nil), history[p]...), history[to]...)
		sort.SliceStable(merged, func(i, j int) bool { return pos[merged[i].commit.ID] < pos[merged[j].commit.ID] })
		// A commit that had both paths (a copy, before the original was
		// deleted) counts once, with the new path's version.
		dedup := merged[:0]
		for _, s := range merged {
			if n := len(dedup); n > 0 && dedup[n-1].commit.ID == s.commit.ID {
				dedup[n-1] = s
				continue
			}
			dedup = append(dedup, s)
		}
		history[to] = dedup
		delete(history, p)
		out[to] = append(out[to], p)
	}
	return out
}
