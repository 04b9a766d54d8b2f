package sopsfile

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sopsfleet/sopsfleet/recipients"
)

// flatEditor edits the flattened metadata of a dotenv file (sops_… lines)
// or of an INI file's [sops] section, line by line.
type flatEditor struct {
	data    []byte
	ini     bool
	entries []flatEntry
	toks    [][]flatToken
	nl      string
	// INI layout: '=' column of aligned keys (-1: "key=value") and spaces
	// after '='.
	eqCol    int
	afterEq  string
	beforeEq string
}

func newFlatEditor(data []byte, ini bool) (*flatEditor, error) {
	e := &flatEditor{data: data, ini: ini, nl: "\n", eqCol: -1}
	if ini {
		secs, err := iniSops(data)
		if err != nil {
			return nil, err
		}
		if len(secs) != 1 {
			return nil, ErrNotEncrypted
		}
		e.entries = secs[0].entries
	} else {
		e.entries, _ = dotenvEntries(data)
	}
	if len(e.entries) == 0 {
		return nil, ErrNotEncrypted
	}
	for _, en := range e.entries {
		e.toks = append(e.toks, tokenize(en.key))
	}
	first := e.data[e.entries[0].start:e.entries[0].end]
	if bytes.HasSuffix(first, []byte("\r\n")) {
		e.nl = "\r\n"
	}
	if ini {
		e.beforeEq, e.afterEq = " ", " "
		l := string(bytes.TrimRight(first, "\r\n"))
		if i := strings.IndexByte(l, '='); i >= 0 {
			key := strings.TrimRight(l[:i], " \t")
			e.beforeEq = l[len(key):i]
			e.afterEq = l[i+1 : i+1+len(l[i+1:])-len(strings.TrimLeft(l[i+1:], " \t"))]
			if len(e.beforeEq) > 1 {
				e.eqCol = i
			}
		}
	}
	return e, nil
}

// stanzaPos splits an entry's path into group, type, index and field path;
// ok is false for entries that are not stanzas.
func stanzaPos(t []flatToken) (group int, typ recipients.KeyType, index int, rest []flatToken, ok bool) {
	if len(t) >= 3 && !t[0].list && t[1].list && isStanzaType(t[0].key) {
		return 0, recipients.KeyType(t[0].key), t[1].pos, t[2:], true
	}
	if len(t) >= 5 && t[0].key == "key_groups" && t[1].list && !t[2].list && isStanzaType(t[2].key) && t[3].list {
		return t[1].pos, recipients.KeyType(t[2].key), t[3].pos, t[4:], true
	}
	return 0, "", 0, nil, false
}

func isStanzaType(s string) bool {
	for _, t := range stanzaTypes {
		if string(t) == s {
			return true
		}
	}
	return false
}

func (e *flatEditor) flatForm() bool {
	for _, t := range e.toks {
		if len(t) > 0 && !t[0].list && isStanzaType(t[0].key) {
			return true
		}
	}
	return false
}

// joinTokens rebuilds a flattened key.
func joinTokens(t []flatToken) string {
	var b strings.Builder
	for i, tok := range t {
		switch {
		case tok.list:
			b.WriteString("__list_" + strconv.Itoa(tok.pos))
		case i == 0:
			b.WriteString(tok.key)
		default:
			b.WriteString("__map_" + tok.key)
		}
	}
	return b.String()
}

// comparePaths orders flattened keys as sops emits them: map keys
// alphabetically, list items by index.
func comparePaths(a, b []flatToken) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		switch {
		case x.list && y.list:
			if x.pos != y.pos {
				return x.pos - y.pos
			}
		case !x.list && !y.list:
			if c := strings.Compare(x.key, y.key); c != 0 {
				return c
			}
		case x.list:
			return -1
		default:
			return 1
		}
	}
	return len(a) - len(b)
}

// line renders one metadata line.
func (e *flatEditor) line(key, value string) string {
	value = strings.ReplaceAll(value, "\n", `\n`)
	if !e.ini {
		return "sops_" + key + "=" + value + e.nl
	}
	if strings.ContainsAny(value, "#;") || strings.TrimSpace(value) != value {
		if !strings.Contains(value, "`") {
			value = "`" + value + "`"
		} else {
			value = `"""` + value + `"""`
		}
	}
	before := e.beforeEq
	if e.eqCol >= 0 {
		before = strings.Repeat(" ", max(1, e.eqCol-len(key)))
	}
	return key + before + "=" + e.afterEq + value + e.nl
}

// renumbered returns the entry's line with its key changed to key.
func (e *flatEditor) renumbered(en flatEntry, key string) (string, error) {
	l := string(e.data[en.start:en.end])
	old := en.key
	if !e.ini {
		if !strings.HasPrefix(l, "sops_"+old) {
			return "", fmt.Errorf("line %d: unexpected layout", en.line)
		}
		return "sops_" + key + l[len("sops_"+old):], nil
	}
	i := strings.Index(l, old)
	if i < 0 || strings.TrimSpace(l[:i]) != "" {
		return "", fmt.Errorf("line %d: unexpected layout", en.line)
	}
	rest := l[i+len(old):]
	if d := len(key) - len(old); d != 0 && strings.HasPrefix(rest, " ") {
		sp := len(rest) - len(strings.TrimLeft(rest, " "))
		if sp-d >= 1 {
			rest = strings.Repeat(" ", sp-d) + rest[sp:]
		}
	}
	return l[:i] + key + rest, nil
}

// fieldLines renders the lines of one entry at base (the key up to and
// including the list index).
func (e *flatEditor) fieldLines(base []flatToken, fs []Field) []flatLine {
	var out []flatLine
	for _, f := range fs {
		p := append(append([]flatToken(nil), base...), flatToken{key: f.Name})
		if f.Map != nil {
			for _, sf := range f.Map {
				sp := append(append([]flatToken(nil), p...), flatToken{key: sf.Name})
				out = append(out, flatLine{sp, e.line(joinTokens(sp), sf.Value)})
			}
			continue
		}
		out = append(out, flatLine{p, e.line(joinTokens(p), f.Value)})
	}
	return out
}

type flatLine struct {
	path []flatToken
	text string
}

// insertAt returns the offset where a line with path p goes among the kept
// entries: before the first one that sorts after it, else after the last.
func (e *flatEditor) insertAt(p []flatToken, dropped map[int]bool) (int, error) {
	lastEnd := -1
	for i, en := range e.entries {
		if dropped[i] {
			continue
		}
		if comparePaths(e.toks[i], p) > 0 {
			return en.start, nil
		}
		lastEnd = max(lastEnd, en.end)
	}
	if lastEnd < 0 {
		return 0, errors.New("internal error: no metadata line to insert next to")
	}
	return lastEnd, nil
}

func (e *flatEditor) insertText(at int, text string) edit {
	if at == len(e.data) && len(e.data) > 0 && e.data[len(e.data)-1] != '\n' {
		text = e.nl + strings.TrimSuffix(text, e.nl)
	}
	return edit{Start: at, End: at, Text: text}
}

func (e *flatEditor) apply(c change) ([]edit, error) {
	var edits []edit
	flat := e.flatForm()
	for _, g := range changedGroups(c) {
		if flat && g != 0 {
			return nil, fmt.Errorf("key group %d does not exist", g+1)
		}
		for _, t := range stanzaTypes {
			drop, add := c.drop[g][t], c.add[g][t]
			if len(drop) == 0 && len(add) == 0 {
				continue
			}
			dropSet := map[int]bool{}
			for _, i := range drop {
				dropSet[i] = true
			}
			// The list's entries and how many items it has.
			var mine []int
			items := 0
			var like []string
			for i, tk := range e.toks {
				eg, et, idx, rest, ok := stanzaPos(tk)
				if !ok || et != t || eg != g || (flat != (tk[0].key != "key_groups")) {
					continue
				}
				mine = append(mine, i)
				items = max(items, idx+1)
				if idx == 0 && len(rest) > 0 && !slices.Contains(like, rest[0].key) {
					like = append(like, rest[0].key)
				}
			}
			for i := range dropSet {
				if i < 0 || i >= items {
					return nil, fmt.Errorf("%s entry %d not found in the metadata lines", t, i)
				}
			}
			lastEnd := -1
			for _, i := range mine {
				en := e.entries[i]
				lastEnd = max(lastEnd, en.end)
				_, _, idx, _, _ := stanzaPos(e.toks[i])
				if dropSet[idx] {
					edits = append(edits, edit{Start: en.start, End: en.end, Text: ""})
					continue
				}
				shift := 0
				for d := range dropSet {
					if d < idx {
						shift++
					}
				}
				if shift == 0 {
					continue
				}
				nt := append([]flatToken(nil), e.toks[i]...)
				pos := 1
				if !flat {
					pos = 3
				}
				nt[pos].pos = idx - shift
				l, err := e.renumbered(en, joinTokens(nt))
				if err != nil {
					return nil, err
				}
				edits = append(edits, edit{Start: en.start, End: en.end, Text: l})
			}
			next := items - len(dropSet)
			var lines []flatLine
			for _, fs := range add {
				base := []flatToken{{key: string(t)}, {list: true, pos: next}}
				if !flat {
					base = []flatToken{{key: "key_groups"}, {list: true, pos: g}, {key: string(t)}, {list: true, pos: next}}
				}
				lines = append(lines, e.fieldLines(base, orderFields(fs, like))...)
				next++
			}
			if len(lines) == 0 {
				continue
			}
			if lastEnd >= 0 && next-len(add) > 0 {
				var b strings.Builder
				for _, l := range lines {
					b.WriteString(l.text)
				}
				edits = append(edits, e.insertText(lastEnd, b.String()))
				continue
			}
			dropped := map[int]bool{}
			for _, i := range mine {
				dropped[i] = true
			}
			ins, err := e.insertLines(lines, dropped)
			if err != nil {
				return nil, err
			}
			edits = append(edits, ins...)
		}
	}
	return edits, nil
}

// insertLines inserts each line where its path belongs, ignoring the
// entries in dropped (being cut out).
func (e *flatEditor) insertLines(lines []flatLine, dropped map[int]bool) ([]edit, error) {
	var edits []edit
	for _, l := range lines {
		at, err := e.insertAt(l.path, dropped)
		if err != nil {
			return nil, err
		}
		edits = append(edits, e.insertText(at, l.text))
	}
	return edits, nil
}

func (e *flatEditor) replace(groups [][]NewStanza, threshold int) ([]edit, error) {
	var edits []edit
	dropped := map[int]bool{}
	for i, tk := range e.toks {
		if len(tk) > 0 && !tk[0].list && keyEntries[tk[0].key] {
			dropped[i] = true
			edits = append(edits, edit{Start: e.entries[i].start, End: e.entries[i].end, Text: ""})
		}
	}
	if len(dropped) == len(e.entries) {
		return nil, errors.New("the metadata holds only key entries; cannot edit it in place")
	}
	var lines []flatLine
	for gi, g := range groups {
		for _, t := range sortedTypes(g) {
			n := 0
			for _, s := range g {
				if s.Key.Type != t {
					continue
				}
				base := []flatToken{{key: string(t)}, {list: true, pos: n}}
				if len(groups) > 1 {
					base = []flatToken{{key: "key_groups"}, {list: true, pos: gi}, {key: string(t)}, {list: true, pos: n}}
				}
				lines = append(lines, e.fieldLines(base, sortFields(append([]Field(nil), s.Fields...)))...)
				n++
			}
		}
	}
	if len(groups) > 1 {
		p := []flatToken{{key: "shamir_threshold"}}
		lines = append(lines, flatLine{p, e.line("shamir_threshold", strconv.Itoa(threshold))})
	}
	sort.SliceStable(lines, func(i, j int) bool { return comparePaths(lines[i].path, lines[j].path) < 0 })
	ins, err := e.insertLines(lines, dropped)
	if err != nil {
		return nil, err
	}
	return append(edits, ins...), nil
}
