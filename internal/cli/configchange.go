package cli

// CONTRACT (issue 4, onboarding/retirement, owns this file): recipients
// add/remove (issue 3) call prepareConfigChange before they write
// .sops.yaml, and run the returned apply function after the write.

import "github.com/sopsfleet/sopsfleet/recipients"

// configChange describes an edit of .sops.yaml that is about to be written.
type configChange struct {
	ConfigPath string
	Old, New   []byte           // config text before and after
	Removed    []recipients.Key // keys removed (remove); nil for add/rename
	// NoUpdatekeys: --no-updatekeys, edit the config only.
	NoUpdatekeys bool
	// Rotate: rotate data keys of affected files (remove, unless --no-rotate).
	Rotate bool
	DryRun bool
}

// prepareConfigChange runs before the config is written. It finds the
// files whose wanted recipients change and checks that the loaded identities
// can open each of them; on error nothing must be written. The returned
// apply updates those files and is called after the config was written.
func prepareConfigChange(g *globalOptions, ch *configChange) (apply func() error, err error) {
	// Placeholder until issue 4 lands: the config edit alone.
	return func() error { return nil }, nil
}
