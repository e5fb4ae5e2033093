package main

import (
	"fmt"
	"log/slog"
	"os"
)

// warnLoosePermissions logs a warning for each of the files that group or
// others may read or write: the store (whose copy, with the sealing key,
// gives away every service key), terminal.key and the sealing key (both
// are refused at load too, with the fix). A file not there yet is skipped:
// posd makes each with mode 0600.
func warnLoosePermissions(log *slog.Logger, paths ...string) {
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			log.Warn("a secret file is readable or writable by group or others; run chmod 600 on it",
				"path", p, "mode", fmt.Sprintf("%04o", perm))
		}
	}
}
