package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sopsfleet/sopsfleet/policy"
	"github.com/sopsfleet/sopsfleet/recipients"
)

type recipientsListOptions struct {
	g    *globalOptions
	JSON bool
}

func newRecipientsListCmd(g *globalOptions) *cobra.Command {
	o := &recipientsListOptions{g: g}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the recipients of .sops.yaml with their names and where they are used",
		Long: `list prints every recipient of .sops.yaml: its name (anchor or trailing
comment), type (age, age-plugin, age-pq, ssh, pgp, kms, gcp_kms, azure_kv,
hc_vault, hckms), key,
the line that defines it, and the creation rules (and key groups) that use
it, resolved as sops resolves them. Anchored recipients no rule uses are
listed too, with no rule. A value sops would reject is marked with its error.`,
		Example: `  sopsfleet recipients list
  sopsfleet recipients list --json | jq -r '.[] | select(.type == "age") | .name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runRecipientsList(o) },
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print a JSON array of {name, type, key, line, used_by[{rule, group, path_regex}], error}; rules and groups count from 1")
	return cmd
}

// listedRecipient is one row of `recipients list`.
type listedRecipient struct {
	Name   string      `json:"name"`
	Type   string      `json:"type"`
	Key    string      `json:"key"`
	Line   int         `json:"line"`
	UsedBy []listedUse `json:"used_by"`
	Error  string      `json:"error,omitempty"`
}

type listedUse struct {
	Rule      int    `json:"rule"`  // from 1, as in every message and in report --json
	Group     int    `json:"group"` // from 1
	PathRegex string `json:"path_regex"`
}

// displayType is the type shown: "ssh" for SSH recipients of sops' age type.
// The names are policy.TypeName's, which .sopsfleet.yaml's types rule uses:
// also "age-plugin" and "age-pq" for those age recipients.
func displayType(k recipients.Key) string { return policy.TypeName(k) }

func listRecipients(c *recipients.Config) []listedRecipient {
	var out []listedRecipient
	seen := map[recipients.Key]bool{}
	for _, m := range c.Members() {
		seen[m.Key] = true
		r := listedRecipient{Name: c.NameOf(m.Key), Type: displayType(m.Key), Key: m.Key.ID, Line: m.DefLine, UsedBy: []listedUse{}}
		if m.Err != nil {
			r.Error = m.Err.Error()
		}
		for _, u := range c.Uses(m.Key) {
			r.UsedBy = append(r.UsedBy, listedUse{Rule: u.Rule + 1, Group: u.Group + 1, PathRegex: c.Rules[u.Rule].PathRegex})
		}
		out = append(out, r)
	}
	for _, a := range c.Anchors {
		v := strings.TrimSpace(a.Value)
		if !strings.HasPrefix(v, "age1") && !strings.HasPrefix(v, "ssh-") {
			continue
		}
		k := recipients.Key{Type: recipients.TypeAge, ID: v}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, listedRecipient{Name: a.Name, Type: displayType(k), Key: v, Line: a.Line, UsedBy: []listedUse{}})
	}
	return out
}

func runRecipientsList(o *recipientsListOptions) error {
	c, err := loadRecipientsConfig(o.g)
	if err != nil {
		return err
	}
	rows := listRecipients(c)
	ios := o.g.IO
	if o.JSON {
		if rows == nil {
			rows = []listedRecipient{}
		}
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return failErr(err)
		}
		_, err = fmt.Fprintf(ios.Out, "%s\n", b)
		if err != nil {
			return failErr(err)
		}
		return nil
	}
	if len(rows) == 0 {
		ios.Infof("%s has no recipients", c.Path)
		return nil
	}
	st := styles(ios.OutColor())
	tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
	// Styles only in the last column: tabwriter counts escape codes.
	fmt.Fprintln(tw, "NAME\tTYPE\tKEY\tLINE\tUSED BY")
	for _, r := range rows {
		name := r.Name
		if name == "" {
			name = "-"
		}
		var uses []string
		for _, u := range r.UsedBy {
			uses = append(uses, groupLabel(c, recipients.GroupRef{Rule: u.Rule - 1, Group: u.Group - 1}))
		}
		used := strings.Join(uses, ", ")
		if used == "" {
			used = st.Faint.Render("(no rule)")
		}
		if r.Error != "" {
			used += "  " + st.Bad.Render(r.Error)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", name, r.Type, r.Key, r.Line, used)
	}
	if err := tw.Flush(); err != nil {
		return failErr(err)
	}
	return nil
}
