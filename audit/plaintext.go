package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"go.yaml.in/yaml/v3"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
)

// PlainValue is a value (or comment) of a sops file that sops would have
// encrypted, given the file's own encryption settings, but that is stored
// in plaintext: something was added or edited after encryption.
type PlainValue struct {
	// Path is the key path from the document root ("db", "password"); items
	// of a list share their list's path, as in sops.
	Path []string
	Line int
	// Comment is true for a comment line (YAML and dotenv encrypt comments).
	Comment bool
}

// isEncrypted reports whether s has the shape sops gives every encrypted
// value: it matches `^ENC\[AES256_GCM,data:(.*),iv:(.*),tag:(.*),type:(.*)\]`
// (aes/cipher.go), tested without a backtracking regexp: the parts must come
// in order on the first line ('.' does not match a newline).
func isEncrypted(s string) bool {
	const prefix = "ENC[AES256_GCM,data:"
	if !strings.HasPrefix(s, prefix) {
		return false
	}
	rest := s[len(prefix):]
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[:i]
	}
	for _, part := range []string{",iv:", ",tag:", ",type:", "]"} {
		i := strings.Index(rest, part)
		if i < 0 {
			return false
		}
		rest = rest[i+len(part):]
	}
	return true
}

// encRules are a file's encryption settings, compiled. They decide, as
// sops.Tree.shouldBeEncrypted does, whether a leaf is encrypted.
type encRules struct {
	unencSuffix, encSuffix                         string
	unencRegex, encRegex, unencComment, encComment *regexp.Regexp
	// invalid regexes in the metadata never match (sops ignores the error)
	hasEncRegex, hasEncComment bool
}

var regexCache sync.Map // string → *regexp.Regexp (nil when invalid)

func cachedRegex(s string) *regexp.Regexp {
	if v, ok := regexCache.Load(s); ok {
		return v.(*regexp.Regexp)
	}
	re, err := regexp.Compile(s)
	if err != nil {
		re = nil
	}
	regexCache.Store(s, re)
	return re
}

func rulesOf(f *sopsfile.File) *encRules {
	r := &encRules{
		unencSuffix:   f.UnencryptedSuffix,
		encSuffix:     f.EncryptedSuffix,
		hasEncRegex:   f.EncryptedRegex != "",
		hasEncComment: f.EncryptedCommentRegex != "",
	}
	// sops fills in the default "_unencrypted" suffix when no other setting
	// is present; files written by sops carry it in their metadata.
	if f.UnencryptedRegex != "" {
		r.unencRegex = cachedRegex(f.UnencryptedRegex)
	}
	if f.EncryptedRegex != "" {
		r.encRegex = cachedRegex(f.EncryptedRegex)
	}
	if f.UnencryptedCommentRegex != "" {
		r.unencComment = cachedRegex(f.UnencryptedCommentRegex)
	}
	if f.EncryptedCommentRegex != "" {
		r.encComment = cachedRegex(f.EncryptedCommentRegex)
	}
	return r
}

func match(re *regexp.Regexp, s string) bool { return re != nil && re.MatchString(s) }

// shouldBeEncrypted mirrors sops.Tree.shouldBeEncrypted (sops v3.13.3,
// sops.go): later settings override earlier ones in this order.
func (r *encRules) shouldBeEncrypted(path []string, stack [][]string, isComment bool) bool {
	encrypted := true
	if r.unencSuffix != "" {
		for _, v := range path {
			if strings.HasSuffix(v, r.unencSuffix) {
				encrypted = false
				break
			}
		}
	}
	if r.encSuffix != "" {
		encrypted = false
		for _, v := range path {
			if strings.HasSuffix(v, r.encSuffix) {
				encrypted = true
				break
			}
		}
	}
	if r.unencRegex != nil {
		for _, p := range path {
			if match(r.unencRegex, p) {
				encrypted = false
				break
			}
		}
	}
	if r.hasEncRegex {
		encrypted = false
		for _, p := range path {
			if match(r.encRegex, p) {
				encrypted = true
				break
			}
		}
	}
	if r.unencComment != nil {
	unenc:
		for _, cs := range stack {
			for _, c := range cs {
				if match(r.unencComment, c) {
					encrypted = false
					break unenc
				}
			}
		}
	}
	if r.hasEncComment {
		encrypted = false
		last := len(stack) - 1
		lastLen := 0
		if last >= 0 {
			lastLen = len(stack[last])
		}
	enc:
		for i, cs := range stack {
			for j, c := range cs {
				// sops does not encrypt the comment line that matches itself.
				if isComment && i == last && j == lastLen-1 {
					continue
				}
				if match(r.encComment, c) {
					encrypted = true
					break enc
				}
			}
		}
	}
	return encrypted
}

// FindPlaintext returns the values of a sops YAML, JSON or dotenv file that
// sops would have encrypted but that are stored in plaintext. It applies
// the file's own settings (encrypted_regex, unencrypted_suffix, comment
// regexes…) exactly as sops walks its tree. Other formats have nothing to
// check (binary files hold one value; INI is not checked) and return nil.
func FindPlaintext(f *sopsfile.File, data []byte) ([]PlainValue, error) {
	r := rulesOf(f)
	switch f.Format {
	case sopsfile.FormatYAML:
		return yamlPlaintext(r, data)
	case sopsfile.FormatJSON:
		return jsonPlaintext(r, data)
	case sopsfile.FormatDotenv:
		return dotenvPlaintext(r, data), nil
	}
	return nil, nil
}

// ---- YAML: mirrors stores/yaml (tree building with comments) and
// sops.TreeBranch.walkBranch/walkSlice (comment stacks).

type yamlWalker struct {
	r     *encRules
	lines [][]byte
	cur   int // comment search cursor (0-based line index)
	out   []PlainValue
	// leaf, when set, is called for every value and comment sops would
	// consider for encryption instead of the plaintext check (selector
	// drift, check_selector.go).
	leaf func(path []string, stack [][]string, line int, comment bool)
}

func yamlPlaintext(r *encRules, data []byte) ([]PlainValue, error) {
	if yamlAllEncrypted(data) {
		return nil, nil
	}
	data = blankMetadata(data)
	w := &yamlWalker{r: r}
	err := w.walk(data)
	return w.out, err
}

// walk walks every document of data (metadata already blanked), calling
// w.leaf or collecting w.out. yaml.v3 errors begin "yaml: ".
func (w *yamlWalker) walk(data []byte) error {
	w.lines = bytes.Split(data, []byte("\n"))
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		// Every document is a branch of its own with a fresh comment stack.
		w.branch(&doc, false, nil, nil, true)
	}
}

// blankMetadata returns data with the body of every top-level "sops:" block
// blanked (its lines emptied, so line numbers hold): the walk skips the
// metadata anyway, and not parsing its key stanzas halves the work. The
// "sops:" line stays, so comments keep their places in the tree.
func blankMetadata(data []byte) []byte {
	var out []byte
	metadataBodies(data, func(from, to int) {
		if out == nil {
			out = append([]byte(nil), data...)
		}
		for k := from; k < to; k++ {
			out[k] = ' '
		}
	})
	if out == nil {
		return data
	}
	return out
}

// metadataBodies calls blank with the span (newline excluded) of every
// line of the body of a top-level "sops:" block, in order: the lines
// blankMetadata blanks.
func metadataBodies(data []byte, blank func(from, to int)) {
	pos := 0
	for {
		i := bytes.Index(data[pos:], []byte("\nsops:"))
		if i < 0 {
			break
		}
		start := pos + i + len("\nsops:")
		// the key must be "sops:" alone on its line (an empty value: a block)
		eol := bytes.IndexByte(data[start:], '\n')
		if eol < 0 || len(bytes.TrimRight(data[start:start+eol], " \r")) != 0 {
			pos = start
			continue
		}
		j := start + eol + 1
		for j < len(data) {
			end := bytes.IndexByte(data[j:], '\n')
			if end < 0 {
				end = len(data) - j
			}
			line := data[j : j+end]
			if len(line) > 0 && line[0] != ' ' && line[0] != '\t' && line[0] != '\r' {
				break
			}
			blank(j, j+end)
			j += end + 1
		}
		pos = j - 1
		if pos >= len(data) || pos < start {
			break
		}
	}
}

// yamlAllEncrypted is allEncryptedYAML(blankMetadata(data)) without a copy
// of data: the lines blankMetadata would blank (all spaces) pass anyway,
// so they are skipped, and the others are read in place.
func yamlAllEncrypted(data []byte) bool {
	var buf [128]int
	blanked := buf[:0] // starts of the lines blankMetadata blanks
	metadataBodies(data, func(from, _ int) { blanked = append(blanked, from) })
	// A view of data, read only while data is: nothing here keeps it.
	text := unsafe.String(unsafe.SliceData(data), len(data))
	off := 0
	for text != "" {
		line, rest, _ := strings.Cut(text, "\n")
		if len(blanked) > 0 && blanked[0] == off {
			blanked = blanked[1:]
		} else if !simpleEncryptedLine(strings.TrimRight(line, "\r")) {
			return false
		}
		off += len(line) + 1
		text = rest
	}
	return true
}

// allEncryptedYAML is the fast path of the YAML walk: it reports true when
// every line has one of the simple shapes sops writes and every value and
// comment on them is encrypted (or empty or null). Then nothing can be in
// plaintext, whatever the file's settings. Any other line (a plaintext
// value, a block scalar, flow style, quoting, anchors, a plain comment)
// answers false, and the full walk decides.
func allEncryptedYAML(data []byte) bool {
	text := string(data) // one conversion, not one per line
	for text != "" {
		line, rest, _ := strings.Cut(text, "\n")
		if !simpleEncryptedLine(strings.TrimRight(line, "\r")) {
			return false
		}
		text = rest
	}
	return true
}

func simpleEncryptedLine(l string) bool {
	if l == "sops:" || l == "---" {
		return true
	}
	l = strings.TrimLeft(l, " ")
	item := false
	for strings.HasPrefix(l, "- ") {
		l, item = strings.TrimLeft(l[2:], " "), true
	}
	if l == "" || l == "-" {
		return true
	}
	if l[0] == '#' {
		return l == "#" || isEncrypted(l[1:]) && !strings.ContainsRune(l, ' ')
	}
	key, value, hasColon := strings.Cut(l, ": ")
	if !hasColon {
		if strings.HasSuffix(l, ":") {
			key, value = l[:len(l)-1], ""
		} else if item {
			key, value = "", l
		} else {
			return false
		}
	}
	if hasColon || strings.HasSuffix(l, ":") {
		if key == "" {
			return false
		}
		for _, c := range key {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '/') {
				return false
			}
		}
	}
	value = strings.TrimLeft(value, " ")
	if v, comment, ok := strings.Cut(value, "#"); ok {
		if comment != "" && !(isEncrypted(comment) && !strings.ContainsRune(comment, ' ')) {
			return false
		}
		if v != "" && !strings.HasSuffix(v, " ") {
			return false // "#" inside a value
		}
		value = strings.TrimRight(v, " ")
	}
	switch value {
	case "", "null", "~", `""`, "''", "[]", "{}":
		return true
	}
	return isEncrypted(value) && strings.HasSuffix(value, "]") && !strings.ContainsRune(value, ' ')
}

// item of a sops tree branch or list, in tree order.
type yitem struct {
	comment string // comment text without '#', when isComment
	isCmt   bool
	line    int
	key     string
	value   *yaml.Node
	handled bool // value comments already taken by the parent
}

func (w *yamlWalker) comments(text string, near int) []yitem {
	if text == "" {
		return nil
	}
	var items []yitem
	for _, l := range strings.Split(text, "\n") {
		if l == "" {
			continue
		}
		items = append(items, yitem{isCmt: true, comment: l[1:], line: w.commentLine(l, near)})
	}
	return items
}

// commentLine finds the line of a comment: yaml.v3 does not record it. The
// search moves forward through the file, as comments come in file order.
func (w *yamlWalker) commentLine(c string, near int) int {
	needle := []byte(c)
	for _, start := range []int{w.cur, 0} {
		for i := start; i < len(w.lines); i++ {
			if bytes.Contains(w.lines[i], needle) {
				w.cur = i + 1
				return i + 1
			}
		}
	}
	return near
}

// branchItems lists a mapping's (or document's) items as sops builds them
// (stores/yaml appendYamlNodeToTreeBranch).
func (w *yamlWalker) branchItems(node *yaml.Node, handled bool, items []yitem, top bool) []yitem {
	if !handled {
		items = append(items, w.comments(node.HeadComment, node.Line)...)
		items = append(items, w.comments(node.LineComment, node.Line)...)
	}
	switch node.Kind {
	case yaml.DocumentNode:
		for _, c := range node.Content {
			items = w.branchItems(c, false, items, top)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			items = append(items, w.comments(k.HeadComment, k.Line)...)
			items = append(items, w.comments(k.LineComment, k.Line)...)
			hv := v.Kind == yaml.ScalarNode || v.Kind == yaml.AliasNode
			if hv {
				items = append(items, w.comments(v.HeadComment, v.Line)...)
				items = append(items, w.comments(v.LineComment, v.Line)...)
			}
			// The metadata is taken out of every document before the walk.
			if !(top && k.Value == "sops") {
				items = append(items, yitem{key: k.Value, value: v, line: k.Line, handled: hv})
			}
			if hv {
				items = append(items, w.comments(v.FootComment, v.Line)...)
			}
			items = append(items, w.comments(k.FootComment, k.Line)...)
		}
	case yaml.AliasNode:
		if node.Alias != nil {
			items = w.branchItems(node.Alias, false, items, false)
		}
	}
	if !handled {
		items = append(items, w.comments(node.FootComment, node.Line)...)
	}
	return items
}

// branch walks a mapping as sops.TreeBranch.walkBranch does.
func (w *yamlWalker) branch(node *yaml.Node, handled bool, path []string, stack [][]string, top bool) {
	w.walkItems(w.branchItems(node, handled, nil, top && node.Kind == yaml.DocumentNode), true, path, stack)
}

// sequence walks a list as sops.TreeBranch.walkSlice does.
func (w *yamlWalker) sequence(node *yaml.Node, handled bool, path []string, stack [][]string) {
	var items []yitem
	if !handled {
		items = append(items, w.comments(node.HeadComment, node.Line)...)
		items = append(items, w.comments(node.LineComment, node.Line)...)
	}
	for _, c := range node.Content {
		items = append(items, w.comments(c.HeadComment, c.Line)...)
		items = append(items, w.comments(c.LineComment, c.Line)...)
		items = append(items, yitem{value: c, line: c.Line, handled: true})
		items = append(items, w.comments(c.FootComment, c.Line)...)
	}
	if !handled {
		items = append(items, w.comments(node.FootComment, node.Line)...)
	}
	w.walkItems(items, false, path, stack)
}

// walkItems walks the items of a mapping (keyed: each value's path adds its
// key) or a list (items share the list's path) with a new level of comment
// stack, as walkBranch and walkSlice do: comments pile up on the level and
// apply to the next value, which clears them.
func (w *yamlWalker) walkItems(items []yitem, keyed bool, path []string, stack [][]string) {
	stack = append(stack, nil)
	for _, it := range items {
		if it.isCmt {
			stack[len(stack)-1] = append(stack[len(stack)-1], it.comment)
			w.leafComment(it, path, stack)
			continue
		}
		p := path
		if keyed {
			p = append(path[:len(path):len(path)], it.key)
		}
		w.value(it.value, it.handled, p, stack, it.line)
		stack[len(stack)-1] = nil
	}
}

func (w *yamlWalker) value(v *yaml.Node, handled bool, path []string, stack [][]string, line int) {
	switch v.Kind {
	case yaml.MappingNode:
		w.branch(v, handled, path, stack, false)
	case yaml.SequenceNode:
		w.sequence(v, handled, path, stack)
	case yaml.AliasNode:
		if v.Alias != nil {
			w.value(v.Alias, false, path, stack, line)
		}
	case yaml.ScalarNode:
		if w.leaf != nil {
			if v.ShortTag() != "!!null" {
				w.leaf(path, stack, v.Line, false)
			}
			return
		}
		if !w.r.shouldBeEncrypted(path, stack, false) {
			return
		}
		switch v.ShortTag() {
		case "!!null":
			return // sops leaves nil alone
		case "!!str":
			if v.Value == "" || isEncrypted(v.Value) {
				return
			}
		}
		w.out = append(w.out, PlainValue{Path: clonePath(path), Line: v.Line})
	}
}

func (w *yamlWalker) leafComment(it yitem, path []string, stack [][]string) {
	if w.leaf != nil {
		if it.comment != "" {
			w.leaf(path, stack, it.line, true)
		}
		return
	}
	if it.comment == "" || !w.r.shouldBeEncrypted(path, stack, true) {
		return
	}
	if isEncrypted(it.comment) {
		return
	}
	w.out = append(w.out, PlainValue{Path: clonePath(path), Line: it.line, Comment: true})
}

func clonePath(p []string) []string { return append([]string(nil), p...) }

// ---- JSON: mirrors stores/json (no comments).

type jsonWalker struct {
	r     *encRules
	dec   *json.Decoder
	nl    []int // offsets of newlines
	out   []PlainValue
	depth int
	leaf  func(path []string, line int) // as yamlWalker.leaf
}

func jsonPlaintext(r *encRules, data []byte) ([]PlainValue, error) {
	if allEncryptedJSON(data) {
		return nil, nil
	}
	w := &jsonWalker{r: r}
	err := w.walk(data)
	return w.out, err
}

// walk walks the top-level object of data, calling w.leaf or collecting
// w.out; its errors begin "json: ".
func (w *jsonWalker) walk(data []byte) error {
	w.dec = json.NewDecoder(bytes.NewReader(data))
	w.dec.UseNumber()
	for i, b := range data {
		if b == '\n' {
			w.nl = append(w.nl, i)
		}
	}
	tok, err := w.dec.Token()
	if err != nil {
		return fmt.Errorf("json: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("json: the document is not an object")
	}
	if err := w.object(nil, true); err != nil {
		return fmt.Errorf("json: %w", err)
	}
	return nil
}

// allEncryptedJSON is the fast path of the JSON walk: true when every value
// outside the top-level "sops" object is an encrypted string, an empty
// string or null (so nothing can be in plaintext, whatever the settings).
// Anything else — numbers, booleans, plaintext strings, bad syntax — answers
// false and the full walk decides.
func allEncryptedJSON(data []byte) bool {
	depth := 0
	for i := 0; i < len(data); {
		switch c := data[i]; c {
		case ' ', '\t', '\n', '\r', ',', ':':
			i++
		case '{', '[':
			depth++
			i++
		case '}', ']':
			depth--
			i++
		case '"':
			str, j, ok := jsonString(data, i)
			if !ok {
				return false
			}
			k := j
			for k < len(data) && (data[k] == ' ' || data[k] == '\t' || data[k] == '\n' || data[k] == '\r') {
				k++
			}
			if k < len(data) && data[k] == ':' {
				if depth == 1 && string(str) == "sops" {
					end, ok := skipJSONValue(data, k+1)
					if !ok {
						return false
					}
					i = end
					continue
				}
				i = k + 1
				continue
			}
			if len(str) > 0 && (!isEncrypted(string(str)) || bytes.IndexByte(str, '\\') >= 0) {
				return false
			}
			i = j
		case 'n':
			if !bytes.HasPrefix(data[i:], []byte("null")) {
				return false
			}
			i += 4
		default:
			return false
		}
	}
	return depth == 0
}

// jsonString returns the raw content of the string starting at data[i]
// (a '"') and the index after its closing quote.
func jsonString(data []byte, i int) ([]byte, int, bool) {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return data[i+1 : j], j + 1, true
		}
	}
	return nil, 0, false
}

// skipJSONValue returns the index after the value starting at or after i.
func skipJSONValue(data []byte, i int) (int, bool) {
	depth := 0
	for i < len(data) {
		switch data[i] {
		case '"':
			_, j, ok := jsonString(data, i)
			if !ok {
				return 0, false
			}
			i = j
			if depth == 0 {
				return i, true
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, true
			}
			if depth < 0 {
				return 0, false
			}
		case ',':
			if depth == 0 {
				return i, true
			}
		}
		i++
	}
	return 0, false
}

func (w *jsonWalker) line() int {
	off := int(w.dec.InputOffset())
	return sort.SearchInts(w.nl, off) + 1
}

// object walks the members of an object whose '{' was read.
func (w *jsonWalker) object(path []string, top bool) error {
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("line %d: object key is not a string", w.line())
		}
		if top && key == "sops" {
			if err := w.skip(); err != nil {
				return err
			}
			continue
		}
		if err := w.value(append(path[:len(path):len(path)], key)); err != nil {
			return err
		}
	}
	_, err := w.dec.Token() // '}'
	return err
}

func (w *jsonWalker) value(path []string) error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return w.object(path, false)
		case '[':
			for w.dec.More() {
				if err := w.value(path); err != nil {
					return err
				}
			}
			_, err := w.dec.Token() // ']'
			return err
		}
		return fmt.Errorf("line %d: unexpected %q", w.line(), t)
	case nil:
		return nil
	}
	if w.leaf != nil {
		w.leaf(path, w.line())
		return nil
	}
	switch t := tok.(type) {
	case string:
		if t == "" || isEncrypted(t) {
			return nil
		}
	}
	if w.r.shouldBeEncrypted(path, nil, false) {
		w.out = append(w.out, PlainValue{Path: clonePath(path), Line: w.line()})
	}
	return nil
}

func (w *jsonWalker) skip() error {
	var v json.RawMessage
	return w.dec.Decode(&v)
}

// ---- dotenv: mirrors stores/dotenv (KEY=VALUE lines, '#' comments; keys
// starting with "sops_" are metadata).

func dotenvPlaintext(r *encRules, data []byte) []PlainValue {
	var out []PlainValue
	walkDotenv(data, func(path []string, stack [][]string, line int, comment bool, val string) {
		if val != "" && r.shouldBeEncrypted(path, stack, comment) && !isEncrypted(val) {
			out = append(out, PlainValue{Path: path, Line: line, Comment: comment})
		}
	})
	return out
}

// walkDotenv calls leaf for every non-empty comment (path nil, val the
// comment) and every KEY=VALUE line outside the metadata, with the comment
// stack sops gives it.
func walkDotenv(data []byte, leaf func(path []string, stack [][]string, line int, comment bool, val string)) {
	stack := [][]string{nil}
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if line[0] == '#' {
			c := string(line[1:])
			stack[0] = append(stack[0], c)
			if c != "" {
				leaf(nil, stack, i+1, true, c)
			}
			continue
		}
		key, val, ok := bytes.Cut(line, []byte("="))
		if !ok || bytes.HasPrefix(key, []byte("sops_")) {
			continue
		}
		leaf([]string{string(key)}, stack, i+1, false, string(val))
		stack[0] = nil
	}
}
