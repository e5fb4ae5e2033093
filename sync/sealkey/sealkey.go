package sealkey

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
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
	ErrLoosePermissions = errors.New("sealing key file permissions too open")
	// ErrMalformed: the key file does not hold one 32-byte key in hex.
	ErrMalformed = errors.New("malformed sealing key file")
	// ErrNotOpened: a sealed value does not open with this key and these
	// associated data: another key sealed it, it was changed, or it was
	// moved from where it was sealed.
	ErrNotOpened = errors.New("sealed value does not open")
)

const (
	// Size is the key's length in bytes (AES-256).
	Size = 32
	// Overhead is how many bytes Seal adds to a secret.
	Overhead    = 1 + nonceSize + tagSize
	version     = 1
	nonceSize   = 12
	tagSize     = 16
	maxFileSize = 4096
)

// Key is a loaded sealing key. It is safe for concurrent use.
type Key struct {
	path string
	aead cipher.AEAD
}

// String names the key by its file.
func (k *Key) String() string { return k.path }

// Seal returns secret sealed under k and bound to ad, in a new slice.
func (k *Key) Seal(secret, ad []byte) []byte {
	out := make([]byte, 1+nonceSize, Overhead+len(secret))
	out[0] = version
	// A random nonce: a terminal seals a handful of keys in its life, far
	// below GCM's bound for random nonces. crypto/rand.Read never fails
	// (since Go 1.24 it crashes the program rather than return short).
	_, _ = rand.Read(out[1:])
	return k.aead.Seal(out, out[1:], secret, ad)
}

// Open returns the secret sealed in sealed, which must have been sealed
// by this key with the same ad; otherwise an error wrapping ErrNotOpened.
func (k *Key) Open(sealed, ad []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, fmt.Errorf("%w: %d bytes, shorter than any sealed value", ErrNotOpened, len(sealed))
	}
	if sealed[0] != version {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrNotOpened, sealed[0], version)
	}
	out, err := k.aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], ad)
	if err != nil {
		return nil, fmt.Errorf("%w: another key sealed it, or it was changed or moved", ErrNotOpened)
	}
	return out, nil
}

func newKey(path string, raw []byte) (*Key, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("sealkey: %s: %w", path, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sealkey: %s: %w", path, err)
	}
	return &Key{path: path, aead: aead}, nil
}

// Load reads the key file at path. A missing file gives an error wrapping
// fs.ErrNotExist; Load never creates one.
func Load(path string) (*Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sealkey: open %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("sealkey: stat %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("sealkey: %s: %w: not a regular file (%s)", path, ErrMalformed, info.Mode().Type())
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("sealkey: %s: %w: mode %04o lets group or others read or write the key that seals the service keys; run chmod 600 %s (and consider the service keys exposed to whoever also has the store file)",
			path, ErrLoosePermissions, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("sealkey: read %s: %w", path, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("sealkey: %s: %w: more than %d bytes; expected 64 hex digits on one line", path, ErrMalformed, maxFileSize)
	}
	s := bytes.TrimSpace(b)
	if len(s) != 2*Size {
		return nil, fmt.Errorf("sealkey: %s: %w: %d characters where 64 hex digits on one line were expected", path, ErrMalformed, len(s))
	}
	raw := make([]byte, Size)
	if _, err := hex.Decode(raw, s); err != nil {
		return nil, fmt.Errorf("sealkey: %s: %w: not hexadecimal", path, ErrMalformed)
	}
	return newKey(path, raw)
}

// LoadOrCreate reads the key file at path or, if there is none, makes a
// new key there (see the package documentation). created reports whether
// this call made it.
func LoadOrCreate(path string) (key *Key, created bool, err error) {
	key, err = Load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); err != nil {
		return nil, false, fmt.Errorf("sealkey: directory %s of %s: %w (create it, owned by the daemon's user with mode 0700, or fix the key path)", dir, path, err)
	}
	key, err = create(path)
	if errors.Is(err, fs.ErrExist) {
		// Another starter published its key first: use that one.
		key, err = Load(path)
		return key, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// create makes a key and publishes it at path, failing with an error
// wrapping fs.ErrExist if path exists.
func create(path string) (*Key, error) {
	raw := make([]byte, Size)
	_, _ = rand.Read(raw) // never fails, see Seal
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("sealkey: create key file in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // on failure; a no-op once removed below
	err = tmp.Chmod(0o600)   // CreateTemp uses 0600 already; say it anyway
	if err == nil {
		_, err = tmp.WriteString(hex.EncodeToString(raw) + "\n")
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("sealkey: write key file %s: %w", tmpName, err)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("sealkey: publish key file: %w", err)
		}
		return nil, fmt.Errorf("sealkey: publish key file %s (the file system must support hard links): %w", path, err)
	}
	// Drop the temporary name before the directory sync so no second copy
	// of the key outlives a power cut.
	if err := os.Remove(tmpName); err != nil {
		return nil, fmt.Errorf("sealkey: remove temporary key file: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("sealkey: key written to %s but directory not synced: %w", path, err)
	}
	return newKey(path, raw)
}

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
