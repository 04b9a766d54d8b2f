// Package rekey is everything in sopsfleet that writes: the plans, the
// minimal-churn rewrap, data-key rotation, and changes of .sops.yaml carried
// out over every file they affect. The read-only side — check, report, lint,
// diff and exposure — is package [audit], which this package plans from
// ([audit.DiffGroups]); identities are loaded by [recipients.LoadIdentities].
//
// The package never prints, prompts or exits; progress reaches the command
// line through callbacks. Every write goes through internal/atomicfile.
//
// # Updating keys
//
// [PlanFile] decides from a file's metadata and its creation rule what must
// happen to it ([Action]): nothing, a rewrap in place (one key group: added
// entries spliced in, removed ones cut out, everything else byte-identical),
// a Shamir re-split (several key groups), or a rotation. [Run] carries plans
// out over many files with a worker pool: data keys are opened once per file
// with identities loaded once per run, writes are atomic and refuse files
// changed on disk, and a failing file never stops the others.
//
// # Changing .sops.yaml
//
// A change of recipients — onboarding a host, retiring one — is one
// all-or-nothing operation over the config and every file it affects:
//
//  1. [PlanChange] takes the config text before and after the edit (from
//     the recipients package's editor) and, from metadata alone, finds the
//     affected files: every sops file of the tree (the git top level, else
//     the config's folder: [ChangePlan.RootKind]) whose metadata holds a
//     removed key, and every file whose wanted recipients change. Files no
//     rule matches lose the removed key and keep their other recipients;
//     a key that is the only member of a group is a planning failure.
//  2. [ChangePlan.Prepare] builds every new file in memory (data keys
//     opened and macs verified where needed, new text re-read) and stages
//     it next to its target; any failure aborts everything
//     ([ChangeError]), and so does removing your own key without Force
//     ([SelfRemovalError]).
//  3. [ChangePlan.Apply] renames the files into place with one durability
//     barrier and writes .sops.yaml last, so that running the same change
//     again after any interruption finishes it ([ApplyError]).
//
// See the examples of [PlanChange].
package rekey
