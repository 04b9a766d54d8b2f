package audit

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
)

// SortFindings orders findings by file (the config first), line, code.
func SortFindings(fs []Finding, configPath string) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			if a.File == configPath {
				return true
			}
			if b.File == configPath {
				return false
			}
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Code < b.Code
	})
}

// Location renders "file:line" (or "file" when the line is unknown).
func (f Finding) Location() string {
	if f.Line > 0 {
		return fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	return f.File
}

// WriteText writes findings one per line with the hint below, and the
// config that governs the file when there are several:
//
//	secrets/db.yaml:14: error[drift]: recipients differ …
//	    hint: sopsfleet updatekeys secrets/db.yaml
//	    config: clusters/prod/.sops.yaml
//
// label styles the "error"/"warning" word (nil: plain).
func WriteText(w io.Writer, fs []Finding, label func(Severity, string) string) error {
	if label == nil {
		label = func(_ Severity, s string) string { return s }
	}
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s: %s: %s\n", f.Location(), label(f.Severity, f.Severity.String()+"["+string(f.Code)+"]"), f.Message)
		if f.Hint != "" {
			fmt.Fprintf(&b, "    hint: %s\n", f.Hint)
		}
		if f.Config != "" {
			fmt.Fprintf(&b, "    config: %s\n", f.Config)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is one line: "2 errors, 1 warning in 14 files" or "no findings
// in 14 files".
func Summary(fs []Finding, files int) string { return SummaryOf(fs, files, 1) }

// SummaryOf is [Summary] for a check that met configs .sops.yaml files
// (several in a repository with nested configs).
func SummaryOf(fs []Finding, files, configs int) string {
	errs := Errors(fs)
	warns := len(fs) - errs
	where := fmt.Sprintf("in %d %s and .sops.yaml", files, plural(files, "file", "files"))
	if configs > 1 {
		where = fmt.Sprintf("in %d %s and %d .sops.yaml files", files, plural(files, "file", "files"), configs)
	}
	if len(fs) == 0 {
		return "no findings " + where
	}
	return fmt.Sprintf("%d %s, %d %s %s", errs, plural(errs, "error", "errors"), warns, plural(warns, "warning", "warnings"), where)
}

type jsonFinding struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
	Config   string `json:"config,omitempty"`
}

// WriteJSON writes the findings and a summary as JSON.
func WriteJSON(w io.Writer, fs []Finding, files int) error {
	out := struct {
		Findings []jsonFinding `json:"findings"`
		Files    int           `json:"files"`
		Errors   int           `json:"errors"`
		Warnings int           `json:"warnings"`
	}{Findings: []jsonFinding{}, Files: files, Errors: Errors(fs), Warnings: len(fs) - Errors(fs)}
	for _, f := range fs {
		out.Findings = append(out.Findings, jsonFinding{f.Severity.String(), string(f.Code), f.File, f.Line, f.Message, f.Hint, f.Config})
	}
	return writeJSON(w, out)
}

// GitHub workflow command escaping (actions/toolkit, command.ts).
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// WriteGitHub writes findings as GitHub Actions workflow commands
// ("::error file=…,line=…,title=…::message"), so that they are shown as
// annotations on the pull request diff.
func WriteGitHub(w io.Writer, fs []Finding) error {
	var b strings.Builder
	for _, f := range fs {
		cmd := "error"
		if f.Severity == SeverityWarning {
			cmd = "warning"
		}
		props := []string{"file=" + ghProperty(filepath.ToSlash(f.File))}
		if f.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", f.Line))
		}
		props = append(props, "title="+ghProperty("sopsfleet "+string(f.Code)))
		msg := f.Message
		if f.Hint != "" {
			msg += "\nhint: " + f.Hint
		}
		fmt.Fprintf(&b, "::%s %s::%s\n", cmd, strings.Join(props, ","), ghData(msg))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// SARIF 2.1.0 (OASIS), the subset code scanning reads.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string      `json:"id"`
	Name                 string      `json:"name"`
	ShortDescription     sarifText   `json:"shortDescription"`
	HelpURI              string      `json:"helpUri"`
	DefaultConfiguration sarifConfig `json:"defaultConfiguration"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

const docsURL = "https://github.com/sopsfleet/sopsfleet/blob/main/docs/check.md"

// WriteSARIF writes findings as a SARIF 2.1.0 log for code scanning. Paths
// are relative to the source root (%SRCROOT%); version is the tool's.
func WriteSARIF(w io.Writer, fs []Finding, version string) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: "sopsfleet", Version: version,
			InformationURI: "https://github.com/sopsfleet/sopsfleet",
		}},
		Results: []sarifResult{},
	}
	index := map[Code]int{}
	for i, c := range Codes {
		index[c.Code] = i
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
			ID:                   string(c.Code),
			Name:                 ruleName(c.Code),
			ShortDescription:     sarifText{c.Summary},
			HelpURI:              docsURL + "#" + string(c.Code),
			DefaultConfiguration: sarifConfig{Level: c.Severity.String()},
		})
	}
	for _, f := range fs {
		idx, ok := index[f.Code]
		if !ok {
			continue
		}
		msg := f.Message
		if f.Hint != "" {
			msg += " (hint: " + f.Hint + ")"
		}
		uri := uriPath(filepath.ToSlash(f.File))
		art := sarifArtifact{URI: uri, URIBaseID: "%SRCROOT%"}
		if filepath.IsAbs(f.File) {
			if !strings.HasPrefix(uri, "/") {
				uri = "/" + uri // C:/… on Windows
			}
			art = sarifArtifact{URI: "file://" + uri}
		}
		// Code scanning shows a result only with a region (its SARIF
		// rule GH1003): a finding on the whole file points at line 1.
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: art,
			Region: &sarifRegion{StartLine: max(f.Line, 1)}}}
		run.Results = append(run.Results, sarifResult{
			RuleID: string(f.Code), RuleIndex: idx, Level: f.Severity.String(),
			Message: sarifText{msg}, Locations: []sarifLocation{loc},
		})
	}
	return writeJSON(w, sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{run},
	})
}

// uriPath percent-encodes a slash-separated path for a URI reference
// (RFC 3986): every byte but the unreserved characters and "/" is encoded,
// so that spaces, "%", "#", "?" and a ":" in the first segment (which would
// read as a scheme) survive.
func uriPath(p string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// ruleName turns "no-rule" into "NoRule" (SARIF rule names are identifiers).
func ruleName(c Code) string {
	var b strings.Builder
	for _, part := range strings.Split(string(c), "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
