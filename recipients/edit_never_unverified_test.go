package recipients

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/testsops"
)

// TestEditsNeverFailVerification: over every fixture (and the shared corpus
// when present), removing each recipient, renaming each name and adding a
// key to each group (and to all at once) either succeeds or is refused
// cleanly: the editor never plans an edit its own verification rejects
// (that error asks the user to report a bug).
func TestEditsNeverFailVerification(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "config", "*.yaml"))
	if corpusDir, ok := testsops.CorpusDir("sops-yaml"); ok {
		more, _ := filepath.Glob(filepath.Join(corpusDir, "*.y*ml"))
		files = append(files, more...)
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		c, err := ParseConfig(f, data)
		if err != nil {
			continue
		}
		seen := map[Key]bool{}
		for _, m := range c.Members() {
			if seen[m.Key] {
				continue
			}
			seen[m.Key] = true
			if _, err := c.Remove(m.Key); errors.Is(err, ErrNotVerified) {
				t.Errorf("%s remove %s: %v", f, m.Key, err)
			}
			if m.Name != "" {
				if _, err := c.Rename(m.Name, "renamed-x"); errors.Is(err, ErrNotVerified) {
					t.Errorf("%s rename %s: %v", f, m.Name, err)
				}
			}
		}
		var all []GroupRef
		for ri, r := range c.Rules {
			for gi := range r.Groups {
				all = append(all, GroupRef{ri, gi})
				if _, err := c.Add(AddOptions{Name: "newbie", Key: Key{TypeAge, keyG}, Targets: []GroupRef{{ri, gi}}}); errors.Is(err, ErrNotVerified) {
					t.Errorf("%s add %d/%d: %v", f, ri, gi, err)
				}
			}
		}
		if _, err := c.Add(AddOptions{Name: "newbie", Key: Key{TypeAge, keyG}, Targets: all}); errors.Is(err, ErrNotVerified) {
			t.Errorf("%s add all: %v", f, err)
		}
	}
}

// TestRemoveRefusesEmptyMergedMapping: a key that is the only field of an
// anchored mapping merged into a group cannot be removed without breaking
// the merge: refused with the mapping's line.
func TestRemoveRefusesEmptyMergedMapping(t *testing.T) {
	c := loadFixture(t, "merge_keys.yaml")
	_, err := c.Remove(Key{TypePGP, "85D77543B3D624B63CEA9E6DBC17301B491B3F21"})
	var u *errUnclean
	if !errors.As(err, &u) || errors.Is(err, ErrNotVerified) || !strings.Contains(err.Error(), "merge_keys.yaml:6: ") || !strings.Contains(err.Error(), "&gd would be left empty") {
		t.Errorf("err %v", err)
	}
}
