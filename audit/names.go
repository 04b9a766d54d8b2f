package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// Digest returns a short stable digest of s (the first 10 hex digits of
// its SHA-256), used in place of ciphertext so that a change shows without
// the ciphertext itself.
func Digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:5])
}

// keyLabel is [ShortKey] without the "type:" that some of its forms start
// with, for the history commands, which put the type in front themselves:
// one abbreviation of a key everywhere.
func keyLabel(k recipients.Key) string {
	return strings.TrimPrefix(ShortKey(k), string(k.Type)+":")
}

// Namer names keys: the first config that names a key wins. A nil Namer
// (or one without configs) names nothing.
type Namer struct {
	configs []*recipients.Config
}

// NewNamer returns a Namer that asks configs in order; nil entries are
// skipped.
func NewNamer(configs ...*recipients.Config) *Namer {
	n := &Namer{}
	for _, c := range configs {
		if c != nil {
			n.configs = append(n.configs, c)
		}
	}
	return n
}

// Name returns the name a config gives k, or "".
func (n *Namer) Name(k recipients.Key) string {
	if n == nil {
		return ""
	}
	for _, c := range n.configs {
		if name := c.NameOf(k); name != "" {
			return name
		}
	}
	// A native ssh-ed25519 key and its age conversion are one private
	// key: they share a name.
	for _, c := range n.configs {
		if name := c.TwinName(k); name != "" {
			return name
		}
	}
	return ""
}

// Label returns the name of k when a config names it, else its type and
// shortened key ("age:age1abcdefgh…wxyz").
func (n *Namer) Label(k recipients.Key) string {
	if name := n.Name(k); name != "" {
		return name
	}
	return string(k.Type) + ":" + keyLabel(k)
}
