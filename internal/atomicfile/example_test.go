package atomicfile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sopsfleet/sopsfleet/internal/atomicfile"
)

// Every file of a change is staged first; .sops.yaml is staged with Last so
// that it is renamed only after every file reflects the change.
func ExampleStaged() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	for _, name := range []string{".sops.yaml", "a.yaml", "b.yaml"} {
		os.WriteFile(filepath.Join(dir, name), []byte("old\n"), 0o600)
	}

	s := atomicfile.NewStaged(nil)
	defer s.Abort() // removes the temporary files if Commit is not reached
	for _, name := range []string{".sops.yaml", "a.yaml", "b.yaml"} {
		opts := atomicfile.Options{Expect: []byte("old\n"), Last: name == ".sops.yaml"}
		if err := s.Stage(filepath.Join(dir, name), []byte("new\n"), opts); err != nil {
			fmt.Println(err)
			return
		}
	}
	err := s.Commit(context.Background(), func(path string) {
		fmt.Println("wrote", filepath.Base(path))
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// wrote a.yaml
	// wrote b.yaml
	// wrote .sops.yaml
}
