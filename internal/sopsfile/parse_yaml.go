package sopsfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlBlock is the text of one document's top-level "sops:" entry, found by
// a line scan: sops writes it as a block mapping key at column 0.
type yamlBlock struct {
	doc        int // document index
	start, end int // byte offsets of the block: from "sops:" to the end of its last line
	line       int // 1-based line of "sops:"
}

// scanYAML finds, by lines, the documents of a YAML stream and the top-level
// "sops:" entry of each. It does not parse: it relies on sops (yaml.v3)
// writing top-level keys at column 0 and everything nested indented.
func scanYAML(data []byte) (blocks []yamlBlock, docs int) {
	// doc counts the documents closed so far; open is set while a document
	// is open (begun by "---" or by content), as yaml.v3 counts them.
	doc, open := 0, false
	in := -1 // index into blocks of the open block
	line := 0
	for off := 0; off < len(data); {
		line++
		nl := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if nl >= 0 {
			next = off + nl + 1
		}
		l := data[off:next]
		var c byte
		if len(l) > 0 {
			c = l[0]
		}
		if in >= 0 && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '#' && c != 0 {
			in = -1
		}
		switch {
		case in >= 0:
			blocks[in].end = next
		case c == '-' && docMarker(l, "---"):
			if open {
				doc++
			}
			open = true
		case c == '.' && docMarker(l, "..."):
			if open {
				doc++
			}
			open = false
		case c == 's' && bytes.HasPrefix(l, []byte("sops:")) && (len(l) == 5 || isSpace(l[5])):
			blocks = append(blocks, yamlBlock{doc: doc, start: off, end: next, line: line})
			in = len(blocks) - 1
			open = true
		case c == '#' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0:
			if len(bytes.TrimSpace(l)) > 0 && c != '#' {
				open = true
			}
		case c == '%' && !open:
		default:
			open = true
		}
		off = next
	}
	if open {
		doc++
	}
	return blocks, max(doc, 1)
}

func docMarker(l []byte, m string) bool {
	return bytes.HasPrefix(l, []byte(m)) && (len(l) == 3 || isSpace(l[3]))
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func parseYAML(f *File, data []byte, s *parseScratch) (*mnode, error) {
	blocks, docs := scanYAML(data)
	f.Documents = docs
	if len(blocks) > 0 && blocks[0].doc == 0 {
		b := blocks[0]
		if n, ok := parseYAMLBlockFastIn(data[b.start:b.end], b.line-1, &s.a); ok {
			f.MetadataLine = b.line
			return n, nil
		}
		n, err := parseYAMLBlock(data[b.start:b.end], b.line-1)
		if err == nil {
			f.MetadataLine = b.line
			return n, nil
		}
		// Not what the line scan expected: fall through to a full parse,
		// which gives the accurate error.
	}
	if !bytes.Contains(data, []byte("sops")) {
		return nil, nil
	}
	return parseYAMLFull(f, data)
}

// parseYAMLBlock parses the text of a "sops:" block; lines are shifted by
// offset so they are the file's.
func parseYAMLBlock(block []byte, offset int) (*mnode, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(block, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errors.New("unexpected sops block")
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode || len(m.Content) != 2 || m.Content[0].Value != "sops" {
		return nil, errors.New("unexpected sops block")
	}
	return yamlToTree(m.Content[1], offset, 0), nil
}

// parseYAMLFull decodes the documents with yaml.v3 and reads the first
// document's "sops" key, as sops does.
func parseYAMLFull(f *File, data []byte) (*mnode, error) {
	d := yaml.NewDecoder(bytes.NewReader(data))
	var root *mnode
	docs := 0
	for {
		var doc yaml.Node
		err := d.Decode(&doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			if docs == 0 {
				return nil, fmt.Errorf("invalid YAML: %w", err)
			}
			return nil, fmt.Errorf("invalid YAML in document %d: %w", docs+1, err)
		}
		if docs == 0 && len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
			m := doc.Content[0]
			for i := 0; i+1 < len(m.Content); i += 2 {
				if m.Content[i].Value == "sops" {
					if root != nil {
						return nil, fmt.Errorf("line %d: duplicate sops entry", m.Content[i].Line)
					}
					root = yamlToTree(m.Content[i+1], 0, 0)
					f.MetadataLine = m.Content[i].Line
				}
			}
		}
		docs++
	}
	if docs > 0 {
		f.Documents = docs
	}
	return root, nil
}

func yamlToTree(n *yaml.Node, offset, depth int) *mnode {
	for n.Kind == yaml.AliasNode && n.Alias != nil && depth < 64 {
		n = n.Alias
		depth++
	}
	out := &mnode{line: n.Line + offset}
	out.end = out.line
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			out.kind = kindNull
		} else {
			out.kind = kindScalar
			out.value = n.Value
			if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 && n.Value != "" {
				// The indicator's line, then one line per content line.
				out.end += strings.Count(n.Value, "\n")
				if !strings.HasSuffix(n.Value, "\n") {
					out.end++
				}
			}
		}
	case yaml.MappingNode:
		out.kind = kindMap
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" && k.Tag == "!!merge" {
				continue
			}
			c := yamlToTree(v, offset, depth+1)
			out.keys = append(out.keys, k.Value)
			out.kline = append(out.kline, k.Line+offset)
			out.items = append(out.items, c)
			if c.end > out.end {
				out.end = c.end
			}
		}
		if len(out.kline) > 0 {
			out.line = out.kline[0]
		}
	case yaml.SequenceNode:
		out.kind = kindList
		for _, v := range n.Content {
			c := yamlToTree(v, offset, depth+1)
			out.items = append(out.items, c)
			if c.end > out.end {
				out.end = c.end
			}
		}
	}
	return out
}
