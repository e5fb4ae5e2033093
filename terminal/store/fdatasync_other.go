//go:build !linux

package store

import "os"

// fdatasync is fsync where Linux's fdatasync is not.
func fdatasync(f *os.File) error { return f.Sync() }
