// Package relaykey keeps the relayer's secp256k1 key: the account that
// submits payers' EIP-3009 authorizations (sync/relay) and pays their gas.
//
// It is not the terminal's key (terminal/termkey): that one signs payment
// requests and is an identity payers pin; this one holds ether and signs
// transactions, and a merchant funds its address. Keeping them apart means
// a leak of one does not cost the other, and the relayer account can be
// emptied or replaced without changing the terminal's identity.
//
// The file is a terminal/keyfile key file (64 hex digits on one line, mode
// 0600, refused if group or others may read or write it), created on first
// start from crypto/rand and published atomically; two starters at once
// agree on one key. The parent directory is not created.
package relaykey

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io/fs"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/keyfile"
)

// Sentinel errors, keyfile's, wrapped with the path and the fix.
var (
	ErrLoosePermissions = keyfile.ErrLoosePermissions
	ErrMalformed        = keyfile.ErrMalformed
)

// Key is the relayer's key and its address.
type Key struct {
	Private *ecdsa.PrivateKey
	Address common.Address
}

// LoadOrCreate reads the relayer key at path or, if there is no file,
// creates one there (mode 0600). created reports whether this call made it:
// a new relayer account holds no ether until the merchant funds it.
func LoadOrCreate(path string) (k Key, created bool, err error) {
	k, err = load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	if err := keyfile.CheckDir(path); err != nil {
		return Key{}, false, fmt.Errorf("relaykey: %w", err)
	}
	priv, err := crypto.GenerateKey()
	if err != nil {
		return Key{}, false, fmt.Errorf("relaykey: generate key: %w", err)
	}
	err = keyfile.Publish(path, crypto.FromECDSA(priv))
	if errors.Is(err, fs.ErrExist) {
		k, err = load(path) // another starter published first: use its key
		return k, false, err
	}
	if err != nil {
		return Key{}, false, fmt.Errorf("relaykey: %w", err)
	}
	return Key{Private: priv, Address: crypto.PubkeyToAddress(priv.PublicKey)}, true, nil
}

// load reads an existing key file; its errors never quote the content.
func load(path string) (Key, error) {
	raw, err := keyfile.Read(path, "the relayer's private key")
	if err != nil {
		return Key{}, fmt.Errorf("relaykey: %w", err)
	}
	priv, err := crypto.ToECDSA(raw)
	if err != nil {
		return Key{}, fmt.Errorf("relaykey: %s: %w: not a valid secp256k1 private key", path, ErrMalformed)
	}
	return Key{Private: priv, Address: crypto.PubkeyToAddress(priv.PublicKey)}, nil
}
