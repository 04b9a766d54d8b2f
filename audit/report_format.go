package audit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Matrix returns the access matrix as text cells: a header row and one row
// per file. With numbered, recipient columns are headed 1, 2, … (see
// ColumnKey) so that many recipients fit. Columns with no mark are left out.
func (r *Report) Matrix(numbered bool) (header []string, rows [][]string) {
	cols := r.Columns()
	shamir := r.HasShamir()
	header = append(header, "FILE")
	if r.Configs != nil {
		header = append(header, "CONFIG")
	}
	for n, c := range cols {
		if numbered {
			header = append(header, strconv.Itoa(n+1))
		} else {
			header = append(header, r.Recipients[c].Label)
		}
	}
	if shamir {
		header = append(header, "GROUPS")
	}
	for _, f := range r.Files {
		row := []string{f.Path}
		if r.Configs != nil {
			row = append(row, cmp.Or(f.Config, "-"))
		}
		for _, c := range cols {
			cell := ""
			if f.Err == "" && c < len(f.Marks) {
				cell = CellText(f.Marks[c], f.Groups)
			}
			row = append(row, cell)
		}
		if shamir {
			row = append(row, f.GroupsText())
		}
		if f.Err != "" {
			row[0] += " (unreadable)"
		}
		rows = append(rows, row)
	}
	return header, rows
}

// Transposed returns the access matrix pivoted, for many recipients and
// few files: a row per recipient (those with a mark), a column per file,
// headed 1, 2, … (see FileKey), and a GROUPS row when a file has Shamir
// key groups.
func (r *Report) Transposed() (header []string, rows [][]string) {
	header = append(header, "RECIPIENT")
	for n := range r.Files {
		header = append(header, strconv.Itoa(n+1))
	}
	for _, c := range r.Columns() {
		row := []string{r.Recipients[c].Label}
		for _, f := range r.Files {
			cell := ""
			if f.Err == "" && c < len(f.Marks) {
				cell = CellText(f.Marks[c], f.Groups)
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	if r.HasShamir() {
		row := []string{"GROUPS"}
		for _, f := range r.Files {
			row = append(row, f.GroupsText())
		}
		rows = append(rows, row)
	}
	return header, rows
}

// FileKey lists "N  path" for the columns of the transposed matrix.
func (r *Report) FileKey() []string {
	out := make([]string, len(r.Files))
	for n, f := range r.Files {
		out[n] = fmt.Sprintf("%d  %s", n+1, f.Path)
		if f.Config != "" {
			out[n] += " (" + f.Config + ")"
		}
		if f.Err != "" {
			out[n] += " (unreadable)"
		}
	}
	return out
}

// ColumnKey lists "N  label  key" for numbered matrix columns.
func (r *Report) ColumnKey() []string {
	var out []string
	for n, c := range r.Columns() {
		rc := r.Recipients[c]
		line := fmt.Sprintf("%d  %s", n+1, rc.Label)
		if rc.Label != rc.Key.ID {
			line += "  " + rc.Key.String()
		}
		out = append(out, line)
	}
	return out
}

// Unreadable lists "path: error" for files whose metadata could not be read.
func (r *Report) Unreadable() []string {
	var out []string
	for _, f := range r.Files {
		if f.Err != "" {
			out = append(out, f.Path+": "+f.Err)
		}
	}
	return out
}

// TextWidth is the display width of s in a terminal (one column per rune:
// the marks used are all narrow).
func TextWidth(s string) int { return utf8.RuneCountInString(s) }

// AlignRows renders rows as columns separated by two spaces, padded to the
// widest cell; trailing spaces are trimmed.
func AlignRows(rows [][]string) string {
	var widths []int
	for _, row := range rows {
		for i, c := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], TextWidth(c))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		var line strings.Builder
		for i, c := range row {
			if i > 0 {
				line.WriteString("  ")
			}
			line.WriteString(c)
			if i < len(row)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-TextWidth(c)))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// MatrixWidth is the width of the plain matrix.
func MatrixWidth(header []string, rows [][]string) int {
	all := append([][]string{header}, rows...)
	widths := map[int]int{}
	for _, row := range all {
		for i, c := range row {
			widths[i] = max(widths[i], TextWidth(c))
		}
	}
	w := 0
	for _, v := range widths {
		w += v + 2
	}
	return w
}

// Layout is how the access matrix is laid out.
type Layout int

// The layouts, from the widest to the narrowest.
const (
	// LayoutNamed: a row per file, a column per recipient, by name.
	LayoutNamed Layout = iota
	// LayoutNumbered: columns numbered, with a key below naming them.
	LayoutNumbered
	// LayoutTransposed: a row per recipient, a column per file, numbered.
	LayoutTransposed
)

// Table returns the matrix cells in layout, and the key that names
// numbered columns (nil for LayoutNamed).
func (r *Report) Table(layout Layout) (header []string, rows [][]string, key []string) {
	switch layout {
	case LayoutTransposed:
		header, rows = r.Transposed()
		return header, rows, r.FileKey()
	case LayoutNumbered:
		header, rows = r.Matrix(true)
		return header, rows, r.ColumnKey()
	}
	header, rows = r.Matrix(false)
	return header, rows, nil
}

// WriteReportText writes the matrix as plain aligned text with its legend;
// numbered: LayoutNumbered, else LayoutNamed.
func WriteReportText(w io.Writer, r *Report, numbered bool) error {
	if numbered {
		return WriteReportLayout(w, r, LayoutNumbered)
	}
	return WriteReportLayout(w, r, LayoutNamed)
}

// WriteReportLayout writes the matrix in layout as plain aligned text, with
// the key of its numbered columns and the legend.
func WriteReportLayout(w io.Writer, r *Report, layout Layout) error {
	if len(r.Files) == 0 {
		_, err := fmt.Fprintln(w, "no encrypted files found")
		return err
	}
	header, rows, key := r.Table(layout)
	var b strings.Builder
	b.WriteString(AlignRows(append([][]string{header}, rows...)))
	b.WriteString("\n")
	if len(key) > 0 {
		for _, l := range key {
			b.WriteString(l + "\n")
		}
		b.WriteString("\n")
	}
	for _, l := range r.Legend() {
		b.WriteString(l + "\n")
	}
	for _, l := range r.Unreadable() {
		b.WriteString("unreadable: " + l + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// WriteReportMarkdown writes the matrix as a GitHub-flavoured Markdown table
// with its legend, for pasting into a review.
func WriteReportMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	if len(r.Files) == 0 {
		b.WriteString("No encrypted files found.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	header, rows := r.Matrix(false)
	cols := r.Columns()
	b.WriteString("|")
	for i, h := range header {
		if i > 0 && i <= len(cols) {
			rc := r.Recipients[cols[i-1]]
			h = rc.Label
			if rc.Name == "" {
				h = "`" + rc.Label + "`"
			}
		}
		b.WriteString(" " + mdEscape(h) + " |")
	}
	b.WriteString("\n|")
	for i := range header {
		if i == 0 {
			b.WriteString(" --- |")
		} else {
			b.WriteString(" :---: |")
		}
	}
	b.WriteString("\n")
	for _, row := range rows {
		b.WriteString("|")
		for i, c := range row {
			if i == 0 {
				c = "`" + c + "`"
			}
			b.WriteString(" " + mdEscape(c) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	for _, l := range r.Legend() {
		sym, text, _ := strings.Cut(l, "  ")
		b.WriteString("- " + mdEscape(sym) + " " + mdEscape(text) + "\n")
	}
	var keys []string
	for _, c := range cols {
		rc := r.Recipients[c]
		if rc.Name != "" {
			keys = append(keys, fmt.Sprintf("- %s: `%s`", mdEscape(rc.Name), rc.Key.String()))
		}
	}
	if len(keys) > 0 {
		b.WriteString("\nRecipients:\n\n" + strings.Join(keys, "\n") + "\n")
	}
	if u := r.Unreadable(); len(u) > 0 {
		b.WriteString("\nUnreadable files:\n\n")
		for _, l := range u {
			b.WriteString("- " + mdEscape(l) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type jsonRecipient struct {
	Name   string `json:"name,omitempty"`
	Label  string `json:"label"`
	Type   string `json:"type"`
	ID     string `json:"id"`
	Wanted bool   `json:"wanted"`
}

type jsonAccess struct {
	Recipient string `json:"recipient"` // type:id
	Group     int    `json:"group"`
	State     string `json:"state"`
}

type jsonFile struct {
	Path            string       `json:"path"`
	Format          string       `json:"format,omitempty"`
	Rule            int          `json:"rule"`
	Groups          int          `json:"groups"`
	Threshold       int          `json:"threshold"`
	WantedThreshold int          `json:"wanted_threshold"`
	Access          []jsonAccess `json:"access"`
	Error           string       `json:"error,omitempty"`
	Config          string       `json:"config,omitempty"`
}

func toJSONRecipient(rc ReportRecipient) jsonRecipient {
	return jsonRecipient{Name: rc.Name, Label: rc.Label, Type: string(rc.Key.Type), ID: rc.Key.ID, Wanted: rc.Wanted}
}

// WriteReportJSON writes the report as JSON: recipients, and per file the
// access state of every key in every group.
func WriteReportJSON(w io.Writer, r *Report) error {
	out := struct {
		Recipients []jsonRecipient `json:"recipients"`
		Files      []jsonFile      `json:"files"`
	}{Recipients: []jsonRecipient{}, Files: []jsonFile{}}
	for _, rc := range r.Recipients {
		out.Recipients = append(out.Recipients, toJSONRecipient(rc))
	}
	for _, f := range r.Files {
		jf := jsonFile{Path: f.Path, Format: f.Format, Rule: f.Rule, Groups: f.Groups,
			Threshold: f.Threshold, WantedThreshold: f.WantedThreshold, Access: []jsonAccess{}, Error: f.Err, Config: f.Config}
		for i, marks := range f.Marks {
			for _, m := range marks {
				jf.Access = append(jf.Access, jsonAccess{Recipient: r.Recipients[i].Key.String(), Group: m.Group, State: m.Access.String()})
			}
		}
		out.Files = append(out.Files, jf)
	}
	return writeJSON(w, out)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// ByRecipientRows renders the pivot as rows: recipient, key, count.
func ByRecipientRows(list []RecipientFiles) (header []string, rows [][]string) {
	header = []string{"RECIPIENT", "KEY", "FILES", "MISSING"}
	for _, rf := range list {
		rows = append(rows, []string{rf.Recipient.Label, rf.Recipient.Key.String(),
			strconv.Itoa(len(rf.Files)), strconv.Itoa(len(rf.Missing))})
	}
	return header, rows
}

// FileNote describes how a recipient reads a file: "", "extra: not wanted
// by .sops.yaml", "no creation rule", "share in group 1, 2 of 3 groups needed".
func FileNote(f RecipientFile) string {
	var notes []string
	switch f.Access {
	case AccessExtra:
		notes = append(notes, "extra: .sops.yaml does not want it")
	case AccessNoRule:
		notes = append(notes, "no creation rule matches")
	}
	if f.Share {
		gs := make([]string, len(f.Groups))
		for i, g := range f.Groups {
			gs[i] = strconv.Itoa(g)
		}
		notes = append(notes, fmt.Sprintf("share in group %s; %d of %d groups needed", strings.Join(gs, ","), f.Threshold, f.OfN))
	}
	return strings.Join(notes, "; ")
}

// WriteByRecipientText writes, for each recipient, the files it can
// decrypt (with how many) and the files it is missing from.
func WriteByRecipientText(w io.Writer, list []RecipientFiles) error {
	var b strings.Builder
	for i, rf := range list {
		if i > 0 {
			b.WriteString("\n")
		}
		rc := rf.Recipient
		fmt.Fprintf(&b, "%s  %s\n", rc.Label, rc.Key.String())
		fmt.Fprintf(&b, "  can decrypt %d %s\n", len(rf.Files), plural(len(rf.Files), "file", "files"))
		var rows [][]string
		for _, f := range rf.Files {
			rows = append(rows, []string{"   ", f.Path, FileNote(f)})
		}
		b.WriteString(AlignRows(rows))
		if len(rf.Missing) > 0 {
			fmt.Fprintf(&b, "  missing from %d %s (.sops.yaml wants it there)\n", len(rf.Missing), plural(len(rf.Missing), "file", "files"))
			for _, p := range rf.Missing {
				b.WriteString("    " + p + "\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteByRecipientMarkdown writes the pivot as Markdown.
func WriteByRecipientMarkdown(w io.Writer, list []RecipientFiles) error {
	var b strings.Builder
	for i, rf := range list {
		if i > 0 {
			b.WriteString("\n")
		}
		rc := rf.Recipient
		fmt.Fprintf(&b, "### %s\n\n`%s` can decrypt %d %s.\n\n", mdEscape(rc.Label), rc.Key.String(),
			len(rf.Files), plural(len(rf.Files), "file", "files"))
		for _, f := range rf.Files {
			note := FileNote(f)
			if note != "" {
				note = " — " + note
			}
			fmt.Fprintf(&b, "- `%s`%s\n", f.Path, mdEscape(note))
		}
		if len(rf.Missing) > 0 {
			fmt.Fprintf(&b, "\nMissing from (.sops.yaml wants it there):\n\n")
			for _, p := range rf.Missing {
				fmt.Fprintf(&b, "- `%s`\n", p)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteByRecipientJSON writes the pivot as JSON.
func WriteByRecipientJSON(w io.Writer, list []RecipientFiles) error {
	type jf struct {
		Path      string `json:"path"`
		State     string `json:"state"`
		Groups    []int  `json:"groups"`
		Threshold int    `json:"threshold,omitempty"`
		Of        int    `json:"of,omitempty"`
	}
	type jr struct {
		jsonRecipient
		CanDecrypt int      `json:"can_decrypt"`
		Files      []jf     `json:"files"`
		Missing    []string `json:"missing"`
	}
	out := []jr{}
	for _, rf := range list {
		r := jr{jsonRecipient: toJSONRecipient(rf.Recipient), CanDecrypt: len(rf.Files), Files: []jf{}, Missing: []string{}}
		for _, f := range rf.Files {
			r.Files = append(r.Files, jf{Path: f.Path, State: f.Access.String(), Groups: f.Groups, Threshold: f.Threshold, Of: f.OfN})
		}
		r.Missing = append(r.Missing, rf.Missing...)
		out = append(out, r)
	}
	return writeJSON(w, out)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
