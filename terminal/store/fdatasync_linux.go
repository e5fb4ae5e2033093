package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// fdatasync makes f's written bytes durable without its times, as bbolt
// does on Linux.
func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }
