package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sopsfleet/sopsfleet/audit"
	"github.com/sopsfleet/sopsfleet/internal/version"
	"github.com/sopsfleet/sopsfleet/policy"
)

// checkOptions are the inputs of sopsfleet check.
type checkOptions struct {
	g      *globalOptions
	IO     *IOStreams
	Paths  []string
	Format string
	JSON   bool
	Strict bool
	// Policy is --policy: the .sopsfleet.yaml to apply ("" : the one next
	// to .sops.yaml, if any).
	Policy string
}

func newCheckCmd(g *globalOptions) *cobra.Command {
	opts := &checkOptions{g: g, IO: g.IO}
	cmd := &cobra.Command{
		Use:   "check [PATH...]",
		Short: "Prove that every encrypted file matches .sops.yaml, and lint .sops.yaml",
		Long: `Check that every sops-encrypted file is encrypted to exactly the recipients
.sops.yaml asks for, and that .sops.yaml itself is sound. It reads metadata
only: no private key, no network, nothing decrypted. All five sops formats
(YAML, JSON, dotenv, INI, binary) are read.

Without PATH, every file below the folder of .sops.yaml is checked. With
files (as pre-commit passes them), only those files and .sops.yaml are.

Findings (stable codes; see docs/check.md):
  drift, threshold       recipients or Shamir threshold differ from .sops.yaml
  no-rule                an encrypted file no creation rule matches
  plaintext              a value stored in plaintext that sops would encrypt
  plaintext-comment      (warning) a plaintext comment that sops would encrypt
  unencrypted-secret     a Kubernetes Secret in plaintext that its rule would encrypt
  unencrypted            (warning) a file a path_regex selects is not encrypted
  metadata, unreadable   broken sops metadata, or a file sops cannot read
  stray-temp             (warning) a temporary file left by a killed sopsfleet run
  outside-link           (warning) a link to a file outside the tree (skipped)
  bad-recipient, duplicate-recipient, unused-anchor, unreachable-rule,
  selector-drift         a file's encrypted_regex/suffix differs from its rule's
  bad-recipient, duplicate-recipient, unused-anchor, unreachable-rule,
  bad-regex, unknown-key, unknown-top-level, no-threshold, ssh-recipient,
  sops-yml, empty-group, ignored-flat-keys, bad-settings, no-creation-rules,
  pgp-key-id, threshold-too-high
                         mistakes in .sops.yaml
  policy-require, policy-forbid, policy-separate, policy-type, policy-max
                         broken promises of .sopsfleet.yaml (docs/policy.md),
                         checked on .sops.yaml's rules and on every file

A .sopsfleet.yaml next to .sops.yaml (or --policy FILE) states promises
.sops.yaml cannot: required, forbidden and separated recipients, allowed
types, a maximum of recipients.

Exit status: 0 no errors (warnings allowed unless --strict), 1 findings,
2 usage error, an unreadable .sops.yaml or an invalid policy.`,
		Example: `  sopsfleet check
  sopsfleet check secrets/db.yaml secrets/api.env
  sopsfleet check --format github
  sopsfleet check --format sarif > sopsfleet.sarif
  sopsfleet check --json | jq -r '.findings[] | select(.code == "drift") | .file'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			return runCheck(opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Format, "format", "f", "text", "output format: text, json, github or sarif")
	f.BoolVar(&opts.JSON, "json", false, "print JSON (same as --format json)")
	f.BoolVar(&opts.Strict, "strict", false, "exit 1 on warnings too")
	f.StringVar(&opts.Policy, "policy", "", "policy file to apply (default: .sopsfleet.yaml next to .sops.yaml, if any)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(
		[]string{"text", "json", "github", "sarif"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runCheck(opts *checkOptions) error {
	defer tuneGC(opts.g.IO.Getenv)()
	format, err := withJSON(opts.JSON, opts.Format)
	if err != nil {
		return err
	}
	opts.Format = format
	switch opts.Format {
	case "text", "json", "github", "sarif":
	default:
		return usageErrorf("invalid --format %q: want text, json, github or sarif", opts.Format)
	}
	sc, err := loadScanConfig(opts.g, false)
	if err != nil {
		return err
	}
	// A policy that cannot be read stops check before any file is read.
	// (With no .sops.yaml at or above the working directory there is no
	// folder to find the policy in.)
	var pol *policy.Policy
	if sc.Config != nil {
		if pol, err = loadPolicy(sc.Config, opts.Policy); err != nil {
			return err
		}
	}
	paths := opts.Paths
	if pol != nil {
		// A changed policy (pre-commit passes it among the changed files)
		// changes what every file must satisfy: check them all.
		for _, p := range paths {
			if absOr(p) == absOr(policyFile(sc.Config, opts.Policy)) {
				paths = nil
				break
			}
		}
	}
	if sc, err = sc.scan(paths, true); err != nil {
		return err
	}
	findings := audit.Check(sc.Result, sc.ConfigShown)
	pf, err := policyFindings(sc.Result, pol, sc.ConfigShown, opts.Policy != "")
	if err != nil {
		return err
	}
	findings = append(findings, pf...)
	audit.SortFindings(findings, sc.ConfigShown)
	files := 0
	for _, r := range sc.Result.Files {
		if r.Encrypted() {
			files++
		}
	}
	// Annotations and code scanning locate files from the repository root:
	// in GitHub Actions that is $GITHUB_WORKSPACE, wherever check runs.
	if ws := opts.IO.Getenv("GITHUB_WORKSPACE"); ws != "" && (opts.Format == "github" || opts.Format == "sarif") {
		for i := range findings {
			findings[i].File = displayPath(absOr(ws), absOr(findings[i].File))
		}
	}
	out := opts.IO.Out
	switch opts.Format {
	case "json":
		err = audit.WriteJSON(out, findings, files)
	case "github":
		err = audit.WriteGitHub(out, findings)
	case "sarif":
		err = audit.WriteSARIF(out, findings, version.String())
	default:
		st := styles(opts.IO.OutColor())
		err = audit.WriteText(out, findings, func(s audit.Severity, text string) string {
			if s == audit.SeverityError {
				return st.Error.Render(text)
			}
			return st.Warning.Render(text)
		})
	}
	if err != nil {
		return failErr(fmt.Errorf("writing the findings: %w", err))
	}
	opts.IO.Infof("%s", audit.SummaryOf(findings, files, len(sc.Result.Configs)))
	errs := audit.Errors(findings)
	if errs > 0 || (opts.Strict && len(findings) > 0) {
		return errFindings
	}
	return nil
}

// withJSON applies --json, short for --format json, to format; another
// --format with it is a usage error.
func withJSON(json bool, format string) (string, error) {
	if !json {
		return format, nil
	}
	if format != "text" && format != "json" {
		return "", usageErrorf("--json and --format %s cannot be used together", format)
	}
	return "json", nil
}
