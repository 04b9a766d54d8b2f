//go:build !unix

package rawio

import "os"

// Open opens name for reading.
func Open(name string) (File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return &osFile{File: f, size: size}, nil
}

// osFile is an *os.File with the size it had when opened.
type osFile struct {
	*os.File
	size int64
}

// Size implements [File].
func (f *osFile) Size() int64 { return f.size }
