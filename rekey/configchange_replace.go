package rekey

// A replacement (recipients replace): a removed key whose place is taken by
// another key. Files a rule governs get the new key from the rule; a file
// no rule governs would only lose the removed key, so it gets the new key
// in the same group instead (see keepPlan).

import "github.com/sopsfleet/sopsfleet/recipients"

func groupHas(g recipients.Group, k recipients.Key) bool {
	for _, m := range g.Members {
		if m.Key == k {
			return true
		}
	}
	return false
}
