// Package rawio reads whole files with as few system calls as the
// operating system allows. It exists for speed only: sopsfleet reads every
// file of a tree, and on Linux [os.Open] spends five extra system calls per
// file (it offers each regular file to the network poller, which refuses
// it), which at 10,000 files is a tenth of a no-op run.
//
// On unix a file is read with open, fstat, read and close; elsewhere
// through package os. The results are those of [os.ReadFile].
package rawio

import "io"

// File is a file open for reading.
type File interface {
	io.ReadCloser
	// Size is the file's size when it was opened (fstat), or -1 when
	// unknown.
	Size() int64
}

// ReadFile returns the whole content of name, as [os.ReadFile] does.
func ReadFile(name string) ([]byte, error) {
	f, err := Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f, f.Size())
}

// readAll reads r to its end into a buffer sized for size bytes (one byte
// more, to see the end without growing).
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size < 0 {
		size = 512
	}
	buf := make([]byte, 0, size+1)
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}
