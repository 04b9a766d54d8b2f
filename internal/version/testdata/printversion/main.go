// Command printversion prints version.String(); the version test builds it
// with the release ldflags.
package main

import (
	"fmt"

	"github.com/sopsfleet/sopsfleet/internal/version"
)

func main() { fmt.Println(version.String()) }
