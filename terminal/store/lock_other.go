//go:build !unix

package store

import (
	"os"
	"time"
)

// lockFile is a no-op where bbolt does not use flock; bbolt's own lock in
// Open still applies.
func lockFile(*os.File, time.Duration) (func(), error) { return func() {}, nil }

func unlockFile(*os.File) {}
