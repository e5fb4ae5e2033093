package termkey

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ethereum/go-ethereum/crypto"
)

// Sentinel errors, wrapped with the path and the fix.
var (
	// ErrLoosePermissions: the key file is readable or writable by group or others.
	ErrLoosePermissions = errors.New("key file permissions too open")
	// ErrMalformed: the key file does not hold one valid secp256k1 private key.
	ErrMalformed = errors.New("malformed key file")
)

// maxFileSize bounds what LoadOrCreate reads: a key line is 64 to 67 bytes.
const maxFileSize = 4096

// LoadOrCreate reads the terminal key at path or, if the file does not exist,
// creates one there atomically with mode 0600. created reports whether the key
// was made by this call. See the package documentation for the rules.
func LoadOrCreate(path string) (key *ecdsa.PrivateKey, created bool, err error) {
	key, err = load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); err != nil {
		return nil, false, fmt.Errorf("termkey: key directory %s of %s: %w (create it, owned by the daemon's user with mode 0700, or fix the key path)", dir, path, err)
	}
	key, err = create(path)
	if errors.Is(err, fs.ErrExist) {
		// Another starter published its key first: use that one.
		key, err = load(path)
		return key, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// load reads and checks an existing key file. A missing file gives an error
// wrapping fs.ErrNotExist.
func load(path string) (*ecdsa.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("termkey: open key file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("termkey: stat key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("termkey: %s: %w: not a regular file (%s)", path, ErrMalformed, info.Mode().Type())
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("termkey: %s: %w: mode %04o lets group or others read or write the terminal's private key; run chmod 600 %s (and consider the key exposed)",
			path, ErrLoosePermissions, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("termkey: read key file %s: %w", path, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("termkey: %s: %w: more than %d bytes; expected 64 hex digits on one line", path, ErrMalformed, maxFileSize)
	}
	key, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("termkey: %s: %w", path, err)
	}
	return key, nil
}

// parse reads the one-line hex form. Its errors wrap ErrMalformed and never
// quote the file's content, which may be a real key slightly damaged.
func parse(b []byte) (*ecdsa.PrivateKey, error) {
	s := bytes.TrimSpace(b)
	s = bytes.TrimPrefix(bytes.TrimPrefix(s, []byte("0x")), []byte("0X"))
	if len(s) != 64 {
		return nil, fmt.Errorf("%w: %d characters where 64 hex digits on one line were expected", ErrMalformed, len(s))
	}
	raw := make([]byte, 32)
	if _, err := hex.Decode(raw, s); err != nil {
		return nil, fmt.Errorf("%w: not hexadecimal", ErrMalformed)
	}
	key, err := crypto.ToECDSA(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: not a valid secp256k1 private key (zero or not below the curve order)", ErrMalformed)
	}
	return key, nil
}

// create generates a key and publishes it at path, failing with an error
// wrapping fs.ErrExist if path already exists.
func create(path string) (*ecdsa.PrivateKey, error) {
	key, err := crypto.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("termkey: generate key: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("termkey: create key file in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // on failure; a no-op once removed below
	line := hex.EncodeToString(crypto.FromECDSA(key)) + "\n"
	err = tmp.Chmod(0o600) // CreateTemp uses 0600 already; say it anyway
	if err == nil {
		_, err = tmp.WriteString(line)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("termkey: write key file %s: %w", tmpName, err)
	}
	// Link, unlike rename, refuses to replace an existing name.
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("termkey: publish key file: %w", err)
		}
		return nil, fmt.Errorf("termkey: publish key file %s (the file system must support hard links): %w", path, err)
	}
	// The key now lives under path; drop the temporary name before the
	// directory sync so no second copy of the key outlives a power cut.
	if err := os.Remove(tmpName); err != nil {
		return nil, fmt.Errorf("termkey: remove temporary key file: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("termkey: key written to %s but directory not synced: %w", path, err)
	}
	return key, nil
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
