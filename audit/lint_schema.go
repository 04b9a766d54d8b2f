package audit

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// The keys sops v3.13.3 reads (config/config.go: configFile, keyGroup,
// kmsKey, gcpKmsKey, hckmsKey, azureKVKey, destinationRule, StoresConfig).
var (
	topKeys   = []string{"creation_rules", "destination_rules", "stores"}
	groupKeys = []string{"merge", "kms", "gcp_kms", "hckms", "azure_keyvault", "hc_vault", "age", "pgp"}
	destKeys  = []string{"path_regex", "s3_bucket", "s3_prefix", "gcs_bucket", "gcs_prefix", "vault_path",
		"vault_address", "vault_kv_mount_name", "vault_kv_version", "recreation_rule", "omit_extensions"}
	storeKeys = []string{"yaml", "json", "json_binary", "dotenv", "ini"}
	// subKeys are the fields of the objects listed in a key group.
	subKeys = map[string][]string{
		"kms":            {"arn", "role", "context", "aws_profile"},
		"gcp_kms":        {"resource_id"},
		"hckms":          {"key_id"},
		"azure_keyvault": {"vaultUrl", "key", "version"},
	}
	// storeFields are the fields of each store's settings.
	storeFields = map[string][]string{
		"yaml": {"indent"}, "json": {"indent"}, "json_binary": {"indent"}, "dotenv": nil, "ini": nil,
	}
)

// lintStructure reports keys sops does not read anywhere in the file
// (top level, stores, key groups and their entries, destination rules),
// invalid destination_rules regexes, and keys of creation rules inside
// destination rules. Creation rules' own keys are checked by Lint.
func lintStructure(cfg *recipients.Config, add func(Severity, Code, int, string, string, ...any)) {
	var doc yaml.Node
	if yaml.Unmarshal(cfg.Data(), &doc) != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return
	}
	top := derefNode(doc.Content[0])
	if top.Kind != yaml.MappingNode {
		return
	}
	// A key group or rule shared through an alias is reported once, where
	// the key is written.
	reported := map[*yaml.Node]bool{}
	unknown := func(where string, k *yaml.Node, known []string) {
		if reported[k] {
			return
		}
		reported[k] = true
		hint := "remove it"
		if s := suggestKey(k.Value, known); s != "" {
			hint = fmt.Sprintf("did you mean %q?", s)
		}
		add(SeverityError, CodeUnknownKey, k.Line, hint, "%s: sops ignores the key %q", where, k.Value)
	}
	eachKey(top, func(k, v *yaml.Node) {
		switch k.Value {
		case "creation_rules":
			seqItems(v, func(i int, rule *yaml.Node) {
				lintRuleGroups(fmt.Sprintf("creation rule %d", i+1), rule, unknown)
			})
		case "destination_rules":
			seqItems(v, func(i int, d *yaml.Node) {
				where := fmt.Sprintf("destination rule %d", i+1)
				eachKey(d, func(k, v *yaml.Node) {
					switch {
					case k.Value == "recreation_rule":
						lintRecreationRule(where+", recreation_rule", v, unknown)
					case k.Value == "path_regex":
						if v.Kind == yaml.ScalarNode && v.Value != "" {
							if _, err := regexp.Compile(v.Value); err != nil {
								add(SeverityError, CodeBadRegex, k.Line, "fix the regular expression (Go RE2 syntax)",
									"%s: path_regex %q does not compile: %s", where, v.Value,
									strings.TrimPrefix(oneLine(err.Error()), "error parsing regexp: "))
							}
						}
					case !contains(destKeys, k.Value):
						unknown(where, k, destKeys)
					}
				})
			})
		case "stores":
			eachKey(v, func(k, v *yaml.Node) {
				fields, ok := storeFields[k.Value]
				if !ok {
					unknown("stores", k, storeKeys)
					return
				}
				eachKey(v, func(fk, _ *yaml.Node) {
					if !contains(fields, fk.Value) {
						unknown("stores."+k.Value, fk, fields)
					}
				})
			})
		case "keys":
			// the conventional block of anchors
		default:
			if holdsAnchors(v) {
				return // a block of anchor definitions (keys:, .keys:, anchors:…)
			}
			if s := suggestKey(k.Value, topKeys); s != "" {
				add(SeverityError, CodeUnknownKey, k.Line, fmt.Sprintf("did you mean %q?", s),
					"sops ignores the top-level key %q", k.Value)
				return
			}
			add(SeverityWarning, CodeUnknownTopLevel, k.Line, "remove it, or move it under a creation rule",
				"sops ignores the top-level key %q", k.Value)
		}
	})
}

// lintRecreationRule checks a destination rule's recreation_rule, which is
// a creation rule.
func lintRecreationRule(where string, rule *yaml.Node, unknown func(string, *yaml.Node, []string)) {
	eachKey(rule, func(k, _ *yaml.Node) {
		if !contains(ruleKeys, k.Value) {
			unknown(where, k, ruleKeys)
		}
	})
	lintRuleGroups(where, rule, unknown)
}

// lintRuleGroups checks the key groups of a creation rule.
func lintRuleGroups(where string, rule *yaml.Node, unknown func(string, *yaml.Node, []string)) {
	eachKey(rule, func(k, v *yaml.Node) {
		if k.Value != "key_groups" {
			return
		}
		seqItems(v, func(i int, g *yaml.Node) {
			lintGroup(fmt.Sprintf("%s, key group %d", where, i+1), g, unknown, 0)
		})
	})
}

func lintGroup(where string, g *yaml.Node, unknown func(string, *yaml.Node, []string), depth int) {
	if depth > 50 {
		return
	}
	eachKey(g, func(k, v *yaml.Node) {
		if !contains(groupKeys, k.Value) {
			unknown(where, k, groupKeys)
			return
		}
		if k.Value == "merge" {
			seqItems(v, func(i int, sub *yaml.Node) {
				lintGroup(fmt.Sprintf("%s, merge %d", where, i+1), sub, unknown, depth+1)
			})
			return
		}
		fields, ok := subKeys[k.Value]
		if !ok {
			return
		}
		seqItems(v, func(i int, entry *yaml.Node) {
			eachKey(entry, func(fk, _ *yaml.Node) {
				if !contains(fields, fk.Value) {
					unknown(fmt.Sprintf("%s, %s entry %d", where, k.Value, i+1), fk, fields)
				}
			})
		})
	})
}

func derefNode(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 10; i++ {
		n = n.Alias
	}
	return n
}

// eachKey calls fn for each key written in mapping m (merge keys "<<" are
// followed into the mappings they merge).
func eachKey(m *yaml.Node, fn func(k, v *yaml.Node)) {
	seen := map[*yaml.Node]bool{}
	var rec func(m *yaml.Node, depth int)
	rec = func(m *yaml.Node, depth int) {
		m = derefNode(m)
		if m == nil || m.Kind != yaml.MappingNode || seen[m] || depth > 20 {
			return
		}
		seen[m] = true
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], derefNode(m.Content[i+1])
			if k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge") {
				if v.Kind == yaml.SequenceNode {
					for _, it := range v.Content {
						rec(it, depth+1)
					}
				} else {
					rec(v, depth+1)
				}
				continue
			}
			fn(k, v)
		}
	}
	rec(m, 0)
}

// seqItems calls fn for each item of sequence s (aliases resolved).
func seqItems(s *yaml.Node, fn func(i int, item *yaml.Node)) {
	s = derefNode(s)
	if s == nil || s.Kind != yaml.SequenceNode {
		return
	}
	for i, it := range s.Content {
		fn(i, derefNode(it))
	}
}

// holdsAnchors reports whether n or something in it defines an anchor.
func holdsAnchors(n *yaml.Node) bool {
	if n == nil || n.Kind == yaml.AliasNode {
		return false
	}
	if n.Anchor != "" {
		return true
	}
	for _, c := range n.Content {
		if holdsAnchors(c) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// suggestKey is suggest for a key: a close known key, compared as written
// (vaultUrl is camel case) and normalised.
func suggestKey(s string, known []string) string {
	for _, k := range known {
		if strings.EqualFold(k, s) {
			return k
		}
	}
	best, bestD := "", 4
	norm := strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(s))
	for _, c := range known {
		d := recipients.EditDistance(norm, strings.ToLower(c))
		if d < bestD && d < len(c) {
			best, bestD = c, d
		}
	}
	return best
}

// pgpFingerprintProblem says why a PGP "fingerprint" is not one: a key ID
// (8 or 16 hex digits), or anything else than 40 hex digits; "" when it is.
func pgpFingerprintProblem(id string) string {
	id = strings.TrimPrefix(strings.TrimPrefix(id, "0x"), "0X")
	hex := id != "" && strings.Trim(strings.ToLower(id), "0123456789abcdef") == ""
	switch {
	case hex && len(id) == 40:
		return ""
	case hex && len(id) == 8:
		return "is a short key ID (8 hex digits), not a fingerprint: short IDs collide, and anyone can make a key with the same one"
	case hex && len(id) == 16:
		return "is a long key ID (16 hex digits), not a 40-digit fingerprint"
	default:
		return fmt.Sprintf("is not a fingerprint: want 40 hex digits, have %d characters", len(id))
	}
}
