// Package rekey compares what sops files are encrypted to with what
// .sops.yaml asks for, and acts on it: plans, minimal-churn rewrap, data-key
// rotation, and the read-only check and report.
//
// The package never prints, prompts or exits; progress reaches the command
// line through callbacks.
//
// # Updating keys
//
// [PlanFile] decides from a file's metadata and its creation rule what must
// happen to it ([Action]): nothing, a rewrap in place (one key group: added
// entries spliced in, removed ones cut out, everything else byte-identical),
// a Shamir re-split (several key groups), or a rotation. [Run] carries plans
// out over many files with a worker pool: data keys are opened once per file
// with identities loaded once per run ([LoadIdentities], the sources and
// order of sops v3.13 plus -i files), writes are atomic and refuse files
// changed on disk, and a failing file never stops the others.
package rekey
