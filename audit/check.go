package audit

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sopsfleet/sopsfleet/internal/secretguard"
	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// Severity says how bad a finding is. Errors make check fail.
type Severity int

// The severities, from least to most severe.
const (
	SeverityWarning Severity = iota + 1
	SeverityError
)

// String returns "warning" or "error".
func (s Severity) String() string {
	if s == SeverityError {
		return "error"
	}
	return "warning"
}

// Code is the stable identifier of a kind of finding. Codes never change
// meaning; CI configurations and SARIF consumers may rely on them.
type Code string

// The finding codes. Files: drift, threshold, no-rule, plaintext,
// plaintext-comment, unencrypted-secret, unencrypted, metadata, unreadable,
// stray-temp, outside-link. The config:
// bad-recipient, duplicate-recipient, unused-anchor, unreachable-rule,
// bad-regex, unknown-key, unknown-top-level, no-threshold, ssh-recipient,
// sops-yml, empty-group, ignored-flat-keys, bad-settings, no-creation-rules,
// pgp-key-id, threshold-too-high. Files: selector-drift. The policy
// (.sopsfleet.yaml, package policy): policy-require, policy-forbid,
// policy-separate, policy-type, policy-max.
// Between configs: nested-config.
const (
	CodeDrift             Code = "drift"
	CodeThreshold         Code = "threshold"
	CodeNoRule            Code = "no-rule"
	CodePlaintext         Code = "plaintext"
	CodePlaintextComment  Code = "plaintext-comment"
	CodeUnencrypted       Code = "unencrypted"
	CodeUnencryptedSecret Code = "unencrypted-secret"
	CodeStrayTemp         Code = "stray-temp"
	CodeOutsideLink       Code = "outside-link"
	CodeMetadata          Code = "metadata"
	CodeUnreadable        Code = "unreadable"
	CodeBadRecipient      Code = "bad-recipient"
	CodeDuplicate         Code = "duplicate-recipient"
	CodeUnusedAnchor      Code = "unused-anchor"
	CodeUnreachableRule   Code = "unreachable-rule"
	CodeBadRegex          Code = "bad-regex"
	CodeUnknownKey        Code = "unknown-key"
	CodeUnknownTopLevel   Code = "unknown-top-level"
	CodeNoThreshold       Code = "no-threshold"
	CodeSSHRecipient      Code = "ssh-recipient"
	CodeSSHTwin           Code = "ssh-twin"
	CodeSopsYml           Code = "sops-yml"
	CodeEmptyGroup        Code = "empty-group"
	CodeIgnoredFlatFields Code = "ignored-flat-keys"
	CodeBadSettings       Code = "bad-settings"
	CodeNoCreationRules   Code = "no-creation-rules"
	CodePGPKeyID          Code = "pgp-key-id"
	CodeThresholdTooHigh  Code = "threshold-too-high"
	CodeSelectorDrift     Code = "selector-drift"
	CodePolicyRequire     Code = "policy-require"
	CodePolicyForbid      Code = "policy-forbid"
	CodePolicySeparate    Code = "policy-separate"
	CodePolicyType        Code = "policy-type"
	CodePolicyMax         Code = "policy-max"
	CodeNestedConfig      Code = "nested-config"
)

// CodeInfo describes a finding code: its default severity and a short
// description (used for SARIF rules and the documentation).
type CodeInfo struct {
	Code     Code
	Severity Severity
	Summary  string
}

// Codes lists every finding code, in documentation order.
var Codes = []CodeInfo{
	{CodeDrift, SeverityError, "a file's recipients differ from those .sops.yaml asks for"},
	{CodeThreshold, SeverityError, "a file's Shamir threshold differs from the one .sops.yaml asks for"},
	{CodeNoRule, SeverityError, "an encrypted file that no creation rule matches"},
	{CodePlaintext, SeverityError, "a value that should be encrypted is stored in plaintext"},
	{CodePlaintextComment, SeverityWarning, "a comment that sops would encrypt is stored in plaintext"},
	{CodeUnencryptedSecret, SeverityError, "an unencrypted Kubernetes Secret whose data a creation rule would encrypt"},
	{CodeUnencrypted, SeverityWarning, "a file that a creation rule's path_regex selects is not encrypted"},
	{CodeMetadata, SeverityError, "the sops metadata lacks mac, lastmodified or version, has a value sops refuses, or a malformed key entry"},
	{CodeUnreadable, SeverityError, "a file could not be read, or sops could not read it (syntax, line endings, truncation)"},
	{CodeStrayTemp, SeverityWarning, "a temporary file left by an interrupted sopsfleet run (git add -A would commit it)"},
	{CodeOutsideLink, SeverityWarning, "a symbolic link to a file outside the tree: skipped, never read or written through"},
	{CodeBadRecipient, SeverityError, "a recipient in .sops.yaml is not valid (sops refuses to load the config)"},
	{CodeDuplicate, SeverityWarning, "a recipient appears twice in one key group"},
	{CodeUnusedAnchor, SeverityWarning, "a YAML anchor in .sops.yaml is never used"},
	{CodeUnreachableRule, SeverityError, "a creation rule can never match: an earlier rule matches every path it would"},
	{CodeBadRegex, SeverityError, "a path_regex (of a creation or destination rule) does not compile"},
	{CodeUnknownKey, SeverityError, "a creation rule has a key sops ignores (a typo, or filename_regex)"},
	{CodeUnknownTopLevel, SeverityWarning, "a top-level key of .sops.yaml that sops ignores"},
	{CodeNoThreshold, SeverityWarning, "several key groups without shamir_threshold: every group is required"},
	{CodeSSHRecipient, SeverityWarning, "a native ssh-ed25519 recipient: sops-nix host identities cannot open it"},
	{CodeSSHTwin, SeverityWarning, "a key group holds a native ssh-ed25519 recipient and its ssh-to-age conversion: one private key, wrapped twice"},
	{CodeSopsYml, SeverityWarning, "a .sops.yml file, which sops ignores"},
	{CodeEmptyGroup, SeverityError, "a key group with no recipients"},
	{CodeIgnoredFlatFields, SeverityWarning, "flat recipient fields next to key_groups are ignored by sops"},
	{CodeBadSettings, SeverityError, "a creation rule sets more than one of the encrypted/unencrypted suffix or regex keys"},
	{CodeNoCreationRules, SeverityError, ".sops.yaml has no creation_rules: sops acts as if it did not exist"},
	{CodePGPKeyID, SeverityWarning, "a PGP recipient given as a short or long key ID (or other text) instead of a 40-hex-digit fingerprint"},
	{CodeThresholdTooHigh, SeverityError, "a shamir_threshold larger than the number of key groups: sops cannot encrypt"},
	{CodeSelectorDrift, SeverityError, "a file's encryption selector (encrypted_regex, unencrypted_suffix…) differs from its rule's"},
	{CodePolicyRequire, SeverityError, "a file (or a creation rule) lacks a recipient that .sopsfleet.yaml requires"},
	{CodePolicyForbid, SeverityError, "a file (or a creation rule) is encrypted to a recipient .sopsfleet.yaml forbids"},
	{CodePolicySeparate, SeverityError, "a file (or a creation rule) is encrypted to members of two groups .sopsfleet.yaml keeps apart"},
	{CodePolicyType, SeverityError, "a file (or a creation rule) has a recipient of a type .sopsfleet.yaml does not allow"},
	{CodePolicyMax, SeverityError, "a file (or a creation rule) has more recipients than .sopsfleet.yaml allows"},
	{CodeNestedConfig, SeverityWarning, "sops run from the repository root would encrypt a file under a nested .sops.yaml to other recipients"},
}

// InfoOf returns the description of code.
func InfoOf(code Code) CodeInfo {
	for _, c := range Codes {
		if c.Code == code {
			return c
		}
	}
	return CodeInfo{Code: code, Severity: SeverityError}
}

// Finding is one problem found by Check.
type Finding struct {
	Severity Severity
	Code     Code
	File     string // display path; the config for lint findings
	Line     int    // 0 when unknown
	Message  string // one line, no secret values
	Hint     string // one line: how to fix it
	// Config is the display path of the .sops.yaml that governs File, set
	// for file findings when the scan met more than one config.
	Config string
}

// ScanOptions say what to scan.
type ScanOptions struct {
	Config *recipients.Config
	// Paths are the files and folders to scan; empty: Config.Dir,
	// recursively. They are walked, read and parsed by
	// sopsfile.WalkParsed (skipping .git, a symbolic link to a file listed
	// anyway counted once), and each file's content is dropped once it is
	// checked, so memory does not grow with the repository.
	Paths []string
	// Workers parse files in parallel; 0: GOMAXPROCS.
	Workers int
	// Plaintext also walks the data of YAML, JSON and dotenv files for
	// values stored in plaintext (check does, report does not).
	Plaintext bool
	// Display turns an absolute path into the path shown to the user;
	// nil: the path as found.
	Display func(abs string) string
	// Root is the tree root: symbolic links to files outside it are
	// skipped (ScanResult.SkippedLinks). "": sopsfile.TreeRoot of the
	// config's folder (the git top level, else that folder).
	Root string
	// Configs, if set, gives each file the config that governs it (the
	// nearest .sops.yaml at or above its folder); Config is then the
	// config found from the working directory, nil when there is none
	// (Paths must then be given).
	Configs *recipients.ConfigSet
	// RootConfig is the config sops finds when run from the repository
	// root: a file governed by another config whose rule there would give
	// it other recipients is reported (nested-config). Nil: not checked.
	RootConfig *recipients.Config
}

// ScanConfig is a .sops.yaml a scan met.
type ScanConfig struct {
	Config *recipients.Config
	Path   string // display path
}

// FileResult is what Scan learned about one file.
type FileResult struct {
	Path string // display path
	Abs  string
	// File is the parsed metadata; nil when the file is not encrypted or
	// could not be parsed (Err).
	File         *sopsfile.File
	Err          error
	NotEncrypted bool
	// Explicit is true for a file named on the command line.
	Explicit bool
	// Config is the config that governs the file and ConfigPath its
	// display path; with ConfigErr set instead when none does
	// (recipients.ErrNoConfigAbove) or it cannot be loaded.
	Config     *recipients.Config
	ConfigPath string
	ConfigErr  error
	// Rule is the creation rule for the file; nil with RuleErr set when no
	// rule matches (recipients.ErrNoRule).
	Rule    *recipients.Rule
	RuleErr error
	// RootRule is the rule of ScanOptions.RootConfig for a file governed by
	// another config, set only when its recipients differ from Rule's.
	RootRule *recipients.Rule
	// Diffs are the differing key groups (nil: recipients match).
	Diffs []GroupDiff
	// Threshold and WantedThreshold are the effective Shamir thresholds
	// (0 with fewer than two groups).
	Threshold, WantedThreshold int
	// Plain are the plaintext values (ScanOptions.Plaintext).
	Plain    []PlainValue
	PlainErr error
	// Secrets are the unencrypted Kubernetes Secrets of a file that is
	// not encrypted (NotEncrypted; ScanOptions.Plaintext).
	Secrets []PlainSecret
	// SelectorDrift is set when the file's encryption selector differs
	// from its rule's (ScanOptions.Plaintext).
	SelectorDrift *SelectorDrift
}

// Encrypted reports whether the file's metadata was read.
func (r *FileResult) Encrypted() bool { return r.File != nil }

// ScanResult is the outcome of Scan: every encrypted file, every file that
// is not encrypted but a creation rule selects, every unreadable file.
type ScanResult struct {
	Config *recipients.Config
	// Configs are every config the scan met, Config first; RootConfig
	// (and its display path) is ScanOptions.RootConfig.
	Configs        []ScanConfig
	RootConfig     *recipients.Config
	RootConfigPath string
	Files          []*FileResult // sorted by display path
	// SopsYml are .sops.yml files met while walking (ignored by sops).
	SopsYml []string
	// Scanned counts every file looked at.
	Scanned int
	// Root is the tree root links were kept in.
	Root string
	// SkippedLinks are symbolic links to files outside Root, not read
	// (display paths; Target absolute).
	SkippedLinks []sopsfile.SkippedLink
	// Temps are stray temporary files of sopsfleet (display paths).
	Temps []string
}

// Scan discovers files, reads their metadata in parallel (never
// decrypting), resolves the creation rule for each and compares recipients.
// It fails only when a path cannot be walked or does not exist.
func Scan(opts ScanOptions) (*ScanResult, error) {
	cfg := opts.Config
	display := opts.Display
	if display == nil {
		display = func(p string) string { return p }
	}
	roots := opts.Paths
	if len(roots) == 0 {
		if cfg == nil {
			return nil, errors.New("no config and no path to scan")
		}
		roots = []string{cfg.Dir}
	}
	set := opts.Configs
	if set == nil {
		set = recipients.FixedConfigSet(cfg)
	}
	explicit := map[string]bool{}
	for _, p := range roots {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			explicit[absPath(p)] = true
		}
	}
	root := opts.Root
	if root == "" && cfg != nil && cfg.Dir != "" {
		root = sopsfile.TreeRoot(cfg.Dir)
	}
	res := &ScanResult{Config: cfg, Root: root, RootConfig: opts.RootConfig}
	if opts.RootConfig != nil {
		res.RootConfigPath = display(absPath(opts.RootConfig.Path))
	}
	configAbs := ""
	if cfg != nil && cfg.Path != "" {
		configAbs = absPath(cfg.Path)
	}
	if cfg != nil && cfg.Dir != "" {
		yml := filepath.Join(cfg.Dir, ".sops.yml")
		if _, err := os.Stat(yml); err == nil {
			res.SopsYml = append(res.SopsYml, display(yml))
		}
	}
	// sopsfile.WalkParsed reads and parses the files on a worker per CPU
	// and drops each file's content once it is checked: memory stays flat
	// on large trees. Nothing here keeps found.Data (nor a slice of it)
	// past the callback, so the workers read every file into the same
	// buffer (ReuseData).
	var results []*FileResult
	var sopsYml []bool
	var paths []string
	tree, err := sopsfile.WalkParsedTree(roots, sopsfile.DiscoverOptions{Jobs: opts.Workers, Root: root, ReuseData: true}, func(n int) {
		res.Scanned = n
		results = make([]*FileResult, n)
		sopsYml = make([]bool, n)
		paths = make([]string, n)
	}, func(i int, found sopsfile.Found, sops bool) {
		a := absPath(found.Path)
		paths[i] = a
		switch {
		case a == configAbs:
		case filepath.Base(a) == recipients.ConfigFileName && opts.Configs != nil:
			// a nested config: linted, not a file to encrypt
		case filepath.Base(a) == ".sops.yml":
			sopsYml[i] = true
		default:
			fileCfg, cfgErr := set.For(a)
			if cfgErr != nil {
				results[i] = noConfigFound(found, sops, a, display(a), explicit[a], cfgErr)
				break
			}
			r := scanFound(fileCfg, found, sops, a, display(a), explicit[a], opts.Plaintext)
			if r != nil {
				r.Config = fileCfg
				r.ConfigPath = display(absPath(fileCfg.Path))
				if r.File != nil && opts.RootConfig != nil && fileCfg != opts.RootConfig {
					r.RootRule = rootRuleDiffers(opts.RootConfig, a, r.Rule)
				}
			}
			results[i] = r
		}
	})
	if err != nil {
		return nil, err
	}
	for _, l := range tree.SkippedLinks {
		res.SkippedLinks = append(res.SkippedLinks, sopsfile.SkippedLink{Path: display(absPath(l.Path)), Target: l.Target})
	}
	for _, t := range tree.Temps {
		res.Temps = append(res.Temps, display(absPath(t)))
	}
	for i, r := range results {
		if r != nil {
			res.Files = append(res.Files, r)
		}
		if sopsYml[i] {
			res.SopsYml = append(res.SopsYml, display(paths[i]))
		}
	}
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Path < res.Files[j].Path })
	for _, c := range set.Loaded() {
		res.Configs = append(res.Configs, ScanConfig{Config: c, Path: display(absPath(c.Path))})
		if c != cfg && c.Dir != "" {
			yml := filepath.Join(c.Dir, ".sops.yml")
			if _, err := os.Stat(yml); err == nil {
				res.SopsYml = append(res.SopsYml, display(yml))
			}
		}
	}
	sort.Strings(res.SopsYml)
	res.SopsYml = compactStrings(res.SopsYml)
	return res, nil
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// scanFound compares one file found by sopsfile.WalkParsed with its rule.
// It returns nil for a file that is not encrypted and that no specific
// creation rule selects, and for a file that vanished during the walk
// unless it was named.
func scanFound(cfg *recipients.Config, found sopsfile.Found, sops bool, abs, disp string, explicit, plain bool) *FileResult {
	r := &FileResult{Path: disp, Abs: abs, Explicit: explicit}
	if !sops {
		rule, err := cfg.RuleFor(abs)
		if err != nil || rule == nil {
			return nil
		}
		// A plaintext Kubernetes Secret matters under any rule that
		// would encrypt its data, catch-all rules included.
		if plain && found.Data != nil {
			if secrets := FindPlainSecrets(rule, abs, found.Data); len(secrets) > 0 {
				r.NotEncrypted, r.Rule, r.Secrets = true, rule, secrets
				return r
			}
		}
		// Any other file matters only when a specific rule selects it.
		if !specificRule(rule) {
			return nil
		}
		if st, err := os.Stat(abs); err != nil || st.Size() == 0 {
			return nil // gone, or empty (a .gitkeep): nothing to encrypt
		}
		r.NotEncrypted = true
		r.Rule = rule
		return r
	}
	if found.Err != nil {
		// Unreadable, or holds sops values but its metadata cannot be read.
		if errors.Is(found.Err, fs.ErrNotExist) && !explicit {
			return nil
		}
		r.Err = found.Err
		return r
	}
	f := found.File
	r.File = f
	checkEncs(f)
	r.Rule, r.RuleErr = cfg.RuleFor(abs)
	if r.RuleErr == nil && r.Rule != nil {
		r.Diffs = DiffGroups(r.Rule.Groups, namedStanzas(f.Groups))
		r.Threshold = EffectiveThreshold(f.ShamirThreshold, len(f.Groups))
		r.WantedThreshold = EffectiveThreshold(r.Rule.ShamirThreshold, len(r.Rule.Groups))
	}
	if plain {
		r.Plain, r.PlainErr = FindPlaintext(f, found.Data)
		if r.Rule != nil && r.RuleErr == nil {
			r.SelectorDrift = selectorDrift(f, r.Rule, found.Data)
		}
	}
	detach(f)
	return r
}

// noConfigFound is the result of a file no config governs: an encrypted
// (or unreadable) file is reported, any other file is not.
func noConfigFound(found sopsfile.Found, sops bool, abs, disp string, explicit bool, err error) *FileResult {
	if !sops {
		return nil
	}
	r := &FileResult{Path: disp, Abs: abs, Explicit: explicit, ConfigErr: err}
	if found.Err != nil {
		if errors.Is(found.Err, fs.ErrNotExist) && !explicit {
			return nil
		}
		r.Err = found.Err
		return r
	}
	r.File = found.File
	checkEncs(r.File)
	r.Threshold = EffectiveThreshold(r.File.ShamirThreshold, len(r.File.Groups))
	detach(r.File)
	return r
}

// rootRuleDiffers returns the rule root gives the file at abs when its
// recipients differ from those of rule (the file's own); nil when they are
// the same, or root has no rule for it (sops then fails loudly).
func rootRuleDiffers(root *recipients.Config, abs string, rule *recipients.Rule) *recipients.Rule {
	if rule == nil {
		return nil
	}
	rr, err := root.RuleFor(abs)
	if err != nil || rr == nil {
		return nil
	}
	if sameGroups(groupSets(rr), groupSets(rule)) && EffectiveThreshold(rr.ShamirThreshold, len(rr.Groups)) ==
		EffectiveThreshold(rule.ShamirThreshold, len(rule.Groups)) {
		return nil
	}
	return rr
}

// namedStanzas is groups without the entries that name no key (a malformed
// entry, reported as metadata): they are not an "extra" recipient.
func namedStanzas(groups [][]sopsfile.Stanza) [][]sopsfile.Stanza {
	if !slices.ContainsFunc(groups, func(g []sopsfile.Stanza) bool {
		return slices.ContainsFunc(g, func(s sopsfile.Stanza) bool { return s.Key.ID == "" })
	}) {
		return groups // the usual case: nothing to leave out, nothing copied
	}
	out := make([][]sopsfile.Stanza, len(groups))
	for i, g := range groups {
		for _, s := range g {
			if s.Key.ID != "" {
				out[i] = append(out[i], s)
			}
		}
	}
	return out
}

// detach drops what check and report do not use from f (the encrypted data
// keys, kept by no finding). The strings kept need no copy: what
// sopsfile.Parse returns never shares memory with the file's content
// (the walk reuses that memory for the next file, DiscoverOptions.ReuseData,
// and sopsfile's TestWalkReuseData holds Parse to it).
func detach(f *sopsfile.File) {
	for _, g := range f.Groups {
		for i := range g {
			g[i].Enc = ""
			g[i].CreatedAt = ""
		}
	}
}

// catchAll reports whether a path_regex matches every path: absent, empty,
// or (being matched unanchored) able to match the empty string.
func catchAll(r *recipients.Rule) bool {
	if !r.HasPathRegex || r.PathRegex == "" {
		return true
	}
	if r.RegexErr != nil {
		return false
	}
	re := cachedRegex(r.PathRegex)
	return re != nil && re.MatchString("")
}

// genericProbes are paths that only a rule selecting files by extension
// (or everything) matches: no folder or name a user would choose.
var genericProbes = []string{"q9z8x7/q9z8x7", "q9z8x7/q9z8x7.yaml", "q9z8x7/q9z8x7.yml",
	"q9z8x7/q9z8x7.json", "q9z8x7/q9z8x7.env", "q9z8x7/q9z8x7.ini", "q9z8x7/q9z8x7.txt"}

// specificRule reports whether rule selects files by more than their
// extension (a folder, a name): an unencrypted file it selects was probably
// meant to be encrypted. Catch-all and by-extension rules (".*\.yaml$", as
// Flux repositories use with encrypted_regex) select plain manifests too.
func specificRule(r *recipients.Rule) bool {
	if r == nil || catchAll(r) || r.RegexErr != nil {
		return false
	}
	re := cachedRegex(r.PathRegex)
	if re == nil {
		return false
	}
	for _, p := range genericProbes {
		if re.MatchString(p) {
			return false
		}
	}
	return true
}

// Check turns a scan and the config into findings: the config lint first,
// then the files in path order. configPath is the config's display path.
func Check(res *ScanResult, configPath string) []Finding {
	var findings []Finding
	if res.Config != nil {
		findings = Lint(res.Config, configPath)
	}
	// Every other config met governs some files: linted too.
	for _, c := range res.Configs {
		if c.Config != res.Config {
			findings = append(findings, Lint(c.Config, c.Path)...)
		}
	}
	for _, p := range res.SopsYml {
		findings = append(findings, Finding{
			Severity: SeverityWarning, Code: CodeSopsYml, File: p,
			Message: "sops ignores .sops.yml; only .sops.yaml is read",
			Hint:    "merge its rules into .sops.yaml and delete it",
		})
	}
	for _, l := range res.SkippedLinks {
		to := l.Target
		if to == "" {
			to = "a file that cannot be resolved"
		}
		findings = append(findings, Finding{
			Severity: SeverityWarning, Code: CodeOutsideLink, File: l.Path,
			Message: fmt.Sprintf("symbolic link to %s, outside the tree %s: skipped, not checked", to, res.Root),
			Hint:    "replace the link with the file itself, or remove it",
		})
	}
	for _, t := range res.Temps {
		findings = append(findings, Finding{
			Severity: SeverityWarning, Code: CodeStrayTemp, File: t,
			Message: "temporary file left by an interrupted sopsfleet run",
			Hint:    "delete it (rm " + shellQuote(t) + "), so that git add -A does not commit it",
		})
	}
	for _, r := range res.Files {
		cfg := r.Config
		if cfg == nil {
			cfg = res.Config
		}
		start := len(findings)
		findings = append(findings, fileFindings(cfg, r)...)
		if r.RootRule != nil {
			findings = append(findings, nestedConfigFinding(res, r))
		}
		if len(res.Configs) > 1 {
			for i := start; i < len(findings); i++ {
				findings[i].Config = r.ConfigPath
			}
		}
	}
	return findings
}

// Errors counts the findings of error severity.
func Errors(fs []Finding) int {
	n := 0
	for _, f := range fs {
		if f.Severity == SeverityError {
			n++
		}
	}
	return n
}

func fileFindings(cfg *recipients.Config, r *FileResult) []Finding {
	var out []Finding
	add := func(sev Severity, code Code, line int, hint, format string, a ...any) {
		out = append(out, Finding{Severity: sev, Code: code, File: r.Path, Line: line,
			Message: fmt.Sprintf(format, a...), Hint: hint})
	}
	update := "sopsfleet updatekeys " + shellQuote(r.Path)
	switch {
	case r.Err != nil:
		line, msg := errorText(r.Err)
		add(SeverityError, CodeUnreadable, line, "fix the file, or restore it from version control", "%s", msg)
		return out
	case r.NotEncrypted && len(r.Secrets) > 0:
		for _, s := range r.Secrets {
			what := "Kubernetes Secret"
			if s.Name != "" {
				what += fmt.Sprintf(" %q", s.Name)
			}
			if s.Document > 1 {
				what += fmt.Sprintf(" (document %d)", s.Document)
			}
			add(SeverityError, CodeUnencryptedSecret, s.Line,
				"sops encrypt --in-place "+shellQuote(r.Path)+", and rotate the secret (git history has it)",
				"%s is not encrypted, but creation rule %d would encrypt %s", what, r.Rule.Index+1, secretKeysText(s.Keys))
		}
		return out
	case r.NotEncrypted:
		add(SeverityWarning, CodeUnencrypted, 0, "sops encrypt --in-place "+shellQuote(r.Path),
			"not encrypted, but creation rule %d (path_regex %q) selects it", r.Rule.Index+1, r.Rule.PathRegex)
		return out
	}
	f := r.File
	// metadata
	if f.MAC == "" {
		add(SeverityError, CodeMetadata, f.MetadataLine, "restore the file from version control, or re-encrypt it",
			"sops metadata has no mac: sops refuses to decrypt the file")
	}
	if f.LastModified == "" {
		add(SeverityError, CodeMetadata, f.MetadataLine, "restore the file from version control, or re-encrypt it",
			"sops metadata has no lastmodified: the mac cannot be verified")
	}
	if f.Version == "" {
		add(SeverityError, CodeMetadata, f.MetadataLine, "restore the file from version control, or re-encrypt it",
			"sops metadata has no version")
	}
	for _, p := range f.Problems {
		add(SeverityError, CodeMetadata, cmp.Or(p.Line, f.MetadataLine), "restore the file from version control, or re-encrypt it",
			"%s", p.Message)
	}
	for _, g := range f.Groups {
		for _, s := range g {
			if s.Problem != "" {
				add(SeverityError, CodeMetadata, s.Line, "remove the entry and run "+update,
					"malformed %s key entry: %s", s.Key.Type, s.Problem)
			}
		}
	}
	// rule and drift
	if r.ConfigErr != nil {
		msg := "no .sops.yaml in its folder or any folder above it: sops run there cannot choose a creation rule"
		hint := "add a .sops.yaml whose creation rule matches it, or name one with --config"
		if !errors.Is(r.ConfigErr, recipients.ErrNoConfigAbove) {
			msg = "the .sops.yaml that governs it cannot be loaded: " + oneLine(r.ConfigErr.Error())
			hint = "fix that .sops.yaml"
		}
		add(SeverityError, CodeNoRule, f.MetadataLine, hint, "%s", msg)
	} else if r.RuleErr != nil && !errors.Is(r.RuleErr, recipients.ErrNoRule) {
		add(SeverityError, CodeNoRule, f.MetadataLine, "fix the path_regex reported as bad-regex",
			"sops cannot choose a creation rule for this file: an invalid path_regex comes before any match")
	} else if r.RuleErr != nil || r.Rule == nil {
		add(SeverityError, CodeNoRule, f.MetadataLine,
			"add a creation rule whose path_regex matches it to "+cmp.Or(r.ConfigPath, ".sops.yaml"),
			"no creation rule in %s matches this file", cmp.Or(r.ConfigPath, ".sops.yaml"))
	} else {
		for _, d := range r.Diffs {
			line := f.MetadataLine
			if len(d.Extra) > 0 && d.Extra[0].Line > 0 {
				line = d.Extra[0].Line
			}
			var parts []string
			if len(d.Missing) > 0 {
				names := make([]string, len(d.Missing))
				for i, m := range d.Missing {
					names[i] = DisplayName(cfg, m.Key)
				}
				parts = append(parts, "missing "+strings.Join(names, ", "))
			}
			if len(d.Extra) > 0 {
				names := make([]string, len(d.Extra))
				for i, s := range d.Extra {
					names[i] = DisplayName(cfg, s.Key)
				}
				parts = append(parts, "extra "+strings.Join(names, ", "))
			}
			where := ""
			if max(len(f.Groups), len(r.Rule.Groups)) > 1 {
				where = fmt.Sprintf("key group %d: ", d.Group+1)
			}
			hint := update
			if len(d.Extra) > 0 {
				// Without rotation the removed recipient keeps the data
				// key, and with it every value of the file.
				hint = "sopsfleet updatekeys --rotate " + shellQuote(r.Path)
			}
			add(SeverityError, CodeDrift, line, hint,
				"%srecipients differ from creation rule %d: %s", where, r.Rule.Index+1, strings.Join(parts, "; "))
		}
		if r.Diffs == nil && r.Threshold != r.WantedThreshold {
			add(SeverityError, CodeThreshold, f.MetadataLine, update,
				"shamir threshold is %d, creation rule %d asks for %d", r.Threshold, r.Rule.Index+1, r.WantedThreshold)
		}
		if r.SelectorDrift != nil {
			out = append(out, selectorDriftFinding(r, r.SelectorDrift))
		}
	}
	// plaintext
	if r.PlainErr != nil {
		line, msg := errorText(r.PlainErr)
		add(SeverityError, CodeUnreadable, line, "fix the file's syntax", "cannot read the data: %s", msg)
	}
	for _, p := range r.Plain {
		where := strings.Join(p.Path, ".")
		if p.Comment {
			if where == "" {
				where = "the top level"
			}
			add(SeverityWarning, CodePlaintextComment, p.Line,
				"encrypt it again (sops edit) or remove the comment",
				"comment under %s is not encrypted, though the file's settings encrypt comments", where)
			continue
		}
		add(SeverityError, CodePlaintext, p.Line,
			"remove the line, add the value with sops edit "+shellQuote(r.Path)+", and rotate the secret (git history has it)",
			"value of %q is stored in plaintext; sops cannot decrypt the file", where)
	}
	return out
}

// nestedConfigFinding warns that sops run from the repository root would
// encrypt r to the recipients of the root config's rule, not to those of
// the config that governs r.
func nestedConfigFinding(res *ScanResult, r *FileResult) Finding {
	own, root := groupSets(r.Rule), groupSets(r.RootRule)
	var parts []string
	name := func(k recipients.Key) string {
		if n := r.Config.NameOf(k); n != "" {
			return n
		}
		return DisplayName(res.RootConfig, k)
	}
	for i := 0; i < max(len(own), len(root)); i++ {
		var o, rt map[recipients.Key]bool
		if i < len(own) {
			o = own[i]
		}
		if i < len(root) {
			rt = root[i]
		}
		var without, with []string
		if i < len(r.Rule.Groups) {
			for _, m := range r.Rule.Groups[i].Members {
				if o[m.Key] && !rt[m.Key] && !slices.Contains(without, name(m.Key)) {
					without = append(without, name(m.Key))
				}
			}
		}
		if i < len(r.RootRule.Groups) {
			for _, m := range r.RootRule.Groups[i].Members {
				if rt[m.Key] && !o[m.Key] && !slices.Contains(with, name(m.Key)) {
					with = append(with, name(m.Key))
				}
			}
		}
		where := ""
		if max(len(own), len(root)) > 1 {
			where = fmt.Sprintf("key group %d ", i+1)
		}
		if len(without) > 0 {
			parts = append(parts, where+"without "+strings.Join(without, ", "))
		}
		if len(with) > 0 {
			parts = append(parts, where+"with "+strings.Join(with, ", "))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "with another shamir_threshold")
	}
	dir := filepath.ToSlash(filepath.Dir(r.ConfigPath))
	return Finding{
		Severity: SeverityWarning, Code: CodeNestedConfig, File: r.Path, Line: r.File.MetadataLine,
		Message: fmt.Sprintf("sops run from the repository root would encrypt it by creation rule %d of %s, %s, not as %s asks",
			r.RootRule.Index+1, res.RootConfigPath, strings.Join(parts, "; "), r.ConfigPath),
		Hint: fmt.Sprintf("run sops for it from %s, or make creation rule %d of %s skip that folder", dir, r.RootRule.Index+1, res.RootConfigPath),
	}
}

// DisplayName is the name a report shows for key: the name the config gives
// it, else a shortened identifier.
func DisplayName(cfg *recipients.Config, k recipients.Key) string {
	if cfg != nil {
		if n := cfg.NameOf(k); n != "" {
			return n
		}
		// A native ssh-ed25519 key and its age conversion are one
		// private key: they share a name.
		if n := cfg.TwinName(k); n != "" {
			return n
		}
	}
	return ShortKey(k)
}

// ShortKey abbreviates a key identifier: "age1abcd…wxyz", a PGP fingerprint's
// last 16 hex digits, a KMS key's last path segment.
func ShortKey(k recipients.Key) string {
	if secretguard.LooksPrivate(k.ID) {
		// A private key pasted as a recipient: not even a part of it.
		return secretguard.Placeholder
	}
	id := k.ID
	switch k.Type {
	case recipients.TypeAge:
		if strings.HasPrefix(id, "ssh-") {
			fields := strings.Fields(id)
			if len(fields) >= 2 && len(fields[1]) > 12 {
				return fields[0] + " …" + fields[1][len(fields[1])-8:]
			}
			return id
		}
		if len(id) > 16 {
			return id[:8] + "…" + id[len(id)-4:]
		}
	case recipients.TypeKMS:
		// arn:aws:kms:REGION:ACCOUNT:key/ID (or alias/NAME), "+role" after
		if parts := strings.SplitN(id, ":", 6); len(parts) == 6 {
			res, _, _ := strings.Cut(parts[5], "+")
			if k, ok := strings.CutPrefix(res, "key/"); ok && len(k) > 8 {
				res = "key/" + k[:8] + "…"
			}
			return "kms:" + parts[3] + ":" + res
		}
		return shortID(k)
	case recipients.TypePGP:
		if len(id) > 16 {
			return "pgp:" + id[len(id)-16:]
		}
		return "pgp:" + id
	default:
		return shortID(k)
	}
	return id
}

// shortID is the last segment of a path-like key identifier (GCP, Azure,
// Vault), at most 24 characters, after the key type.
func shortID(k recipients.Key) string {
	short := k.ID
	if i := strings.LastIndexAny(short, "/:"); i >= 0 && i+1 < len(short) {
		short = short[i+1:]
	}
	if len(short) > 24 {
		short = short[:24] + "…"
	}
	return string(k.Type) + ":" + short
}

var (
	lineNumber = regexp.MustCompile(`\bline (\d+)\b`)
	lineFirst  = regexp.MustCompile(`^((?:[a-z]+: )?)line \d+: `)
)

// errorText is the message of an error met reading a file that could not
// be parsed, safe to show: one line, and quoted text redacted, since it may
// be a piece of the data (a value, in plaintext) rather than of the sops
// metadata. The line number it names, if any, is returned apart (and taken
// out of the message when the message begins with it).
func errorText(err error) (line int, msg string) {
	// One scrubbing for every message that may quote a file's data: the
	// secret guard's (quoted, backticked and raw value text dropped,
	// metadata keys kept, private keys replaced).
	msg = secretguard.ScrubStoreText(oneLine(err.Error()), nil)
	// yaml.v3's own "yaml: line N" is one short for parser errors (it names
	// the line before the problem): only lines the sops parsers give are
	// taken.
	if m := lineNumber.FindStringSubmatch(msg); m != nil && !strings.Contains(msg, "yaml: line") {
		line, _ = strconv.Atoi(m[1])
		msg = lineFirst.ReplaceAllString(msg, "$1")
	}
	return line, msg
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// shellQuote quotes p for a POSIX shell when it needs it.
func shellQuote(p string) string {
	if p != "" && strings.IndexFunc(p, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ':' || r == '@' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}
