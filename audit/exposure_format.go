package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

func (fe FileExposure) currentText() string {
	switch fe.Current {
	case "readable":
		return "the current file still uses a data key it held: every value is readable"
	case "rotated":
		return "the data key was rotated since"
	case "deleted":
		return "not in the current revision"
	}
	return fe.Current
}

// WriteExposureText writes the exposure report as plain text: per file the
// revisions the keys could read and each secret name's status, then the
// count of secrets still exposed per file. No value is ever shown.
func WriteExposureText(w io.Writer, res *ExposureResult) error {
	var b strings.Builder
	var ks []string
	for _, k := range res.Keys {
		ks = append(ks, string(k.Key.Type)+":"+keyLabel(k.Key))
	}
	fmt.Fprintf(&b, "%s (%s): %s readable in %s walked\n", res.Query, strings.Join(ks, ", "),
		nPlural(len(res.Files), "file", "files"), nPlural(res.Commits, "commit", "commits"))
	if res.Keyless {
		b.WriteString("keyless: where the data key was rotated, whether a value changed is unknown (load an identity to compare)\n")
	}
	for _, fe := range res.Files {
		fmt.Fprintf(&b, "\n%s\n", fe.Path)
		if len(fe.RenamedFrom) > 0 {
			fmt.Fprintf(&b, "  renamed from %s (same data key)\n", strings.Join(fe.RenamedFrom, ", "))
		}
		fmt.Fprintf(&b, "  readable in %s: %s (%s) .. %s (%s)\n", nPlural(fe.Revisions, "revision", "revisions"),
			short(fe.First.Commit), fe.First.Date, short(fe.Last.Commit), fe.Last.Date)
		fmt.Fprintf(&b, "  now: %s\n", fe.currentText())
		for _, s := range fe.Secrets {
			fmt.Fprintf(&b, "  %-13s  %s\n", s.Status, s.Name)
		}
	}
	fmt.Fprintf(&b, "\n%s still exposed", nPlural(res.StillExposed, "secret", "secrets"))
	var per []string
	for _, fe := range res.Files {
		if fe.StillExposed > 0 {
			per = append(per, fmt.Sprintf("%s %d", fe.Path, fe.StillExposed))
		}
	}
	if len(per) > 0 {
		fmt.Fprintf(&b, ": %s", strings.Join(per, ", "))
	}
	if res.Unknown > 0 {
		fmt.Fprintf(&b, "; %d unknown (an identity that opens the files can tell)", res.Unknown)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteExposureJSON writes the exposure report as indented JSON.
func WriteExposureJSON(w io.Writer, res *ExposureResult) error {
	out := *res
	if out.Files == nil {
		out.Files = []FileExposure{}
	}
	for i := range out.Files {
		if out.Files[i].Secrets == nil {
			out.Files[i].Secrets = []SecretExposure{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
