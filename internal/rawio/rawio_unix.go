//go:build unix

package rawio

import (
	"io"
	"io/fs"
	"syscall"
)

// unixFile is a file descriptor opened with open(2) and read with read(2),
// never offered to the network poller (a regular file cannot be polled).
type unixFile struct {
	fd   int
	name string
	size int64
}

// Open opens name for reading.
func Open(name string) (File, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	f := &unixFile{fd: fd, name: name, size: -1}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err == nil {
		if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
			syscall.Close(fd)
			return nil, &fs.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
		}
		if st.Mode&syscall.S_IFMT == syscall.S_IFREG {
			f.size = st.Size
		}
	}
	return f, nil
}

// Read implements [io.Reader].
func (f *unixFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := syscall.Read(f.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, &fs.PathError{Op: "read", Path: f.name, Err: err}
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// Size implements [File].
func (f *unixFile) Size() int64 { return f.size }

// Close implements [io.Closer].
func (f *unixFile) Close() error {
	if f.fd < 0 {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	err := syscall.Close(f.fd)
	f.fd = -1
	if err != nil {
		return &fs.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}
