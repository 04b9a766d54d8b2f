package recipients

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sopsfleet/sopsfleet/internal/textedit"
)

// Own rules in edits (see ownrule.go for what an own rule is):
//   - add --like HOST never adds NAME to HOST's own rule: HOST's private
//     secrets stay HOST's;
//   - add --own-rule copies HOST's own rule for NAME, right after it, with
//     the name substituted in the path_regex, in the recipient and in a
//     comment line above it that names HOST;
//   - remove --drop-own-rule deletes NAME's own rule with the recipient,
//     which restores the file byte for byte after add --own-rule.

// OwnRuleAddOptions describe [Config.AddOwn].
type OwnRuleAddOptions struct {
	AddOptions
	// FromLike is true when Targets were chosen by --like alone: the
	// groups of Like's own rule are then left out.
	FromLike bool
	// OwnRule creates NAME's own rule, modelled on Like's.
	OwnRule bool
	// RuleRegex, when set, is the new rule's path_regex instead of Like's
	// with the name substituted.
	RuleRegex string
}

// AddOwn is [Config.Add] that knows own rules: with FromLike it leaves
// Like's own rule out of the targets (and says so in Notes), and with
// OwnRule it also creates NAME's own rule after Like's. The edit is
// verified as a whole: every old rule resolves as before (with NAME added
// to the targets), and a probe path of the new regex resolves to the new
// rule, which wants Like's rule's members with NAME in place of Like.
func (c *Config) AddOwn(o OwnRuleAddOptions) (*Edit, error) {
	if (o.OwnRule || o.RuleRegex != "") && o.Like == "" {
		return nil, errors.New("--own-rule copies the own rule of the --like recipient: give --like NAME")
	}
	if o.OwnRule && o.Key.Type != TypeAge {
		return nil, fmt.Errorf("--own-rule: only age and ssh recipients get a rule of their own, not a %s key", o.Key.Type)
	}
	if o.RuleRegex != "" && !o.OwnRule {
		return nil, errors.New("--rule-regex sets the path_regex of the rule --own-rule creates: give --own-rule too")
	}
	var notes []string
	var likeKey Key
	var own []*Rule
	if o.Like != "" {
		k, err := c.Lookup(o.Like)
		if err != nil {
			return nil, err
		}
		likeKey = k
		own = c.OwnRules(o.Like, k)
	}
	targets := o.Targets
	if o.FromLike && len(own) > 0 {
		skip := map[int]bool{}
		for _, r := range own {
			skip[r.Index] = true
		}
		targets = nil
		for _, t := range o.Targets {
			if !skip[t.Rule] {
				targets = append(targets, t)
			}
		}
		for _, r := range own {
			notes = append(notes, fmt.Sprintf("%s is %s's own rule: %s is not added to it", RuleLabel(c, r), o.Like, o.Name))
		}
	}
	if len(targets) > 0 {
		var parts []string
		seen := map[int]bool{}
		for _, t := range targets {
			if !seen[t.Rule] {
				seen[t.Rule] = true
				parts = append(parts, RuleLabel(c, c.Rules[t.Rule]))
			}
		}
		notes = append(notes, fmt.Sprintf("%s is added to %s", o.Name, strings.Join(parts, ", ")))
	}
	if len(targets) == 0 && !o.OwnRule {
		if len(own) > 0 {
			return nil, fmt.Errorf("%s: %s is only in its own rule (%s): nothing to add %s to; --own-rule gives %s a rule of its own, --path FILE adds it to a given rule", c.Path, o.Like, RuleLabel(c, own[0]), o.Name, o.Name)
		}
		return nil, fmt.Errorf("no target group: use --path, --like or --all")
	}

	ed := &Edit{Path: c.Path, Old: c.data, New: c.data, Key: o.Key, Name: o.Name}
	base := c
	if len(targets) > 0 {
		ao := o.AddOptions
		ao.Targets = targets
		first, err := c.Add(ao)
		if err != nil {
			return nil, err
		}
		ed.New, ed.Changed, ed.Name, ed.unnamed = first.New, first.Changed, first.Name, first.unnamed
		ed.Notes = append(ed.Notes, first.Notes...)
		if !first.Unchanged() {
			if base, err = ParseConfig(c.Path, first.New); err != nil {
				return nil, errVerify(c.Path, fmt.Sprintf("fails (%v)", err))
			}
		}
	} else if err := c.checkNewRecipient(o.AddOptions); err != nil {
		return nil, err
	}
	ed.Notes = append(notes, ed.Notes...)
	if !o.OwnRule {
		return ed, nil
	}

	switch len(own) {
	case 0:
		return nil, fmt.Errorf("%s: %s has no own rule to copy: no creation rule's path_regex names %s as a whole word while its keys include %s; write the first one by hand (path_regex: hosts/%s/… with %s and the admins), then --own-rule copies it (--rule-regex REGEX sets the copy's path_regex)", c.Path, o.Like, o.Like, o.Like, o.Like, o.Like)
	case 1:
	default:
		var parts []string
		for _, r := range own {
			parts = append(parts, RuleLabel(c, r))
		}
		return nil, fmt.Errorf("%s: %d rules could be %s's own, so --own-rule does not know which to copy: %s", c.Path, len(own), o.Like, strings.Join(parts, "; "))
	}
	for _, nm := range c.named() {
		if nm.name == o.Name && nm.key != o.Key {
			return nil, fmt.Errorf("%s:%d: the name %q already names another key (%s)", c.Path, nm.line, o.Name, shortKey(nm.key.ID))
		}
	}
	if rs := c.OwnRules(o.Name, o.Key); len(rs) > 0 {
		return nil, fmt.Errorf("%s: %s already has its own rule: %s", c.Path, o.Name, RuleLabel(c, rs[0]))
	}
	tmpl := base.Rules[own[0].Index]
	regex := o.RuleRegex
	if regex == "" {
		regex = replaceToken(tmpl.PathRegex, o.Like, o.Name)
	}
	if _, err := regexp.Compile(regex); err != nil {
		return nil, fmt.Errorf("--rule-regex %q: %v", regex, err)
	}
	probe, ok := probePath(regex)
	if !ok {
		return nil, fmt.Errorf("the new rule's path_regex %q matches no path that could be found by generating one: give a simpler --rule-regex", regex)
	}
	// The new rule goes right after the template: an earlier rule that
	// matches the probe would take its files.
	for _, r := range base.Rules[:tmpl.Index+1] {
		if r.PathRegex == "" || (r.re != nil && r.re.MatchString(probe)) {
			return nil, fmt.Errorf("%s: refusing to add the rule %q for %s: %s comes first and matches its files (e.g. %s), so the new rule would never be used; give --rule-regex a path it does not match", c.Path, regex, o.Name, RuleLabel(c, c.Rules[r.Index]), probe)
		}
	}
	e := base.newEditor()
	defined := false
	if len(targets) == 0 && e.usesAnchors() {
		// NAME is in no other rule: its anchor goes where Like's is
		// defined, when that is a list of definitions no rule reads.
		if list, after := e.definitionList(o.Like, map[GroupRef]bool{}, "age"); list != nil && len(e.readersOf(list)) == 0 {
			if err := e.insertDefinition(list, after, o.AddOptions, o.Key.ID); err != nil {
				return nil, fmt.Errorf("%s:%w", c.Path, err)
			}
			defined = true
		}
	}
	if !defined {
		_, endLine, err := e.ruleLines(tmpl)
		if err != nil {
			return nil, fmt.Errorf("%s:%w", c.Path, err)
		}
		for _, a := range base.Anchors {
			if a.Name == o.Name && a.node.Kind == yaml.ScalarNode && e.t.lineOf(e.t.nodeStart(a.node)) > endLine {
				return nil, fmt.Errorf("%s: cannot add %s's own rule after %s: the anchor &%s goes below it (in %s's other rules), and an alias cannot come before its anchor; define the recipients in a keys: list above creation_rules first", c.Path, o.Name, RuleLabel(c, c.Rules[tmpl.Index]), o.Name, o.Like)
			}
		}
	}
	text, err := e.copyRule(tmpl, o.Like, likeKey, o.Name, o.Key, o.RuleRegex, defined)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", c.Path, err)
	}
	_, endLine, err := e.ruleLines(tmpl)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", c.Path, err)
	}
	e.splices = append(e.splices, e.t.insertAfterLine(endLine, text))
	out, err := textedit.Apply(base.data, e.splices)
	if err != nil {
		return nil, err
	}
	nc, err := ParseConfig(c.Path, out)
	if err != nil {
		return nil, errVerify(c.Path, fmt.Sprintf("fails (%v)", err))
	}
	if err := verifyOwnRule(base, nc, tmpl.Index, regex, likeKey, o.Key, probe); err != nil {
		return nil, errVerify(c.Path, err.Error())
	}
	if got := nc.NameOf(o.Key); got != o.Name && !(got == "" && ed.unnamed) {
		return nil, errVerify(c.Path, fmt.Sprintf("names the new recipient %q instead of %q", got, o.Name))
	}
	if err := base.sameAnchors(nc, "", o.Name); err != nil {
		return nil, err
	}
	ed.New = out
	ed.Notes = append(ed.Notes, fmt.Sprintf("a new rule (%s) for %s's own secrets is copied from %s and goes right after it: %s resolves to it", regex, o.Name, RuleLabel(c, c.Rules[tmpl.Index]), probe))
	return ed, nil
}

// checkNewRecipient makes the checks of [Config.Add] when NAME goes into
// its own rule only: a valid name, an age recipient, a name and a key not
// taken by another key or name.
func (c *Config) checkNewRecipient(o AddOptions) error {
	if !ValidName(o.Name) {
		return fmt.Errorf("invalid recipient name %s: use ASCII letters, digits, '_' and '-', starting with a letter or digit", QuoteInput(o.Name))
	}
	if o.Key.Type != TypeAge {
		return fmt.Errorf("only age and ssh recipients can be added, not %s", o.Key.Type)
	}
	if _, err := ageKeyFromConfig(o.Key.ID); err != nil {
		return err
	}
	for _, a := range c.Anchors {
		if a.Name == o.Name && (a.node.Kind != yaml.ScalarNode || strings.TrimSpace(a.Value) != o.Key.ID) {
			return fmt.Errorf("%s:%d: the anchor %q already exists for something else", c.Path, a.Line, o.Name)
		}
	}
	if cur := c.NameOf(o.Key); cur != "" && cur != o.Name {
		return fmt.Errorf("%s: the key is already in the file as %q: use that name (or rename it first)", c.Path, cur)
	}
	return nil
}

// ruleLines returns the first and last line of rule r's text: from its
// "-" to its last value (comment lines above it not included).
func (e *editor) ruleLines(r *Rule) (int, int, error) {
	item, err := e.ruleItem(r)
	if err != nil {
		return 0, 0, err
	}
	dash, own := e.dashOf(item)
	if dash < 0 || !own {
		return 0, 0, &errUnclean{r.Line, "the rule is not a block list item on lines of its own"}
	}
	end, err := e.nodeEnd(r.node)
	if err != nil {
		return 0, 0, err
	}
	if !e.restIsComment(end) {
		return 0, 0, &errUnclean{e.t.lineOf(end), "the rule's last line holds more than the rule"}
	}
	return e.t.lineOf(dash), e.t.lineOf(end), nil
}

// ruleItem is the creation_rules item of r, which must be a block mapping
// written in place (not an alias).
func (e *editor) ruleItem(r *Rule) (*yaml.Node, error) {
	seq := e.rulesNode()
	if seq == nil || seq.Kind != yaml.SequenceNode || seq.Style&yaml.FlowStyle != 0 || e.inFlow[seq] {
		return nil, &errUnclean{r.Line, "creation_rules is not a block list"}
	}
	for _, it := range seq.Content {
		if deref(it) == r.node {
			if it.Kind == yaml.AliasNode || it.Kind != yaml.MappingNode || it.Style&yaml.FlowStyle != 0 || it.Anchor != "" {
				return nil, &errUnclean{r.Line, "the rule is an alias, an anchor or a flow mapping: copy it by hand"}
			}
			return it, nil
		}
	}
	return nil, &errUnclean{r.Line, "cannot find the rule in creation_rules"}
}

// commentAbove returns the comment lines directly above the rule at
// startLine (first line, or startLine when none) and whether a blank line
// precedes them.
func (e *editor) commentAbove(startLine int) (int, bool) {
	indent := e.t.indent(startLine)
	first := e.ownCommentStart(startLine, 0, indent)
	blank := first > 1 && strings.TrimSpace(e.t.line(first-1)) == ""
	return first, blank
}

// copyRule returns the text of template rule r for name: its lines with
// like's recipient replaced by key (an alias "*NAME" where NAME is an
// anchor, else the key with NAME's name), like replaced by name as a whole
// word elsewhere (path_regex, comments), the comment lines above the rule
// when they name like, and a blank line first when one separates the
// template from its neighbours.
func (e *editor) copyRule(r *Rule, like string, likeKey Key, name string, key Key, ruleRegex string, anchored bool) (string, error) {
	startLine, endLine, err := e.ruleLines(r)
	if err != nil {
		return "", err
	}
	blockStart, blockEnd := e.t.lineStart(startLine), e.t.lineEnd(endLine)
	type repl struct {
		start, end int
		text       string
	}
	var repls []repl
	inBlock := func(sp span) bool { return sp.start >= blockStart && sp.end <= blockEnd }

	// The path_regex value.
	if f, ok := structFields(r.node)["path_regex"]; ok && ruleRegex != "" {
		v := f.val
		if v.Kind != yaml.ScalarNode || f.merged {
			return "", &errUnclean{f.key.Line, "the path_regex is not written in the rule"}
		}
		sp, err := e.span(v)
		if err != nil {
			return "", err
		}
		repls = append(repls, repl{sp.start, sp.end, quoteRegex(ruleRegex, v)})
	}

	// like's recipient, wherever the rule's groups hold it.
	for _, a := range e.c.Anchors {
		if a.Name == name && a.node.Kind == yaml.ScalarNode && strings.TrimSpace(a.Value) == key.ID {
			anchored = true
		}
	}
	ref := func() string {
		if anchored {
			return "*" + name
		}
		anchored = true // defined once, in the copy
		return "&" + name + " " + key.ID
	}
	done := map[*yaml.Node]bool{}
	// Other anchors defined in the rule: the copy refers to them.
	for _, a := range e.c.Anchors {
		start := e.t.nodeStart(a.node)
		if start < blockStart || start >= blockEnd || a.Name == like {
			continue
		}
		if a.node.Kind != yaml.ScalarNode {
			return "", &errUnclean{a.Line, fmt.Sprintf("the rule defines the anchor &%s on a list or mapping: copy the rule by hand", a.Name)}
		}
		sp, err := e.span(a.node)
		if err != nil {
			return "", err
		}
		done[a.node] = true
		repls = append(repls, repl{start, sp.end, "*" + a.Name})
	}
	for _, g := range r.Groups {
		for _, list := range [][]Member{g.Members, g.Duplicates} {
			for _, m := range list {
				if m.Key != likeKey || m.src == nil || done[m.src.item] {
					continue
				}
				done[m.src.item] = true
				it := m.src.item
				start := e.t.nodeStart(it)
				sp, err := e.span(it)
				if err != nil {
					return "", err
				}
				if !inBlock(span{start, sp.end}) {
					return "", &errUnclean{m.Line, fmt.Sprintf("%s's key is written outside its rule (line %d): copy the rule by hand", like, m.Line)}
				}
				switch {
				case it.Kind == yaml.AliasNode || m.src.val.Anchor != "":
					if m.src.piece >= 0 && countEntries(m.src.val.Value) != 1 {
						return "", &errUnclean{m.Line, "an anchored comma-separated value: copy the rule by hand"}
					}
					repls = append(repls, repl{start, sp.end, ref()})
				default:
					raw := string(e.t.data[sp.start:sp.end])
					if !strings.Contains(raw, likeKey.ID) {
						return "", &errUnclean{m.Line, fmt.Sprintf("%s's key is written in a way the editor does not follow", like)}
					}
					repls = append(repls, repl{sp.start, sp.end, strings.ReplaceAll(raw, likeKey.ID, key.ID)})
				}
			}
		}
	}
	sort.Slice(repls, func(i, j int) bool { return repls[i].start < repls[j].start })
	var b strings.Builder
	pos := blockStart
	for _, rp := range repls {
		if rp.start < pos {
			return "", &errUnclean{r.Line, "overlapping values in the rule"}
		}
		b.WriteString(replaceToken(string(e.t.data[pos:rp.start]), like, name))
		b.WriteString(rp.text)
		pos = rp.end
	}
	b.WriteString(replaceToken(string(e.t.data[pos:blockEnd]), like, name))
	block := b.String()

	first, blank := e.commentAbove(startLine)
	var head strings.Builder
	after := endLine < e.t.lines() && strings.TrimSpace(e.t.line(endLine+1)) == ""
	if blank || after {
		head.WriteString(e.t.nl)
	}
	if first < startLine {
		comments := string(e.t.data[e.t.lineStart(first):e.t.lineStart(startLine)])
		if ContainsToken(comments, like) {
			head.WriteString(replaceToken(comments, like, name))
		}
	}
	return head.String() + block, nil
}

// quoteRegex writes regex in the style of the value it replaces: plain
// when that reads back as the same string, else single-quoted.
func quoteRegex(regex string, old *yaml.Node) string {
	sq := "'" + strings.ReplaceAll(regex, "'", "''") + "'"
	if old.Style&yaml.DoubleQuotedStyle != 0 {
		return strconv.Quote(regex)
	}
	if old.Style&yaml.SingleQuotedStyle != 0 {
		return sq
	}
	var back struct {
		V string `yaml:"v"`
	}
	if err := yaml.Unmarshal([]byte("v: "+regex+"\n"), &back); err == nil && back.V == regex && !strings.ContainsAny(regex, "#\n") {
		return regex
	}
	return sq
}

// verifyOwnRule checks the text with the new rule: nc has base's rules
// unchanged, and right after the template the new rule with regex, the
// template's settings, and its groups with like's key replaced by key; the
// probe path resolves to the new rule.
func verifyOwnRule(base, nc *Config, ti int, regex string, likeKey, key Key, probe string) error {
	if len(nc.Rules) != len(base.Rules)+1 {
		return fmt.Errorf("gives %d creation rules instead of %d", len(nc.Rules), len(base.Rules)+1)
	}
	for i, r := range base.Rules {
		j := i
		if i > ti {
			j = i + 1
		}
		if err := sameRule(r, nc.Rules[j], Key{}, Key{}); err != nil {
			return fmt.Errorf("changes creation rule %d: %v", i+1, err)
		}
	}
	nr := nc.Rules[ti+1]
	if nr.PathRegex != regex {
		return fmt.Errorf("gives the new rule the path_regex %q instead of %q", nr.PathRegex, regex)
	}
	tmpl := *base.Rules[ti]
	tmpl.PathRegex = regex
	if err := sameRule(&tmpl, nr, likeKey, key); err != nil {
		return fmt.Errorf("gives the new rule other settings or members than intended: %v", err)
	}
	got, err := nc.RuleForRel(probe)
	if err != nil || got.Index != ti+1 {
		return fmt.Errorf("does not resolve %s to the new rule", probe)
	}
	return nil
}

// sameRule compares the settings and group members of two rules, with
// key from in a's groups standing for to in b's.
func sameRule(a, b *Rule, from, to Key) error {
	if a.PathRegex != b.PathRegex || a.HasPathRegex != b.HasPathRegex || a.ShamirThreshold != b.ShamirThreshold || a.KeyGroupsForm != b.KeyGroupsForm ||
		a.EncryptedRegex != b.EncryptedRegex || a.UnencryptedRegex != b.UnencryptedRegex ||
		a.EncryptedSuffix != b.EncryptedSuffix || a.UnencryptedSuffix != b.UnencryptedSuffix ||
		a.EncryptedCommentRegex != b.EncryptedCommentRegex || a.UnencryptedCommentRegex != b.UnencryptedCommentRegex ||
		a.MACOnlyEncrypted != b.MACOnlyEncrypted {
		return errors.New("other settings")
	}
	if len(a.Groups) != len(b.Groups) {
		return fmt.Errorf("%d key groups instead of %d", len(b.Groups), len(a.Groups))
	}
	for gi := range a.Groups {
		var want []string
		for _, m := range a.Groups[gi].Members {
			k := m.Key
			if k == from {
				k = to
			}
			want = append(want, k.String())
		}
		sort.Strings(want)
		got := groupKeys(b.Groups[gi], Key{})
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			return fmt.Errorf("other recipients in group %d", gi+1)
		}
	}
	return nil
}

// probePath returns a short path that regex matches, as a file name of the
// new rule would: literals as written, one character for a class or a
// repetition, the first branch of an alternation.
func probePath(regex string) (string, bool) {
	re, err := regexp.Compile(regex)
	if err != nil {
		return "", false
	}
	p, err := syntax.Parse(regex, syntax.Perl)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	genProbe(p.Simplify(), &b)
	s := strings.TrimPrefix(b.String(), "/")
	cands := []string{s, s + "x.yaml", filepath.ToSlash(filepath.Join(s, "x.yaml"))}
	if strings.HasSuffix(s, "/") || s == "" {
		cands = cands[1:] // a file in the folder reads better than the folder
	}
	for _, cand := range cands {
		if cand != "" && re.MatchString(cand) {
			return cand, true
		}
	}
	return "", false
}

func genProbe(p *syntax.Regexp, b *strings.Builder) {
	switch p.Op {
	case syntax.OpLiteral:
		b.WriteString(string(p.Rune))
	case syntax.OpCharClass:
		b.WriteRune(classRune(p.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('x')
	case syntax.OpCapture:
		genProbe(p.Sub[0], b)
	case syntax.OpPlus, syntax.OpStar:
		genProbe(p.Sub[0], b)
	case syntax.OpRepeat:
		n := p.Min
		if n == 0 && p.Max != 0 {
			n = 1
		}
		for i := 0; i < n; i++ {
			genProbe(p.Sub[0], b)
		}
	case syntax.OpConcat:
		for _, s := range p.Sub {
			genProbe(s, b)
		}
	case syntax.OpAlternate:
		genProbe(p.Sub[0], b)
	}
}

// classRune picks a readable rune of a character class: 'x', else a
// letter or digit, else its first rune that is not '/' or a line break.
func classRune(ranges []rune) rune {
	in := func(r rune) bool {
		for i := 0; i+1 < len(ranges); i += 2 {
			if r >= ranges[i] && r <= ranges[i+1] {
				return true
			}
		}
		return false
	}
	for _, r := range "xabcdefghijklmnopqrstuvwyz0123456789._-" {
		if in(r) {
			return r
		}
	}
	for i := 0; i+1 < len(ranges); i += 2 {
		for r := ranges[i]; r <= ranges[i+1] && r < ranges[i]+256; r++ {
			if r != '/' && r != '\n' && r != '\r' {
				return r
			}
		}
	}
	if len(ranges) > 0 {
		return ranges[0]
	}
	return 'x'
}

// OwnRuleRemoveOptions describe [Config.RemoveOwn].
type OwnRuleRemoveOptions struct {
	// Drop deletes the recipient's own rule together with the recipient.
	Drop bool
	// Files are the encrypted files of the repository (paths absolute or
	// relative to the working directory): dropping a rule that still
	// governs one of them is refused.
	Files []string
}

// RemoveOwn is [Config.Remove] that knows own rules: with Drop it also
// deletes the recipient's own rule (its lines, a comment block above it and
// one blank line before it), refusing while encrypted files are governed by
// that rule; without Drop it notes which own rule is left holding only the
// other members.
func (c *Config) RemoveOwn(k Key, o OwnRuleRemoveOptions) (*Edit, error) {
	name := c.NameOf(k)
	var own []*Rule
	if name != "" {
		own = c.OwnRules(name, k)
	}
	if !o.Drop {
		ed, err := c.Remove(k)
		if err != nil {
			return nil, err
		}
		for _, r := range own {
			var left []string
			for _, g := range r.Groups {
				for _, m := range g.Members {
					if m.Key != k {
						left = append(left, memberLabel(m))
					}
				}
			}
			ed.Notes = append(ed.Notes, fmt.Sprintf("%s was %s's own rule: it is left with %s only (--drop-own-rule deletes it)", RuleLabel(c, r), name, strings.Join(left, ", ")))
		}
		return ed, nil
	}
	switch {
	case name == "":
		return nil, fmt.Errorf("%s: --drop-own-rule: the recipient %s has no name, so no rule is its own", c.Path, shortKey(k.ID))
	case len(own) == 0:
		return nil, fmt.Errorf("%s: --drop-own-rule: %s has no own rule (none whose path_regex names %s as a whole word holds its key)", c.Path, name, name)
	case len(own) > 1:
		var parts []string
		for _, r := range own {
			parts = append(parts, RuleLabel(c, r))
		}
		return nil, fmt.Errorf("%s: --drop-own-rule: %d rules could be %s's own, so none is deleted: %s", c.Path, len(own), name, strings.Join(parts, "; "))
	}
	r := own[0]
	var governed []string
	for _, f := range o.Files {
		if fr, err := c.RuleFor(f); err == nil && fr.Index == r.Index {
			governed = append(governed, f)
		}
	}
	if len(governed) > 0 {
		sort.Strings(governed)
		what, it := fmt.Sprintf("%d encrypted files are", len(governed)), "them"
		if len(governed) == 1 {
			what, it = "1 encrypted file is", "it"
		}
		return nil, fmt.Errorf("%s: refusing to delete %s, %s's own rule: %s still governed by it: %s (delete or move %s first)", c.Path, RuleLabel(c, r), name,
			what, strings.Join(governed, ", "), it)
	}
	e := c.newEditor()
	startLine, endLine, err := e.ruleLines(r)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", c.Path, err)
	}
	for _, a := range c.Anchors {
		if l := e.t.lineOf(e.t.nodeStart(a.node)); l < startLine || l > endLine {
			continue
		}
		for _, u := range a.Uses {
			if u < startLine || u > endLine {
				return nil, fmt.Errorf("%s:%d: refusing to delete %s, %s's own rule: it defines the anchor &%s, which line %d uses; move the definition out of the rule first", c.Path, a.Line, RuleLabel(c, r), name, a.Name, u)
			}
		}
	}
	first, blank := e.commentAbove(startLine)
	if blank {
		first--
	}
	e.splices = append(e.splices, e.t.deleteLines(first, endLine))
	out, err := textedit.Apply(c.data, e.splices)
	if err != nil {
		return nil, err
	}
	mid, err := ParseConfig(c.Path, out)
	if err != nil {
		return nil, errVerify(c.Path, fmt.Sprintf("fails (%v)", err))
	}
	if len(mid.Rules) != len(c.Rules)-1 {
		return nil, errVerify(c.Path, fmt.Sprintf("gives %d creation rules instead of %d", len(mid.Rules), len(c.Rules)-1))
	}
	for i, or := range c.Rules {
		if i == r.Index {
			continue
		}
		j := i
		if i > r.Index {
			j = i - 1
		}
		if err := sameRule(or, mid.Rules[j], Key{}, Key{}); err != nil {
			return nil, errVerify(c.Path, fmt.Sprintf("changes creation rule %d: %v", i+1, err))
		}
	}
	ed := &Edit{Path: c.Path, Old: c.data, New: out, Key: k, Changed: c.Uses(k)}
	if len(mid.Uses(k)) > 0 || mid.NameOf(k) != "" {
		rm, err := mid.Remove(k)
		if err != nil {
			return nil, err
		}
		ed.New = rm.New
		ed.Notes = append(ed.Notes, rm.Notes...)
	}
	ed.Notes = append(ed.Notes, fmt.Sprintf("%s, %s's own rule, is deleted", RuleLabel(c, r), name))
	return ed, nil
}

// memberLabel is a member's name, else its shortened key.
func memberLabel(m Member) string {
	if m.Name != "" {
		return m.Name
	}
	return shortKey(m.Key.ID)
}
