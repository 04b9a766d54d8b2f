package audit

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// TestDiffSmallAsMaps: the scan DiffGroups uses for small groups gives
// what the sets give, in the same order, duplicates and all, for groups of
// every size up to past smallDiff.
func TestDiffSmallAsMaps(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	key := func() recipients.Key {
		typ := recipients.TypeAge
		if r.Intn(4) == 0 {
			typ = recipients.TypePGP
		}
		return recipients.Key{Type: typ, ID: fmt.Sprintf("k%d", r.Intn(12))}
	}
	for n := range 300 {
		var members []recipients.Member
		var stanzas []sopsfile.Stanza
		for range r.Intn(1 + n%40) {
			members = append(members, recipients.Member{Key: key(), Name: fmt.Sprint(r.Intn(3))})
		}
		for range r.Intn(1 + n%40) {
			stanzas = append(stanzas, sopsfile.Stanza{Key: key(), Line: r.Intn(100)})
		}
		got, want := diffSmall(members, stanzas), diffMaps(members, stanzas)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("members %v, stanzas %v:\nscan %+v\nsets %+v", members, stanzas, got, want)
		}
		// Through DiffGroups, on either side of the threshold.
		groups := []recipients.Group{{Members: members}}
		if d := DiffGroups(groups, [][]sopsfile.Stanza{stanzas}); (d == nil) != want.Empty() || d != nil && !reflect.DeepEqual(d[0].Missing, want.Missing) {
			t.Fatalf("DiffGroups %+v, want %+v", d, want)
		}
	}
	big := make([]recipients.Member, 40)
	for i := range big {
		big[i].Key = recipients.Key{Type: recipients.TypeAge, ID: fmt.Sprint(i)}
	}
	var st []sopsfile.Stanza
	for i := range 30 {
		st = append(st, sopsfile.Stanza{Key: recipients.Key{Type: recipients.TypeAge, ID: fmt.Sprint(i + 5)}})
	}
	if len(big)*len(st) <= smallDiff {
		t.Fatal("the big case does not reach the maps")
	}
	d := DiffGroups([]recipients.Group{{Members: big}}, [][]sopsfile.Stanza{st})
	if len(d) != 1 || len(d[0].Missing) != 10 || len(d[0].Extra) != 0 {
		t.Fatalf("big groups: %+v", d)
	}
}
