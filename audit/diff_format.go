package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

func labels(rs []Recipient) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Label()
	}
	return out
}

func nPlural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// headline is the per-recipient summary line ("newhost gains 12 files").
func (a RecipientAccess) headline() string {
	var parts []string
	if n := len(a.Gains); n > 0 {
		parts = append(parts, "gains "+nPlural(n, "file", "files"))
	}
	if n := len(a.Loses); n > 0 {
		s := "loses " + nPlural(n, "file", "files")
		if k := len(a.LosesKept); k > 0 {
			s += fmt.Sprintf(" (%d without rotation: it keeps their data key)", k)
		}
		parts = append(parts, s)
	}
	if n := len(a.NewFiles); n > 0 {
		parts = append(parts, "reads "+nPlural(n, "new file", "new files"))
	}
	return a.Recipient.Label() + " " + strings.Join(parts, ", ")
}

// details are the lines describing one file's change, without the path.
func (fd FileDiff) details() []string {
	same := func(s string) string { return s }
	return fd.detailsWith(same, same)
}

// detailsWith is details with value names written by name and every other
// text (labels, messages) by esc.
func (fd FileDiff) detailsWith(name, esc func(string) string) []string {
	names := func(ns []string) string {
		out := make([]string, len(ns))
		for i, n := range ns {
			out[i] = name(n)
		}
		return strings.Join(out, ", ")
	}
	var out []string
	if fd.Problem != "" {
		return []string{esc("cannot read: " + fd.Problem)}
	}
	switch fd.Status {
	case "added":
		out = append(out, esc("readable by "+strings.Join(labels(fd.Readers), ", ")))
		if fd.NewThreshold > 0 {
			out = append(out, fmt.Sprintf("threshold %d", fd.NewThreshold))
		}
		return out
	case "deleted":
		return nil
	case "decrypted":
		return []string{"no longer sops-encrypted: its values may now be in plaintext"}
	}
	for _, g := range fd.Groups {
		var rs []string
		for _, r := range g.Added {
			rs = append(rs, "+"+r.Label())
		}
		for _, r := range g.Removed {
			rs = append(rs, "−"+r.Label())
		}
		out = append(out, fmt.Sprintf("group %d: %s", g.Group+1, esc(strings.Join(rs, " "))))
	}
	if fd.OldThreshold != fd.NewThreshold {
		out = append(out, fmt.Sprintf("threshold: %d → %d", fd.OldThreshold, fd.NewThreshold))
	}
	if fd.DataKey == "rotated" {
		out = append(out, "data key rotated: every value re-encrypted")
	} else if len(fd.Groups) > 0 {
		out = append(out, "data key kept (not rotated)")
	}
	if len(fd.Changed) > 0 {
		out = append(out, "changed: "+names(fd.Changed))
	}
	if len(fd.Added) > 0 {
		out = append(out, "added: "+names(fd.Added))
	}
	if len(fd.Removed) > 0 {
		out = append(out, "removed: "+names(fd.Removed))
	}
	if len(out) == 0 {
		out = append(out, "no change of recipients or values")
	}
	return out
}

func (fd FileDiff) title() string {
	if fd.OldPath != "" {
		return fmt.Sprintf("%s → %s: %s", fd.OldPath, fd.Path, fd.Status)
	}
	return fd.Path + ": " + fd.Status
}

func (rd RuleDiff) title() string {
	re := rd.Regex
	if re == "" {
		re = "every file"
	}
	return fmt.Sprintf("rule %d (%s)", rd.Rule, re)
}

func (rd RuleDiff) details() string {
	var rs []string
	for _, r := range rd.Gained {
		rs = append(rs, "+"+r.Label())
	}
	for _, r := range rd.Lost {
		rs = append(rs, "−"+r.Label())
	}
	s := rd.Status
	if len(rs) > 0 {
		s += ": " + strings.Join(rs, " ")
	}
	if rd.Status == "changed" && rd.OldThreshold != rd.NewThreshold {
		s += fmt.Sprintf(", threshold %d → %d", rd.OldThreshold, rd.NewThreshold)
	} else if rd.Status == "changed" && len(rs) == 0 {
		s += ": key groups rearranged"
	}
	return s
}

func (d Drift) details() string {
	var rs []string
	for _, r := range d.Missing {
		rs = append(rs, "+"+r.Label())
	}
	for _, r := range d.Extra {
		rs = append(rs, "−"+r.Label())
	}
	return "not updated, wants " + strings.Join(rs, " ")
}

func (d *DiffResult) summary() string {
	if d.Empty() {
		return "no sops file or .sops.yaml changed"
	}
	return fmt.Sprintf("%s, %s changed", nPlural(len(d.Files), "sops file", "sops files"),
		nPlural(len(d.Configs), ".sops.yaml", ".sops.yaml files"))
}

func (d *DiffResult) headLabel() string {
	if d.Head == "" {
		return "the work tree"
	}
	return short(d.Head)
}

// WriteDiffText writes the review as plain text.
func WriteDiffText(w io.Writer, d *DiffResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s → %s (%s): %s\n", short(d.Base), d.headLabel(), d.Label, d.summary())
	if len(d.Access) > 0 {
		b.WriteString("\naccess:\n")
		for _, a := range d.Access {
			fmt.Fprintf(&b, "  %s\n", a.headline())
			for _, p := range a.Gains {
				fmt.Fprintf(&b, "    + %s\n", p)
			}
			for _, p := range a.Loses {
				fmt.Fprintf(&b, "    − %s\n", p)
			}
			for _, p := range a.NewFiles {
				fmt.Fprintf(&b, "    new %s\n", p)
			}
		}
	}
	if len(d.Files) > 0 {
		b.WriteString("\nfiles:\n")
		for _, fd := range d.Files {
			fmt.Fprintf(&b, "  %s\n", fd.title())
			for _, l := range fd.details() {
				fmt.Fprintf(&b, "    %s\n", l)
			}
		}
	}
	for _, c := range d.Configs {
		fmt.Fprintf(&b, "\n%s: %s\n", c.Path, c.Status)
		if c.Problem != "" {
			fmt.Fprintf(&b, "  cannot read: %s\n", c.Problem)
		}
		for _, r := range c.Rules {
			fmt.Fprintf(&b, "  %s: %s\n", r.title(), r.details())
		}
		for _, dr := range c.Drift {
			fmt.Fprintf(&b, "  %s: %s\n", dr.Path, dr.details())
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteDiffMarkdown writes the review as Markdown, ready to post as a
// pull-request comment.
func WriteDiffMarkdown(w io.Writer, d *DiffResult) error {
	var b strings.Builder
	b.WriteString("### sopsfleet diff\n\n")
	fmt.Fprintf(&b, "`%s` → `%s` (`%s`): %s.\n", short(d.Base), d.headLabel(), d.Label, d.summary())
	if len(d.Access) > 0 {
		b.WriteString("\n#### Access\n\n")
		for _, a := range d.Access {
			fmt.Fprintf(&b, "- **%s** %s\n", mdText(a.Recipient.Label()), strings.TrimPrefix(a.headline(), a.Recipient.Label()+" "))
			for _, p := range a.Gains {
				fmt.Fprintf(&b, "  - gains `%s`\n", p)
			}
			for _, p := range a.Loses {
				fmt.Fprintf(&b, "  - loses `%s`\n", p)
			}
			for _, p := range a.NewFiles {
				fmt.Fprintf(&b, "  - reads new `%s`\n", p)
			}
		}
	}
	if len(d.Files) > 0 {
		b.WriteString("\n#### Files\n\n")
		for _, fd := range d.Files {
			title := "`" + fd.Path + "`: " + fd.Status
			if fd.OldPath != "" {
				title = "`" + fd.OldPath + "` → `" + fd.Path + "`: " + fd.Status
			}
			fmt.Fprintf(&b, "- %s\n", title)
			for _, l := range fd.detailsWith(mdCode, mdEscape) {
				fmt.Fprintf(&b, "  - %s\n", l)
			}
		}
	}
	for _, c := range d.Configs {
		fmt.Fprintf(&b, "\n#### `%s`: %s\n\n", c.Path, c.Status)
		if c.Problem != "" {
			fmt.Fprintf(&b, "- cannot read: %s\n", mdText(c.Problem))
		}
		for _, r := range c.Rules {
			re := "every file"
			if r.Regex != "" {
				re = "`" + strings.ReplaceAll(r.Regex, "`", "'") + "`"
			}
			fmt.Fprintf(&b, "- rule %d (%s): %s\n", r.Rule, re, mdText(r.details()))
		}
		for _, dr := range c.Drift {
			fmt.Fprintf(&b, "- `%s`: %s\n", dr.Path, mdText(dr.details()))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

var mdReplacer = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;", "|", `\|`)

func mdText(s string) string { return mdReplacer.Replace(s) }

// mdCode writes s as a code span (names of values, which may hold any
// character Markdown would interpret).
func mdCode(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// WriteDiffJSON writes the review as indented JSON.
func WriteDiffJSON(w io.Writer, d *DiffResult) error {
	out := *d
	if out.Access == nil {
		out.Access = []RecipientAccess{}
	}
	if out.Files == nil {
		out.Files = []FileDiff{}
	}
	if out.Configs == nil {
		out.Configs = []ConfigDiff{}
	}
	for i := range out.Access {
		a := &out.Access[i]
		for _, l := range []*[]string{&a.Gains, &a.Loses, &a.LosesKept, &a.NewFiles} {
			if *l == nil {
				*l = []string{}
			}
		}
	}
	for i := range out.Configs {
		if out.Configs[i].Rules == nil {
			out.Configs[i].Rules = []RuleDiff{}
		}
		if out.Configs[i].Drift == nil {
			out.Configs[i].Drift = []Drift{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// WriteDiffGitHub writes the review as GitHub Actions workflow commands: a
// notice per changed file, a warning per file a recipient gains, per file
// no longer encrypted and per file left behind by a .sops.yaml change.
func WriteDiffGitHub(w io.Writer, d *DiffResult) error {
	var b strings.Builder
	gains := map[string][]string{}
	for _, a := range d.Access {
		for _, p := range a.Gains {
			gains[p] = append(gains[p], a.Recipient.Label())
		}
	}
	for _, fd := range d.Files {
		level := "notice"
		if fd.Status == "decrypted" || len(gains[fd.Path]) > 0 || fd.Problem != "" {
			level = "warning"
		}
		msg := fd.Status
		if ds := fd.details(); len(ds) > 0 {
			msg += ": " + strings.Join(ds, "; ")
		}
		if g := gains[fd.Path]; len(g) > 0 {
			msg = "gains access: " + strings.Join(g, ", ") + "; " + msg
		}
		fmt.Fprintf(&b, "::%s file=%s,title=sopsfleet diff::%s\n", level, ghProperty(fd.Path), ghData(msg))
	}
	for _, c := range d.Configs {
		for _, r := range c.Rules {
			fmt.Fprintf(&b, "::notice file=%s,title=sopsfleet diff::%s\n", ghProperty(c.Path), ghData(r.title()+": "+r.details()))
		}
		for _, dr := range c.Drift {
			fmt.Fprintf(&b, "::warning file=%s,title=sopsfleet diff::%s\n", ghProperty(dr.Path), ghData(dr.details()))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
