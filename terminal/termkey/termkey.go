package termkey

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io/fs"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/keyfile"
)

// Sentinel errors, wrapped with the path and the fix (keyfile's, so a
// caller may test against either package's).
var (
	// ErrLoosePermissions: the key file is readable or writable by group or others.
	ErrLoosePermissions = keyfile.ErrLoosePermissions
	// ErrMalformed: the key file does not hold one valid secp256k1 private key.
	ErrMalformed = keyfile.ErrMalformed
)

// LoadOrCreate reads the terminal key at path or, if the file does not exist,
// creates one there atomically with mode 0600. created reports whether the key
// was made by this call. See the package documentation for the rules.
func LoadOrCreate(path string) (key *ecdsa.PrivateKey, created bool, err error) {
	key, err = load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	if err := keyfile.CheckDir(path); err != nil {
		return nil, false, fmt.Errorf("termkey: %w", err)
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
// wrapping fs.ErrNotExist. Its errors never quote the file's content, which
// may be a real key slightly damaged.
func load(path string) (*ecdsa.PrivateKey, error) {
	raw, err := keyfile.Read(path, "the terminal's private key")
	if err != nil {
		return nil, fmt.Errorf("termkey: %w", err)
	}
	key, err := crypto.ToECDSA(raw)
	if err != nil {
		return nil, fmt.Errorf("termkey: %s: %w: not a valid secp256k1 private key (zero or not below the curve order)", path, ErrMalformed)
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
	if err := keyfile.Publish(path, crypto.FromECDSA(key)); err != nil {
		return nil, fmt.Errorf("termkey: %w", err)
	}
	return key, nil
}
