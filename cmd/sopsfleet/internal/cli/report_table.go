package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
	"golang.org/x/term"

	"github.com/sopsfleet/sopsfleet/audit"
)

// defaultWidth is used when stdout is not a terminal and COLUMNS is unset.
const defaultWidth = 120

// outWidth is the width the report may use: the terminal's, else $COLUMNS,
// else defaultWidth.
func outWidth(ios *IOStreams) int {
	if f, ok := outFile(ios.Out); ok && ios.OutTTY {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	if ios.Getenv != nil {
		if n, err := strconv.Atoi(ios.Getenv("COLUMNS")); err == nil && n > 0 {
			return n
		}
	}
	return defaultWidth
}

// writeMatrix prints the access matrix: a lipgloss table on a terminal,
// plain aligned text when piped. The first layout that fits the width is
// used: recipients by name; numbered (with a key below); transposed, a row
// per recipient and a column per file (many recipients, few files); and
// when none fits, the files of each recipient, listed.
func writeMatrix(ios *IOStreams, rep *audit.Report) error {
	if len(rep.Files) == 0 {
		_, err := fmt.Fprintln(ios.Out, "no encrypted files found")
		return err
	}
	width := outWidth(ios)
	tty := ios.OutTTY
	fits := func(layout audit.Layout) bool {
		header, rows, _ := rep.Table(layout)
		w := audit.MatrixWidth(header, rows)
		if tty {
			w += len(header) + 1 + len(header) // borders and padding
		}
		return w <= width
	}
	layout := audit.LayoutNamed
	for !fits(layout) {
		if layout == audit.LayoutTransposed {
			ios.Hintf("too many recipients and files for a matrix %d columns wide: showing the files of each recipient", width)
			list := rep.ByRecipient()
			if tty {
				writeByRecipientTable(ios, list)
				return nil
			}
			return audit.WriteByRecipientText(ios.Out, list)
		}
		layout++
	}
	if !tty {
		return audit.WriteReportLayout(ios.Out, rep, layout)
	}
	st := styles(ios.OutColor())
	header, rows, key := rep.Table(layout)
	t := newTable(st, header, rows, func(row, col int) lipgloss.Style {
		if col == 0 || row < 0 || row >= len(rows) || col >= len(rows[row]) {
			return lipgloss.Style{}
		}
		cell := rows[row][col]
		switch {
		case strings.Contains(cell, "✗"):
			return st.Bad
		case strings.Contains(cell, "+"):
			return st.Warning
		case strings.Contains(cell, "•"):
			return st.Faint
		case strings.Contains(cell, "✓"):
			return st.OK
		}
		return lipgloss.Style{}
	})
	var b strings.Builder
	b.WriteString(t.Render() + "\n\n")
	for _, l := range key {
		b.WriteString(st.Faint.Render(l) + "\n")
	}
	for _, l := range rep.Legend() {
		b.WriteString(st.Faint.Render(l) + "\n")
	}
	for _, l := range rep.Unreadable() {
		b.WriteString(st.Bad.Render("unreadable: ") + l + "\n")
	}
	_, err := fmt.Fprint(ios.Out, b.String())
	return err
}

// newTable is the look of every report table: rounded faint borders, a
// bold header, one space of padding; cell (nil: none) styles a body cell.
func newTable(st *Styles, header []string, rows [][]string, cell func(row, col int) lipgloss.Style) *table.Table {
	return table.New().
		Border(lipgloss.RoundedBorder()).
		BorderStyle(st.Renderer.NewStyle().Inherit(st.Faint)).
		Headers(header...).
		Rows(rows...).
		StyleFunc(func(row, col int) lipgloss.Style {
			s := st.Renderer.NewStyle().Padding(0, 1)
			if row == table.HeaderRow {
				return s.Inherit(st.Header)
			}
			if cell != nil {
				return s.Inherit(cell(row, col))
			}
			return s
		})
}

// writeByRecipientTable prints the per-recipient view on a terminal: a
// summary table, then each recipient's files.
func writeByRecipientTable(ios *IOStreams, list []audit.RecipientFiles) {
	st := styles(ios.OutColor())
	header, rows := audit.ByRecipientRows(list)
	t := newTable(st, header, rows, nil)
	if lipgloss.Width(t.Render()) > outWidth(ios) {
		// Full keys do not fit: shorten them (the list below has them whole).
		for i, rf := range list {
			rows[i][1] = audit.ShortKey(rf.Recipient.Key)
		}
		t = newTable(st, header, rows, nil)
	}
	var b strings.Builder
	b.WriteString(t.Render() + "\n")
	for _, rf := range list {
		if len(rf.Files) == 0 && len(rf.Missing) == 0 {
			continue
		}
		b.WriteString("\n" + st.Bold.Render(rf.Recipient.Label) + " " + st.Faint.Render(rf.Recipient.Key.String()) + "\n")
		for _, f := range rf.Files {
			note := audit.FileNote(f)
			line := "  " + st.OK.Render(audit.AccessSymbol(f.Access)) + " " + f.Path
			if f.Access == audit.AccessExtra {
				line = "  " + st.Warning.Render("+") + " " + f.Path
			}
			if note != "" {
				line += "  " + st.Faint.Render(note)
			}
			b.WriteString(line + "\n")
		}
		for _, p := range rf.Missing {
			b.WriteString("  " + st.Bad.Render("✗") + " " + p + "  " + st.Faint.Render("missing: .sops.yaml wants it") + "\n")
		}
	}
	fmt.Fprint(ios.Out, b.String())
}
