package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
)

// ManPages renders one man page (section 1) per command, as a map from file
// name ("sopsfleet-recipients-add.1") to roff source. Every page is dated
// date (month and year, in UTC) and names source (e.g. "sopsfleet v1.2.0")
// in its footer; nothing else varies, so the same date and source give the
// same bytes. The pages cover the commands of the Markdown reference
// ([GenerateReference]), including completion.
func ManPages(date time.Time, source string) (map[string][]byte, error) {
	root := docRoot()
	date = date.UTC()
	out := map[string][]byte{}
	for _, c := range documentedCommands(root) {
		header := &doc.GenManHeader{
			Section: "1",
			Date:    &date,
			Source:  source,
			Manual:  "sopsfleet manual",
		}
		var buf bytes.Buffer
		if err := doc.GenMan(c, header, &buf); err != nil {
			return nil, fmt.Errorf("man page of %q: %w", c.CommandPath(), err)
		}
		out[strings.ReplaceAll(c.CommandPath(), " ", "-")+".1"] = buf.Bytes()
	}
	return out, nil
}

// Completions renders the shell completion scripts for bash, zsh and fish,
// as a map from file name to script: "sopsfleet.bash" (bash-completion
// loads it when installed as "sopsfleet"), "_sopsfleet" (a file in zsh's
// $fpath) and "sopsfleet.fish" (fish's completions folder). They are the
// scripts "sopsfleet completion bash|zsh|fish" prints, with descriptions.
func Completions() (map[string][]byte, error) {
	root := docRoot()
	gens := []struct {
		name string
		gen  func(*bytes.Buffer) error
	}{
		{"sopsfleet.bash", func(b *bytes.Buffer) error { return root.GenBashCompletionV2(b, true) }},
		{"_sopsfleet", func(b *bytes.Buffer) error { return root.GenZshCompletion(b) }},
		{"sopsfleet.fish", func(b *bytes.Buffer) error { return root.GenFishCompletion(b, true) }},
	}
	out := map[string][]byte{}
	for _, g := range gens {
		var buf bytes.Buffer
		if err := g.gen(&buf); err != nil {
			return nil, fmt.Errorf("completion %s: %w", g.name, err)
		}
		out[g.name] = buf.Bytes()
	}
	return out, nil
}

// WriteReleaseFiles writes the files a release archive carries beside the
// binary: the man pages of [ManPages] into dir/man and the scripts of
// [Completions] into dir/completions. Man pages of commands that no longer
// exist are removed; other files in dir are left alone. Everything is
// rendered before the first write, so a rendering error changes nothing.
func WriteReleaseFiles(dir string, date time.Time, source string) error {
	pages, err := ManPages(date, source)
	if err != nil {
		return err
	}
	comps, err := Completions()
	if err != nil {
		return err
	}
	manDir := filepath.Join(dir, "man")
	if err := writeSet(manDir, pages); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(manDir, "sopsfleet*.1"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if _, keep := pages[filepath.Base(f)]; !keep {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	return writeSet(filepath.Join(dir, "completions"), comps)
}

// writeSet writes files (name → content) into dir, creating it, in name
// order so that errors are reproducible.
func writeSet(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := atomicfile.WriteFile(filepath.Join(dir, n), files[n], atomicfile.Options{Perm: 0o644}); err != nil {
			return err
		}
	}
	return nil
}

// docRoot builds the command tree as the documentation sees it: no
// terminal, an empty environment, the completion command present and no
// "auto generated" footer.
func docRoot() *cobra.Command {
	ios, _, _ := TestIO("")
	root := newRootCmd(ios)
	root.DisableAutoGenTag = true
	root.InitDefaultCompletionCmd()
	return root
}

// documentedCommands lists root and every available command below it,
// depth first in cobra's order, as [GenerateReference] walks them.
func documentedCommands(root *cobra.Command) []*cobra.Command {
	var cmds []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c != root && (!c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand()) {
			return
		}
		c.DisableAutoGenTag = true
		cmds = append(cmds, c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return cmds
}
