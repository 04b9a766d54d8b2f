package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// PlainSecret is a Kubernetes Secret stored unencrypted in a file that a
// creation rule matches, whose data that rule's selector would encrypt: the
// secret was committed before anyone ran sops on it.
type PlainSecret struct {
	// Name is the Secret's metadata.name ("" when absent).
	Name string
	// Document is the document's number in a multi-document YAML file,
	// from 1 (1 for JSON).
	Document int
	// Line is the line of the first key listed (0 when unknown).
	Line int
	// Keys are the paths of the values the rule would encrypt, in file
	// order: "stringData.password", "data.token". Values are never kept.
	Keys []string
}

// ruleEncRules are the encryption settings sops would apply when
// encrypting a new file with rule: the rule's selector, else sops' default
// (every key but those ending in "_unencrypted").
func ruleEncRules(rule *recipients.Rule) *encRules {
	f := &sopsfile.File{
		EncryptedRegex: rule.EncryptedRegex, UnencryptedRegex: rule.UnencryptedRegex,
		EncryptedSuffix: rule.EncryptedSuffix, UnencryptedSuffix: rule.UnencryptedSuffix,
		EncryptedCommentRegex: rule.EncryptedCommentRegex, UnencryptedCommentRegex: rule.UnencryptedCommentRegex,
	}
	if f.EncryptedRegex == "" && f.UnencryptedRegex == "" && f.EncryptedSuffix == "" &&
		f.UnencryptedSuffix == "" && f.EncryptedCommentRegex == "" && f.UnencryptedCommentRegex == "" {
		f.UnencryptedSuffix = "_unencrypted" // sops.DefaultUnencryptedSuffix
	}
	return rulesOf(f)
}

// FindPlainSecrets returns the unencrypted Kubernetes Secrets (kind: Secret)
// of a YAML or JSON file that is not sops-encrypted, every document of a
// multi-document file, whose data or stringData rule would encrypt (its
// encrypted_regex, suffixes… or sops' default of encrypting every key).
// Comment selectors are not applied (a Secret's data keys carry no
// comments sops would match), so they never report a Secret. Text that is
// not valid YAML or JSON (a Helm template) has no Secrets.
func FindPlainSecrets(rule *recipients.Rule, path string, data []byte) []PlainSecret {
	if rule == nil || rule.SettingsErr != nil || !bytes.Contains(data, []byte("Secret")) {
		return nil
	}
	r := ruleEncRules(rule)
	switch sopsfile.FormatFor(path) {
	case sopsfile.FormatYAML:
		return yamlSecrets(r, data)
	case sopsfile.FormatJSON:
		return jsonSecrets(r, data)
	}
	return nil
}

var secretSections = []string{"data", "stringData"}

func yamlSecrets(r *encRules, data []byte) []PlainSecret {
	var out []PlainSecret
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 1; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		if n.Kind != yaml.DocumentNode || len(n.Content) == 0 {
			continue
		}
		m := n.Content[0]
		if m.Kind != yaml.MappingNode || scalarOf(mapValue(m, "kind")) != "Secret" {
			continue
		}
		s := PlainSecret{Document: doc}
		if md := mapValue(m, "metadata"); md != nil && md.Kind == yaml.MappingNode {
			s.Name = scalarOf(mapValue(md, "name"))
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			sec := m.Content[i].Value
			if !isSecretSection(sec) || m.Content[i+1].Kind != yaml.MappingNode {
				continue
			}
			items := m.Content[i+1].Content
			for j := 0; j+1 < len(items); j += 2 {
				k, v := items[j], items[j+1]
				if k.Kind != yaml.ScalarNode || (v.Kind == yaml.ScalarNode && isEncrypted(v.Value)) {
					continue
				}
				if r.shouldBeEncrypted([]string{sec, k.Value}, nil, false) {
					if len(s.Keys) == 0 {
						s.Line = k.Line
					}
					s.Keys = append(s.Keys, sec+"."+k.Value)
				}
			}
		}
		if len(s.Keys) > 0 {
			out = append(out, s)
		}
	}
	return out
}

func isSecretSection(s string) bool {
	for _, v := range secretSections {
		if s == v {
			return true
		}
	}
	return false
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalarOf(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func jsonSecrets(r *encRules, data []byte) []PlainSecret {
	var doc struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Data       json.RawMessage `json:"data"`
		StringData json.RawMessage `json:"stringData"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Kind != "Secret" {
		return nil
	}
	s := PlainSecret{Name: doc.Metadata.Name, Document: 1}
	for _, sec := range []struct {
		name string
		raw  json.RawMessage
	}{{"data", doc.Data}, {"stringData", doc.StringData}} {
		keys, values, ok := jsonObjectKeys(sec.raw)
		if !ok {
			continue
		}
		for i, k := range keys {
			var v string
			if json.Unmarshal(values[i], &v) == nil && isEncrypted(v) {
				continue
			}
			if r.shouldBeEncrypted([]string{sec.name, k}, nil, false) {
				if len(s.Keys) == 0 {
					s.Line = jsonKeyLine(data, sec.name)
				}
				s.Keys = append(s.Keys, sec.name+"."+k)
			}
		}
	}
	if len(s.Keys) == 0 {
		return nil
	}
	return []PlainSecret{s}
}

// jsonObjectKeys returns the keys of a JSON object in order, and their raw
// values.
func jsonObjectKeys(raw json.RawMessage) ([]string, []json.RawMessage, bool) {
	if len(raw) == 0 {
		return nil, nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, false
	}
	var keys []string
	var values []json.RawMessage
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, false
		}
		keys, values = append(keys, k), append(values, v)
	}
	return keys, values, true
}

// jsonKeyLine is the line of the first "key": in data, 0 when not found.
func jsonKeyLine(data []byte, key string) int {
	i := bytes.Index(data, []byte(`"`+key+`"`))
	if i < 0 {
		return 0
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}

// secretKeysText lists keys for a message: at most five, then how many more.
func secretKeysText(keys []string) string {
	if len(keys) <= 5 {
		return strings.Join(keys, ", ")
	}
	return strings.Join(keys[:5], ", ") + ", and " + strconv.Itoa(len(keys)-5) + " more"
}
