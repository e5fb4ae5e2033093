// Package keyfile reads and makes the small secret files a terminal keeps:
// one 32-byte key as 64 hex digits on one line, mode 0600. The terminal's
// signing key (terminal/termkey) and the key that seals service keys
// (terminal/sealkey) and the relayer account's key (terminal/relaykey) are
// such files.
//
// Read refuses a file that group or others may read or write, that is not
// a regular file, or that is not exactly one key; its errors never quote
// the file's content, which may be a real key slightly damaged. Publish
// makes a file durably and never replaces one: the line goes to a
// temporary file in the same directory (mode 0600, fsynced), which is
// hard-linked to the name (link, unlike rename, fails if the name exists),
// then the temporary name is removed and the directory fsynced, so no
// second copy of the key outlives a power cut.
package keyfile

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Sentinel errors, wrapped with the path and the fix.
var (
	// ErrLoosePermissions: the key file is readable or writable by group or others.
	ErrLoosePermissions = errors.New("key file permissions too open")
	// ErrMalformed: the key file does not hold one key.
	ErrMalformed = errors.New("malformed key file")
)

// Size is a key's length in bytes.
const Size = 32

// maxFileSize bounds what Read reads: a key line is 64 to 67 bytes.
const maxFileSize = 4096

// Read reads the key file at path: a regular file only its owner may read
// or write, holding 64 hex digits on one line (a "0x" prefix and white
// space around it are allowed). what names the key in the errors ("the
// terminal's private key"). A missing file gives an error wrapping
// fs.ErrNotExist.
func Read(path, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w: not a regular file (%s)", path, ErrMalformed, info.Mode().Type())
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s: %w: mode %04o lets group or others read or write %s; run chmod 600 %s (and consider the key exposed)",
			path, ErrLoosePermissions, perm, what, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%s: %w: more than %d bytes; expected 64 hex digits on one line", path, ErrMalformed, maxFileSize)
	}
	s := bytes.TrimSpace(b)
	s = bytes.TrimPrefix(bytes.TrimPrefix(s, []byte("0x")), []byte("0X"))
	if len(s) != 2*Size {
		return nil, fmt.Errorf("%s: %w: %d characters where 64 hex digits on one line were expected", path, ErrMalformed, len(s))
	}
	raw := make([]byte, Size)
	if _, err := hex.Decode(raw, s); err != nil {
		return nil, fmt.Errorf("%s: %w: not hexadecimal", path, ErrMalformed)
	}
	return raw, nil
}

// CheckDir tells, before a first key is made, whether the directory that
// is to hold path exists, with the fix in the error.
func CheckDir(path string) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("directory %s of %s: %w (create it, owned by the daemon's user with mode 0700, or fix the key path)", dir, path, err)
	}
	return nil
}

// Publish writes key as one line of hex to a new file at path (see the
// package documentation), failing with an error wrapping fs.ErrExist if
// path exists.
func Publish(path string, key []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("create key file in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // on failure; a no-op once removed below
	err = tmp.Chmod(0o600)   // CreateTemp uses 0600 already; say it anyway
	if err == nil {
		_, err = tmp.WriteString(hex.EncodeToString(key) + "\n")
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write key file %s: %w", tmpName, err)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("publish key file: %w", err)
		}
		return fmt.Errorf("publish key file %s (the file system must support hard links): %w", path, err)
	}
	if err := os.Remove(tmpName); err != nil {
		return fmt.Errorf("remove temporary key file: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("key written to %s but directory not synced: %w", path, err)
	}
	return nil
}

// syncDir fsyncs a directory so a new name in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
