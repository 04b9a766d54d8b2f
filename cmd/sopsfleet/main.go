// Command sopsfleet manages who can decrypt a repository's sops secrets.
package main

import (
	"os"

	"github.com/sopsfleet/sopsfleet/cmd/sopsfleet/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
