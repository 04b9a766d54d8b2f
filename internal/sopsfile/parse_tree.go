package sopsfile

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/getsops/sops/v3/version"

	"github.com/sopsfleet/sopsfleet/recipients"
)

type nodeKind uint8

const (
	kindNull nodeKind = iota
	kindScalar
	kindMap
	kindList
)

// mnode is a format-independent view of the metadata tree: just enough to
// read the fields sops reads, with the line of every value.
type mnode struct {
	kind  nodeKind
	value string // scalar text
	line  int    // first line of the node (for a map: its first key)
	end   int    // last line of the node
	keys  []string
	kline []int    // line of each key (map)
	items []*mnode // map values or list items

	// JSON only: byte offsets of the value and of each key.
	start, stop int
	kstart      []int
	// keyLine is the line of the "sops" key, for the root.
	keyLine int
}

func (n *mnode) get(key string) (*mnode, int) {
	if n == nil || n.kind != kindMap {
		return nil, 0
	}
	for i, k := range n.keys {
		if k == key {
			return n.items[i], n.kline[i]
		}
	}
	return nil, 0
}

// str returns a field as mapstructure's weak decoding would give a string.
func (n *mnode) str(key string) (string, int) {
	v, line := n.get(key)
	if v == nil || v.kind != kindScalar {
		return "", line
	}
	return v.value, line
}

func (n *mnode) list(key string) []*mnode {
	v, _ := n.get(key)
	if v == nil || v.kind != kindList {
		return nil
	}
	return v.items
}

// The order sops gives the stanza types within a group is irrelevant for
// comparisons; File keeps file order. This is the set sops knows.
var stanzaTypes = []recipients.KeyType{
	recipients.TypeKMS, recipients.TypeGCPKMS, recipients.TypeHCKMS, recipients.TypeAzureKV,
	recipients.TypeVault, recipients.TypePGP, recipients.TypeAge,
}

// encryptedValue is the shape sops gives an encrypted value (aes/cipher.go);
// [isEncryptedValue] is the same test without the regexp's backtracking,
// which took a tenth of check's time.
var encryptedValue = regexp.MustCompile(`^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]`)

// isEncryptedValue reports whether encryptedValue matches s. The match
// begins at the start and no part of it crosses a newline, so it lies in
// the first line; each separator is then found at its earliest place after
// a non-empty part, which leaves the most room for the parts after it.
func isEncryptedValue(s string) bool {
	const prefix = "ENC[AES256_GCM,data:"
	line, _, _ := strings.Cut(s, "\n")
	rest, ok := strings.CutPrefix(line, prefix)
	if !ok {
		return false
	}
	for _, sep := range []string{",iv:", ",tag:", ",type:", "]"} {
		if len(rest) < 1 {
			return false
		}
		i := strings.Index(rest[1:], sep)
		if i < 0 {
			return false
		}
		rest = rest[1+i+len(sep):]
	}
	return true
}

// semanticVersion reports whether sops' version.AIsNewerThanB accepts v:
// remembered for the few versions a tree holds (it splits and parses
// them anew for every file).
func semanticVersion(v string) bool {
	if ok, found := versions.Load(v); found {
		return ok.(bool)
	}
	_, err := version.AIsNewerThanB("3.3.0", v)
	if versionsKept.Add(1) <= 64 {
		versions.Store(strings.Clone(v), err == nil)
	}
	return err == nil
}

var (
	versions     sync.Map // version → bool
	versionsKept atomic.Int32
)

func (f *File) problem(line int, format string, args ...any) {
	f.Problems = append(f.Problems, Problem{Line: line, Message: fmt.Sprintf(format, args...)})
}

// fromTree fills f from the metadata tree as sops' stores.metadata does.
func (f *File) fromTree(root *mnode) error {
	if root.kind != kindMap {
		return fmt.Errorf("line %d: sops metadata is not a mapping", root.line)
	}
	f.Version, f.VersionLine = root.str("version")
	f.LastModified, f.LastModifiedLine = root.str("lastmodified")
	f.MAC, f.MACLine = root.str("mac")
	f.EncryptedRegex, _ = root.str("encrypted_regex")
	f.UnencryptedRegex, _ = root.str("unencrypted_regex")
	f.EncryptedSuffix, _ = root.str("encrypted_suffix")
	f.UnencryptedSuffix, _ = root.str("unencrypted_suffix")
	f.EncryptedCommentRegex, _ = root.str("encrypted_comment_regex")
	f.UnencryptedCommentRegex, _ = root.str("unencrypted_comment_regex")
	if s, _ := root.str("mac_only_encrypted"); s != "" {
		b, err := strconv.ParseBool(s)
		f.MACOnlyEncrypted = b
		if err != nil {
			_, line := root.get("mac_only_encrypted")
			f.problem(line, "mac_only_encrypted %q is not a boolean", s)
		}
	}
	if s, line := root.str("shamir_threshold"); s != "" {
		f.ShamirThresholdLine = line
		n, err := strconv.Atoi(s)
		if err != nil {
			f.problem(line, "shamir_threshold %q is not a number", s)
		}
		f.ShamirThreshold = n
	}
	if f.Version != "" {
		// sops compares every file's version with 3.3.0 before decrypting
		// (common.DetectKMSEncryptionContextBug) and fails when it is not
		// semantic.
		if !semanticVersion(f.Version) {
			f.problem(f.VersionLine, "version %q is not a sops version (major.minor.patch): sops refuses to decrypt the file", f.Version)
		}
	}
	if f.MAC != "" && !isEncryptedValue(f.MAC) {
		f.problem(f.MACLine, "mac is not an ENC[AES256_GCM,…] value: sops cannot verify the file")
	}
	if f.LastModified != "" {
		if _, err := time.Parse(time.RFC3339, f.LastModified); err != nil {
			f.problem(f.LastModifiedLine, "lastmodified %q is not an RFC 3339 time", f.LastModified)
		}
	}
	rules := 0
	for _, s := range []string{f.EncryptedRegex, f.UnencryptedRegex, f.EncryptedSuffix, f.UnencryptedSuffix, f.EncryptedCommentRegex, f.UnencryptedCommentRegex} {
		if s != "" {
			rules++
		}
	}
	if rules > 1 {
		f.problem(0, "more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, unencrypted_comment_regex")
	}

	// As sops: flat stanzas win over key_groups when there are any.
	flat := groupFromTree(root, 0)
	if len(flat) > 0 {
		f.Groups = [][]Stanza{flat}
		return nil
	}
	if kg, line := root.get("key_groups"); kg != nil && kg.kind == kindList && len(kg.items) > 0 {
		f.KeyGroupsForm = true
		for i, g := range kg.items {
			if g.kind != kindMap {
				f.problem(g.line, "key group %d is not a mapping", i)
				f.Groups = append(f.Groups, nil)
				continue
			}
			f.Groups = append(f.Groups, groupFromTree(g, i))
		}
		_ = line
		return nil
	}
	f.problem(f.MetadataLine, "no keys found in the metadata")
	return nil
}

// groupFromTree reads the stanzas of one group (or of the flat metadata).
func groupFromTree(g *mnode, group int) []Stanza {
	n := 0
	for _, t := range stanzaTypes {
		n += len(g.list(string(t)))
	}
	if n == 0 {
		return nil
	}
	out := make([]Stanza, 0, n)
	for _, t := range stanzaTypes {
		for i, item := range g.list(string(t)) {
			out = append(out, stanzaFromTree(t, item, group, i))
		}
	}
	slices.SortStableFunc(out, func(a, b Stanza) int { return cmp.Compare(a.Line, b.Line) })
	return out
}

func stanzaFromTree(t recipients.KeyType, n *mnode, group, index int) Stanza {
	s := Stanza{Key: recipients.Key{Type: t}, Line: n.line, EndLine: n.end, Group: group, Index: index}
	if n.kind != kindMap {
		s.Problem = fmt.Sprintf("%s entry is not a mapping", t)
		return s
	}
	s.Enc, _ = n.str("enc")
	s.CreatedAt, _ = n.str("created_at")
	var missing []string
	need := func(field string) string {
		v, _ := n.str(field)
		if v == "" {
			missing = append(missing, field)
		}
		return v
	}
	switch t {
	case recipients.TypeAge:
		s.Key.ID = need("recipient")
	case recipients.TypePGP:
		s.Key.ID = need("fp")
	case recipients.TypeKMS:
		arn := need("arn")
		id := arn
		if role, _ := n.str("role"); role != "" {
			id += "+" + role
		}
		ctx := kmsContext(n)
		profile, _ := n.str("aws_profile")
		switch {
		case profile != "":
			id = id + "|" + ctx + "|" + profile
		case ctx != "":
			id = id + "|" + ctx
		}
		s.Key.ID = id
	case recipients.TypeGCPKMS:
		s.Key.ID = need("resource_id")
	case recipients.TypeAzureKV:
		url, name, version := need("vault_url"), need("name"), need("version")
		s.Key.ID = url + "/keys/" + name + "/" + version
	case recipients.TypeVault:
		addr, engine, name := need("vault_address"), need("engine_path"), need("key_name")
		s.Key.ID = addr + "/v1/" + engine + "/keys/" + name
	case recipients.TypeHCKMS:
		s.Key.ID = need("key_id")
		if s.Key.ID != "" {
			if region, uuid, ok := strings.Cut(s.Key.ID, ":"); !ok || region == "" || uuid == "" {
				s.Problem = fmt.Sprintf("hckms key_id %q is not region:key-uuid", s.Key.ID)
			}
		}
	}
	if s.Enc == "" {
		missing = append(missing, "enc")
	}
	switch {
	case len(missing) > 0:
		s.Problem = fmt.Sprintf("%s entry has no %s", t, strings.Join(missing, ", "))
	case s.Problem != "":
	case t != recipients.TypeAge:
		if _, err := time.Parse(time.RFC3339, s.CreatedAt); err != nil {
			s.Problem = fmt.Sprintf("%s entry created_at %q is not an RFC 3339 time", t, s.CreatedAt)
		}
	}
	return s
}

// kmsContext renders an encryption context as sops' kmsContextToString.
func kmsContext(n *mnode) string {
	c, _ := n.get("context")
	if c == nil || c.kind != kindMap || len(c.keys) == 0 {
		return ""
	}
	type kv struct{ k, v string }
	pairs := make([]kv, len(c.keys))
	for i, k := range c.keys {
		pairs[i] = kv{k, c.items[i].value}
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].k < pairs[j].k })
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.k)
		b.WriteByte(':')
		b.WriteString(p.v)
	}
	return b.String()
}
