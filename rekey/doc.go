// Package rekey compares what sops files are encrypted to with what
// .sops.yaml asks for, and acts on it: plans, minimal-churn rewrap, data-key
// rotation, and the read-only check and report.
//
// The package never prints, prompts or exits; progress reaches the command
// line through callbacks.
package rekey
