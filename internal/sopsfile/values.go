package sopsfile

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/cmd/sops/common"
)

// Value is one encrypted value of a file, read without decrypting: its name
// as SecretNames gives it and its ciphertext exactly as sops stores it
// ("ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]"). Under one data key, equal
// ciphertext means an equal value (sops keeps the ciphertext of values that
// did not change), and a different ciphertext a changed value.
type Value struct {
	Name       string
	Ciphertext string
}

// Values lists the encrypted values of a file in file order, with the
// names SecretNames gives. Encrypted comments are not values and are left
// out. Nothing is decrypted.
func Values(f *File, data []byte) ([]Value, error) {
	_, tree, err := loadTree(f, data, "")
	if err != nil {
		return nil, err
	}
	return treeValues(tree), nil
}

// treeValues lists the encrypted values of a loaded (still encrypted) tree.
func treeValues(tree sops.Tree) []Value {
	var vals []Value
	for i, branch := range tree.Branches {
		prefix := docPrefix(len(tree.Branches), i)
		walkValues(branch, "", func(path, enc string) {
			vals = append(vals, Value{Name: prefix + path, Ciphertext: enc})
		})
	}
	return vals
}

// docPrefix is what names in document i of n carry: nothing in the first
// (or only) document, "document N: " in the others.
func docPrefix(n, i int) string {
	if n > 1 && i > 0 {
		return fmt.Sprintf("document %d: ", i+1)
	}
	return ""
}

func walkValues(v any, path string, emit func(path, enc string)) {
	walkLeaves(v, path, func(path string, leaf any) {
		if s, ok := leaf.(string); ok && strings.HasPrefix(s, "ENC[") {
			emit(path, s)
		}
	})
}

// MaskedPlain returns the data of a sops file without its metadata, emitted
// in the file's own format by sops' store, with every encrypted value and
// encrypted comment replaced by mask(ciphertext). Unencrypted values stay as
// they are. Nothing is decrypted, and mask must not return ciphertext it
// wants hidden. A binary file gives its single value followed by a newline.
func MaskedPlain(f *File, data []byte, mask func(ciphertext string) string) ([]byte, error) {
	store, tree, err := loadTree(f, data, "")
	if err != nil {
		return nil, err
	}
	if f.Format == FormatBinary {
		var out strings.Builder
		for _, b := range tree.Branches {
			for _, item := range b {
				if s, ok := item.Value.(string); ok && strings.HasPrefix(s, "ENC[") {
					s = mask(s)
					out.WriteString(fmt.Sprint(item.Key) + ": " + s + "\n")
				}
			}
		}
		return []byte(out.String()), nil
	}
	for i := range tree.Branches {
		tree.Branches[i] = maskBranch(tree.Branches[i], mask)
	}
	out, err := store.EmitPlainFile(tree.Branches)
	if err != nil {
		return nil, fmt.Errorf("sops cannot emit the file: %v", err)
	}
	return out, nil
}

func maskBranch(b sops.TreeBranch, mask func(string) string) sops.TreeBranch {
	out := make(sops.TreeBranch, len(b))
	for i, item := range b {
		if c, ok := item.Key.(sops.Comment); ok && strings.HasPrefix(c.Value, "ENC[") {
			item.Key = sops.Comment{Value: mask(c.Value)}
		}
		item.Value = maskValue(item.Value, mask)
		out[i] = item
	}
	return out
}

func maskValue(v any, mask func(string) string) any {
	switch v := v.(type) {
	case sops.TreeBranch:
		return maskBranch(v, mask)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = maskValue(e, mask)
		}
		return out
	case sops.Comment:
		if strings.HasPrefix(v.Value, "ENC[") {
			return sops.Comment{Value: mask(v.Value)}
		}
		return v
	case string:
		if strings.HasPrefix(v, "ENC[") {
			return mask(v)
		}
	}
	return v
}

// PlainDigests decrypts the values of f (whose text is data) with dataKey,
// in memory, and returns for each encrypted value's name (as Values names
// it) an HMAC-SHA256 of its plaintext under salt — never the plaintext —
// so that two revisions can be compared without keeping or showing any
// value. The file's mac is checked.
func PlainDigests(f *File, data, dataKey, salt []byte) (map[string][32]byte, error) {
	_, tree, err := loadTree(f, data, "")
	if err != nil {
		return nil, err
	}
	// Which values are encrypted is read before the tree is decrypted in
	// place: one load serves both.
	vals := treeValues(tree)
	encrypted := make(map[string]bool, len(vals))
	for _, v := range vals {
		encrypted[v.Name] = true
	}
	tree.Metadata.DataKey = dataKey
	if _, err := common.DecryptTree(common.DecryptTreeOpts{Tree: &tree, Cipher: aes.NewCipher()}); err != nil {
		return nil, decryptError(f, err)
	}
	out := make(map[string][32]byte, len(vals))
	for i, branch := range tree.Branches {
		prefix := docPrefix(len(tree.Branches), i)
		walkLeaves(branch, "", func(path string, v any) {
			if name := prefix + path; encrypted[name] {
				m := hmac.New(sha256.New, salt)
				fmt.Fprintf(m, "%T\x00%v", v, v)
				var d [32]byte
				copy(d[:], m.Sum(nil))
				out[name] = d
			}
		})
	}
	return out, nil
}
