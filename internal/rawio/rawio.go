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
	size := f.Size()
	if size < 0 {
		size = 512
	}
	return ReadAll(f, make([]byte, 0, size+1), f.Size())
}

// ReadAll appends r to its end to buf, growing it only when the content
// outgrows it (a file that grew since its size was taken). size is the
// file's size when it was opened (-1: unknown): a read that stops short of
// the room it was given right at that size is the end of the file (read(2)
// of a regular file returns less only there), which saves the read that
// would return nothing.
func ReadAll(r io.Reader, buf []byte, size int64) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if int64(len(buf)) == size && len(buf) < cap(buf) {
			return buf, nil
		}
	}
}
