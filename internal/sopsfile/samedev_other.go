//go:build !unix

package sopsfile

import "os"

// sameDevice reports whether two files are on one file system; it cannot
// be told here, so they are taken to be.
func sameDevice(a, b os.FileInfo) bool { return true }
