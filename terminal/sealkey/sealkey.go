package sealkey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"

	"showpos/terminal/keyfile"
)

// Sentinel errors, wrapped with the path and the fix.
var (
	// ErrLoosePermissions: the key file is readable or writable by group
	// or others (keyfile's).
	ErrLoosePermissions = keyfile.ErrLoosePermissions
	// ErrMalformed: the key file does not hold one 32-byte key in hex
	// (keyfile's).
	ErrMalformed = keyfile.ErrMalformed
	// ErrNotOpened: a sealed value does not open with this key and these
	// associated data: another key sealed it, it was changed, or it was
	// moved from where it was sealed.
	ErrNotOpened = errors.New("sealed value does not open")
)

const (
	// Size is the key's length in bytes (AES-256).
	Size = keyfile.Size
	// Overhead is how many bytes Seal adds to a secret.
	Overhead  = 1 + nonceSize + tagSize
	version   = 1
	nonceSize = 12
	tagSize   = 16
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
	raw, err := keyfile.Read(path, "the key that seals the service keys")
	if err != nil {
		return nil, fmt.Errorf("sealkey: %w", err)
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
	if err := keyfile.CheckDir(path); err != nil {
		return nil, false, fmt.Errorf("sealkey: %w", err)
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
	if err := keyfile.Publish(path, raw); err != nil {
		return nil, fmt.Errorf("sealkey: %w", err)
	}
	return newKey(path, raw)
}
