package cli

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// GenerateReference renders the Markdown command reference, one file per
// command, as a map from file name to content. The output is deterministic
// (no dates) so that a test can tell when docs/reference is stale.
func GenerateReference() (map[string][]byte, error) {
	ios, _, _ := TestIO("")
	root := newRootCmd(ios)
	root.DisableAutoGenTag = true
	root.InitDefaultCompletionCmd()
	out := map[string][]byte{}
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		if !c.IsAvailableCommand() && c != root {
			return nil
		}
		c.DisableAutoGenTag = true
		var buf bytes.Buffer
		if err := doc.GenMarkdownCustom(c, &buf, func(name string) string { return name }); err != nil {
			return err
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
		out[name] = buf.Bytes()
		for _, sub := range c.Commands() {
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return nil, err
	}
	return out, nil
}

// WriteReference replaces the Markdown files in dir with a fresh reference.
func WriteReference(dir string) error {
	files, err := GenerateReference()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "sopsfleet*.md"))
	for _, f := range old {
		if _, keep := files[filepath.Base(f)]; !keep {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	return writeSet(dir, files)
}

// StaleReference lists the differences between dir and a fresh reference.
func StaleReference(dir string) ([]string, error) {
	files, err := GenerateReference()
	if err != nil {
		return nil, err
	}
	var stale []string
	for n, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			stale = append(stale, fmt.Sprintf("%s: missing", n))
			continue
		}
		if !bytes.Equal(got, want) {
			stale = append(stale, fmt.Sprintf("%s: out of date", n))
		}
	}
	err = fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(p, "sopsfleet") && strings.HasSuffix(p, ".md") {
			if _, ok := files[p]; !ok {
				stale = append(stale, fmt.Sprintf("%s: no such command any more", p))
			}
		}
		return nil
	})
	sort.Strings(stale)
	return stale, err
}
