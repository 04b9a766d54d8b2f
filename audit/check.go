package audit

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

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
// sops-yml, empty-group, ignored-flat-keys, bad-settings, no-creation-rules.
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
	{CodeBadRegex, SeverityError, "a path_regex does not compile"},
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
	// Rule is the creation rule for the file; nil with RuleErr set when no
	// rule matches (recipients.ErrNoRule).
	Rule    *recipients.Rule
	RuleErr error
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
}

// Encrypted reports whether the file's metadata was read.
func (r *FileResult) Encrypted() bool { return r.File != nil }

// ScanResult is the outcome of Scan: every encrypted file, every file that
// is not encrypted but a creation rule selects, every unreadable file.
type ScanResult struct {
	Config *recipients.Config
	Files  []*FileResult // sorted by display path
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
		roots = []string{cfg.Dir}
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
	if root == "" && cfg.Dir != "" {
		root = sopsfile.TreeRoot(cfg.Dir)
	}
	res := &ScanResult{Config: cfg, Root: root}
	configAbs := ""
	if cfg.Path != "" {
		configAbs = absPath(cfg.Path)
	}
	if cfg.Dir != "" {
		yml := filepath.Join(cfg.Dir, ".sops.yml")
		if _, err := os.Stat(yml); err == nil {
			res.SopsYml = append(res.SopsYml, display(yml))
		}
	}
	// sopsfile.WalkParsed reads and parses the files on a worker per CPU
	// and drops each file's content once it is checked: memory stays flat
	// on large trees.
	var results []*FileResult
	var sopsYml []bool
	var paths []string
	tree, err := sopsfile.WalkParsedTree(roots, sopsfile.DiscoverOptions{Jobs: opts.Workers, Root: root}, func(n int) {
		res.Scanned = n
		results = make([]*FileResult, n)
		sopsYml = make([]bool, n)
		paths = make([]string, n)
	}, func(i int, found sopsfile.Found, sops bool) {
		a := absPath(found.Path)
		paths[i] = a
		switch {
		case a == configAbs:
		case filepath.Base(a) == ".sops.yml":
			sopsYml[i] = true
		default:
			results[i] = scanFound(cfg, found, sops, a, display(a), explicit[a], opts.Plaintext)
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
	}
	detach(f)
	return r
}

// namedStanzas is groups without the entries that name no key (a malformed
// entry, reported as metadata): they are not an "extra" recipient.
func namedStanzas(groups [][]sopsfile.Stanza) [][]sopsfile.Stanza {
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
// keys) and copies the strings kept, which may share memory with the file's
// content, so that the content is freed at once.
func detach(f *sopsfile.File) {
	for _, g := range f.Groups {
		for i := range g {
			g[i].Enc = ""
			g[i].Key.ID = strings.Clone(g[i].Key.ID)
			g[i].Problem = strings.Clone(g[i].Problem)
			g[i].CreatedAt = ""
		}
	}
	for i := range f.Problems {
		f.Problems[i].Message = strings.Clone(f.Problems[i].Message)
	}
	f.MAC = strings.Clone(f.MAC)
	f.LastModified = strings.Clone(f.LastModified)
	f.Version = strings.Clone(f.Version)
	f.EncryptedRegex, f.UnencryptedRegex = strings.Clone(f.EncryptedRegex), strings.Clone(f.UnencryptedRegex)
	f.EncryptedSuffix, f.UnencryptedSuffix = strings.Clone(f.EncryptedSuffix), strings.Clone(f.UnencryptedSuffix)
	f.EncryptedCommentRegex = strings.Clone(f.EncryptedCommentRegex)
	f.UnencryptedCommentRegex = strings.Clone(f.UnencryptedCommentRegex)
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
	findings := Lint(res.Config, configPath)
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
		findings = append(findings, fileFindings(res.Config, r)...)
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
	if r.RuleErr != nil && !errors.Is(r.RuleErr, recipients.ErrNoRule) {
		add(SeverityError, CodeNoRule, f.MetadataLine, "fix the path_regex reported as bad-regex",
			"sops cannot choose a creation rule for this file: an invalid path_regex comes before any match")
	} else if r.RuleErr != nil || r.Rule == nil {
		add(SeverityError, CodeNoRule, f.MetadataLine,
			"add a creation rule whose path_regex matches it to .sops.yaml",
			"no creation rule in .sops.yaml matches this file")
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
	quotedText = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	lineNumber = regexp.MustCompile(`\bline (\d+)\b`)
	lineFirst  = regexp.MustCompile(`^((?:[a-z]+: )?)line \d+: `)
)

// errorText is the message of an error met reading a file that could not
// be parsed, safe to show: one line, and quoted text redacted, since it may
// be a piece of the data (a value, in plaintext) rather than of the sops
// metadata. The line number it names, if any, is returned apart (and taken
// out of the message when the message begins with it).
func errorText(err error) (line int, msg string) {
	msg = quotedText.ReplaceAllStringFunc(oneLine(err.Error()), func(q string) string {
		if strings.HasPrefix(q, `"sops`) {
			return q // a metadata key
		}
		return `"…"`
	})
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
