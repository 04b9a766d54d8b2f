// Package recipients knows the recipients of a repository's sops secrets:
// SSH → age conversion (byte-compatible with ssh-to-age), fetching host keys
// over SSH, parsing age recipients, and the .sops.yaml document model with
// its minimal-diff editor.
//
// The package never prints, prompts, colours or exits: it returns errors and
// values, and the command line in cmd/sopsfleet/internal/cli talks to the person.
package recipients
