package audit

import (
	"cmp"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// ruleKeys are the keys sops v3.13 reads in a creation rule
// (config.creationRule).
var ruleKeys = []string{
	"path_regex", "key_groups", "shamir_threshold", "age", "pgp", "kms", "gcp_kms",
	"azure_keyvault", "hc_vault_transit_uri", "hckms", "aws_profile",
	"unencrypted_suffix", "encrypted_suffix", "unencrypted_regex", "encrypted_regex",
	"unencrypted_comment_regex", "encrypted_comment_regex", "mac_only_encrypted",
}

// Lint checks a parsed .sops.yaml for mistakes sops does not report, or
// reports only when it is too late. configPath is the display path.
func Lint(cfg *recipients.Config, configPath string) []Finding {
	var out []Finding
	add := func(sev Severity, code Code, line int, hint, format string, a ...any) {
		out = append(out, Finding{Severity: sev, Code: code, File: configPath, Line: line,
			Message: fmt.Sprintf(format, a...), Hint: hint})
	}
	if !cfg.HasCreationRules() {
		add(SeverityError, CodeNoCreationRules, 1, "add a creation_rules list",
			"no creation_rules: sops ignores this file and every file lacks a rule")
	}
	lintStructure(cfg, add)
	// A member line holds the anchor's definition when the anchor is
	// defined in place, inside a rule: that is a use.
	memberLines := map[int]bool{}
	for _, r := range cfg.Rules {
		for _, g := range r.Groups {
			for _, m := range g.Members {
				memberLines[m.Line] = true
			}
			for _, m := range g.Duplicates {
				memberLines[m.Line] = true
			}
		}
	}
	// Only recipients count: an anchor on a list or map ("- &hosts:" over
	// host keys) groups keys that are used one by one.
	for _, a := range cfg.Anchors {
		if a.Value != "" && len(a.Uses) == 0 && !memberLines[a.Line] {
			add(SeverityWarning, CodeUnusedAnchor, a.Line,
				"add *"+a.Name+" to the creation rules that should use it, or remove it",
				"anchor &%s is never used", a.Name)
		}
	}
	firstCatchAll := -1
	firstRegex := map[string]int{}
	for i, r := range cfg.Rules {
		n := r.Index + 1
		line := r.Line
		if r.PathLine > 0 {
			line = r.PathLine
		}
		if r.RegexErr != nil {
			add(SeverityError, CodeBadRegex, line, "fix the regular expression (Go RE2 syntax)",
				"creation rule %d: path_regex %q does not compile: %s", n, r.PathRegex, oneLine(r.RegexErr.Error()))
		}
		for _, k := range r.UnknownKeys {
			hint := "remove it"
			msg := fmt.Sprintf("creation rule %d: sops ignores the key %q", n, k.Name)
			if k.Name == "filename_regex" {
				hint = "rename it to path_regex"
				if !r.HasPathRegex {
					msg += ", so the rule matches every file"
				}
			} else if s := suggest(k.Name, ruleKeys); s != "" {
				hint = fmt.Sprintf("did you mean %q?", s)
				if s == "path_regex" && !r.HasPathRegex {
					msg += ", so the rule matches every file"
				}
			}
			add(SeverityError, CodeUnknownKey, k.Line, hint, "%s", msg)
		}
		// The first earlier rule that matches every path, or that has the
		// same path_regex (found in constant time: thousands of rules).
		j, reason := -1, ""
		if firstCatchAll >= 0 {
			j, reason = firstCatchAll, fmt.Sprintf("creation rule %d before it matches every path", firstCatchAll+1)
		}
		if same, ok := firstRegex[r.PathRegex]; ok && r.HasPathRegex && (j < 0 || same < j) {
			j, reason = same, fmt.Sprintf("creation rule %d before it has the same path_regex", same+1)
		}
		if j >= 0 {
			add(SeverityError, CodeUnreachableRule, line,
				"move it above creation rule "+fmt.Sprint(j+1)+", or remove it",
				"creation rule %d is never used: %s", n, reason)
		}
		if r.RegexErr == nil {
			if firstCatchAll < 0 && catchAll(r) {
				firstCatchAll = i
			}
			if _, ok := firstRegex[r.PathRegex]; !ok {
				firstRegex[r.PathRegex] = i
			}
		}
		if r.SettingsErr != nil {
			add(SeverityError, CodeBadSettings, r.Line, "keep only one of the *_suffix / *_regex / *_comment_regex keys",
				"creation rule %d: %s", n, oneLine(r.SettingsErr.Error()))
		}
		if r.FlatAlsoSet {
			add(SeverityWarning, CodeIgnoredFlatFields, r.Line, "move those recipients into key_groups",
				"creation rule %d: recipient fields next to key_groups are ignored by sops", n)
		}
		if len(r.Groups) > 1 && r.ShamirThreshold == 0 {
			add(SeverityWarning, CodeNoThreshold, r.Line,
				"set shamir_threshold, or merge the groups if one was a stray \"- age:\"",
				"creation rule %d has %d key groups and no shamir_threshold: a key from every group is needed to decrypt", n, len(r.Groups))
		}
		if r.ShamirThreshold > len(r.Groups) && len(r.Groups) > 0 {
			add(SeverityError, CodeThresholdTooHigh, cmp.Or(r.ShamirLine, r.Line),
				fmt.Sprintf("lower shamir_threshold to at most %d, or add key groups", len(r.Groups)),
				"creation rule %d: shamir_threshold %d is more than its %d key group(s): sops cannot split the data key", n, r.ShamirThreshold, len(r.Groups))
		}
		if len(r.Groups) == 0 {
			add(SeverityError, CodeEmptyGroup, r.Line, "add recipients, or remove the rule",
				"creation rule %d has no recipients: sops cannot encrypt with it", n)
		}
		for gi, g := range r.Groups {
			where := fmt.Sprintf("creation rule %d", n)
			if len(r.Groups) > 1 || r.KeyGroupsForm {
				where += fmt.Sprintf(", key group %d", gi+1)
			}
			if len(g.Members) == 0 && len(g.Duplicates) == 0 {
				if r.KeyGroupsForm {
					add(SeverityError, CodeEmptyGroup, g.Line, "add recipients to it, or remove it",
						"%s is empty", where)
				} else {
					add(SeverityError, CodeEmptyGroup, g.Line, "add recipients, or remove the rule",
						"%s has no recipients: sops cannot encrypt with it", where)
				}
			}
			for _, m := range g.Members {
				if m.Err != nil {
					reason := recipientReason(m.Err)
					add(SeverityError, CodeBadRecipient, m.Line, "copy the recipient again from its source (sopsfleet convert for SSH keys)",
						"%s: invalid %s recipient %q: %s", where, m.Key.Type, abbreviate(m.Key.ID), reason)
				}
				if m.Key.Type == recipients.TypePGP && m.Err == nil {
					if p := pgpFingerprintProblem(m.Key.ID); p != "" {
						add(SeverityWarning, CodePGPKeyID, m.Line,
							"use the full fingerprint: gpg --list-keys --with-fingerprint "+m.Key.ID,
							"%s: pgp %q %s", where, m.Key.ID, p)
					}
				}
				if m.Key.Type == recipients.TypeAge && strings.HasPrefix(m.Key.ID, "ssh-") {
					add(SeverityWarning, CodeSSHRecipient, m.Line,
						"use the age recipient: sopsfleet convert (or ssh-to-age)",
						"%s: %s is a native SSH recipient: sops-nix host identities cannot open it", where,
						DisplayName(cfg, m.Key))
				}
			}
			for _, m := range g.Members {
				t, ok := recipients.SSHTwin(m.Key)
				if !ok {
					continue
				}
				for _, o := range g.Members {
					if o.Key == t {
						add(SeverityWarning, CodeSSHTwin, m.Line,
							"keep one of the two: the age recipient for sops-nix hosts, the ssh one for people",
							"%s: %s and %s are the same private key (the age recipient is the ssh key converted by ssh-to-age): the data key is wrapped twice for one machine",
							where, ShortKey(m.Key)+" (line "+fmt.Sprint(m.Line)+")", ShortKey(o.Key)+" (line "+fmt.Sprint(o.Line)+")")
					}
				}
			}
			for _, m := range g.Duplicates {
				add(SeverityWarning, CodeDuplicate, m.Line, "remove the second occurrence",
					"%s: recipient %s is listed twice", where, DisplayName(cfg, m.Key))
			}
		}
	}
	return out
}

// bech32Char is age's error for a character outside the bech32 alphabet
// ("invalid character data part: s[6]=98").
var bech32Char = regexp.MustCompile(`invalid character (?:human-readable|data) part: s\[(\d+)\]=(\d+)`)

// recipientReason is the last, most specific part of a recipient's parse
// error, said in words.
func recipientReason(err error) string {
	msg := oneLine(err.Error())
	if m := bech32Char.FindStringSubmatch(msg); m != nil {
		// The position age gives counts from the separator, not from the
		// start of the recipient: the character says more.
		if c, _ := strconv.Atoi(m[2]); c > 32 && c < 127 {
			return fmt.Sprintf("%q is not a bech32 character", string(rune(c)))
		}
		return "it holds a character that is not a bech32 character"
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

func abbreviate(s string) string {
	if len(s) > 40 {
		return s[:36] + "…"
	}
	return s
}

// suggest returns the candidate closest to s when it is close enough.
func suggest(s string, candidates []string) string {
	norm := strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(s))
	best, bestD := "", 4
	for _, c := range candidates {
		d := recipients.EditDistance(norm, c)
		if d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" && strings.HasSuffix(norm, "_regex") && strings.Contains(norm, "path") {
		return "path_regex"
	}
	return best
}
