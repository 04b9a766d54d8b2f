package sopsfile

import (
	"fmt"

	"github.com/getsops/sops/v3"
)

// SecretNames lists the names (paths) of the encrypted values of a file —
// never the values — in file order: "db.password", "hosts[2].token" in YAML
// and JSON, "KEY" in dotenv, "section.key" in INI, "data" for a binary file.
// In a multi-document YAML file, names in documents after the first are
// prefixed with "document N: ". Nothing is decrypted.
func SecretNames(f *File, data []byte) ([]string, error) {
	vals, err := Values(f, data)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(vals))
	for i, v := range vals {
		names[i] = v.Name
	}
	return names, nil
}

// walkLeaves calls emit with the key path ("a.b[2].c") of every value of a
// sops tree that is not a branch, a list or a comment.
func walkLeaves(v any, path string, emit func(path string, leaf any)) {
	switch v := v.(type) {
	case sops.TreeBranch:
		for _, item := range v {
			if _, ok := item.Key.(sops.Comment); ok {
				continue
			}
			name := fmt.Sprint(item.Key)
			if path != "" {
				name = path + "." + name
			}
			walkLeaves(item.Value, name, emit)
		}
	case []any:
		for i, e := range v {
			walkLeaves(e, fmt.Sprintf("%s[%d]", path, i), emit)
		}
	case sops.Comment:
	default:
		emit(path, v)
	}
}
