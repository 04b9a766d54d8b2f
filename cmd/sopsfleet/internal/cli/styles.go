package cli

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles holds every style the CLI uses, built once per stream so that
// colour follows the stream written to.
type Styles struct {
	// Renderer builds further styles (tables) with the same colour decision.
	Renderer *lipgloss.Renderer

	Error, Warning, Hint lipgloss.Style
	Bold, Faint          lipgloss.Style
	OK, Bad, Added       lipgloss.Style
	Removed, Header      lipgloss.Style
}

var plainStyles, colorStyles = buildStyles(false), buildStyles(true)

// styles returns the colour or plain set.
func styles(color bool) *Styles {
	if color {
		return colorStyles
	}
	return plainStyles
}

func buildStyles(color bool) *Styles {
	// The CLI decides about colour itself (terminal, --no-color, NO_COLOR),
	// so the renderer's profile is set, not detected.
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	if color {
		r.SetColorProfile(termenv.ANSI256)
	}
	s := &Styles{Renderer: r}
	if !color {
		return s // plain styles render text unchanged
	}
	s.Error = r.NewStyle().Foreground(lipgloss.Color("9")).Bold(true)
	s.Warning = r.NewStyle().Foreground(lipgloss.Color("11")).Bold(true)
	s.Hint = r.NewStyle().Foreground(lipgloss.Color("14"))
	s.Bold = r.NewStyle().Bold(true)
	s.Faint = r.NewStyle().Faint(true)
	s.OK = r.NewStyle().Foreground(lipgloss.Color("10"))
	s.Bad = r.NewStyle().Foreground(lipgloss.Color("9"))
	s.Added = r.NewStyle().Foreground(lipgloss.Color("2"))
	s.Removed = r.NewStyle().Foreground(lipgloss.Color("1"))
	s.Header = r.NewStyle().Bold(true).Foreground(lipgloss.Color("12"))
	return s
}
