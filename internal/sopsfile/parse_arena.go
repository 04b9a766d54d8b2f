package sopsfile

import "sync"

// marena hands out the mnodes of one metadata tree, and the slices of their
// children, from chunks: a tree costs a few allocations instead of several
// per node (Parse runs for every file of a walk). The children of the maps
// and lists being read are collected on stacks and copied out, at their
// exact size, when the collection is done.
type marena struct {
	nodes []mnode

	// stacks of the children of the collections being read
	keys   []string
	klines []int
	kstart []int
	items  []*mnode

	// lines of the block the fast YAML reader reads
	lines [][]byte

	// chunks the finished slices are cut from
	strChunk  []string
	intChunk  []int
	itemChunk []*mnode
}

// node returns a new zero mnode.
func (a *marena) node() *mnode {
	if len(a.nodes) == cap(a.nodes) {
		// A new chunk; the nodes of the old one stay where they are.
		a.nodes = make([]mnode, 0, min(max(16, 2*cap(a.nodes)), 1024))
	}
	a.nodes = a.nodes[:len(a.nodes)+1]
	return &a.nodes[len(a.nodes)-1]
}

// mark is where the children of a collection begin on the stacks.
type mark struct{ keys, items int }

func (a *marena) mark() mark { return mark{len(a.keys), len(a.items)} }

// pushKey adds a map entry to the collection being read.
func (a *marena) pushKey(key string, line, start int, item *mnode) {
	a.keys = append(a.keys, key)
	a.klines = append(a.klines, line)
	a.kstart = append(a.kstart, start)
	a.items = append(a.items, item)
}

// pushItem adds a list item to the collection being read.
func (a *marena) pushItem(item *mnode) { a.items = append(a.items, item) }

// finish sets the children of n to those pushed since m and pops them;
// withStart also sets n.kstart (JSON).
func (a *marena) finish(n *mnode, m mark, withStart bool) {
	if k := len(a.keys) - m.keys; k > 0 {
		n.keys = cutStrings(&a.strChunk, a.keys[m.keys:])
		n.kline = cutInts(&a.intChunk, a.klines[m.keys:])
		if withStart {
			n.kstart = cutInts(&a.intChunk, a.kstart[m.keys:])
		}
		a.keys, a.klines, a.kstart = a.keys[:m.keys], a.klines[:m.keys], a.kstart[:m.keys]
	}
	if k := len(a.items) - m.items; k > 0 {
		n.items = cutItems(&a.itemChunk, a.items[m.items:])
		a.items = a.items[:m.items]
	}
}

// chunkCap is the size of a new chunk for n more elements.
func chunkCap(n int) int { return max(n, 64) }

func cutStrings(chunk *[]string, src []string) []string {
	c := *chunk
	if cap(c)-len(c) < len(src) {
		c = make([]string, 0, chunkCap(len(src)))
	}
	start := len(c)
	c = append(c, src...)
	*chunk = c
	return c[start:len(c):len(c)]
}

func cutInts(chunk *[]int, src []int) []int {
	c := *chunk
	if cap(c)-len(c) < len(src) {
		c = make([]int, 0, chunkCap(len(src)))
	}
	start := len(c)
	c = append(c, src...)
	*chunk = c
	return c[start:len(c):len(c)]
}

func cutItems(chunk *[]*mnode, src []*mnode) []*mnode {
	c := *chunk
	if cap(c)-len(c) < len(src) {
		c = make([]*mnode, 0, chunkCap(len(src)))
	}
	start := len(c)
	c = append(c, src...)
	*chunk = c
	return c[start:len(c):len(c)]
}

// metadataKey returns key as a string, without allocating for the keys
// sops writes in its metadata.
func metadataKey(key []byte) string {
	switch string(key) {
	case "sops":
		return "sops"
	case "age":
		return "age"
	case "recipient":
		return "recipient"
	case "enc":
		return "enc"
	case "pgp":
		return "pgp"
	case "fp":
		return "fp"
	case "created_at":
		return "created_at"
	case "kms":
		return "kms"
	case "arn":
		return "arn"
	case "role":
		return "role"
	case "context":
		return "context"
	case "aws_profile":
		return "aws_profile"
	case "gcp_kms":
		return "gcp_kms"
	case "resource_id":
		return "resource_id"
	case "azure_kv":
		return "azure_kv"
	case "vault_url":
		return "vault_url"
	case "name":
		return "name"
	case "version":
		return "version"
	case "hc_vault":
		return "hc_vault"
	case "vault_address":
		return "vault_address"
	case "engine_path":
		return "engine_path"
	case "key_name":
		return "key_name"
	case "hckms":
		return "hckms"
	case "key_id":
		return "key_id"
	case "key_groups":
		return "key_groups"
	case "shamir_threshold":
		return "shamir_threshold"
	case "lastmodified":
		return "lastmodified"
	case "mac":
		return "mac"
	case "unencrypted_suffix":
		return "unencrypted_suffix"
	case "encrypted_suffix":
		return "encrypted_suffix"
	case "unencrypted_regex":
		return "unencrypted_regex"
	case "encrypted_regex":
		return "encrypted_regex"
	case "unencrypted_comment_regex":
		return "unencrypted_comment_regex"
	case "encrypted_comment_regex":
		return "encrypted_comment_regex"
	case "mac_only_encrypted":
		return "mac_only_encrypted"
	}
	return string(key)
}

// parseScratch is the memory Parse builds a metadata tree in. The tree is
// dropped once the File is read from it (no File field points into it),
// so Parse hands the memory to the next Parse (scratches) instead of
// allocating it again for every file of a walk.
type parseScratch struct {
	a       marena
	flat    flatTree
	entries []flatEntry
}

var scratches = sync.Pool{New: func() any { return new(parseScratch) }}

// release clears what s points to (so that the strings of a file do not
// outlive it) and gives s back for reuse.
func (s *parseScratch) release() {
	s.a.reset()
	clear(s.flat.nodes)
	s.flat.nodes = s.flat.nodes[:0]
	s.flat.entries = nil
	clear(s.entries)
	s.entries = s.entries[:0]
	scratches.Put(s)
}

// reset empties a, keeping its latest chunks for the next tree.
func (a *marena) reset() {
	clear(a.nodes)
	a.nodes = a.nodes[:0]
	clear(a.keys[:cap(a.keys)])
	a.keys, a.klines, a.kstart = a.keys[:0], a.klines[:0], a.kstart[:0]
	clear(a.items[:cap(a.items)])
	a.items = a.items[:0]
	clear(a.strChunk)
	a.strChunk = a.strChunk[:0]
	a.intChunk = a.intChunk[:0]
	clear(a.itemChunk)
	a.itemChunk = a.itemChunk[:0]
	clear(a.lines[:cap(a.lines)])
	a.lines = a.lines[:0]
}
