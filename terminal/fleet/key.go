package fleet

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// The fleet manager's private key file holds the 32-byte ed25519 seed as 64
// hex digits and a newline, mode 0600. The public key is written as 64 hex
// digits, the form [fleet] public_key takes.

// GenerateKey makes a new fleet key pair from rand (crypto/rand.Reader in
// production).
func GenerateKey(rand io.Reader) (ed25519.PublicKey, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, nil, fmt.Errorf("generate fleet key: %w", err)
	}
	return pub, priv, nil
}

// WritePrivateKey writes priv to a new file at path, mode 0600, and fsyncs
// it. An existing file is never overwritten: losing a fleet key strands
// every terminal that pins it.
func WritePrivateKey(path string, priv ed25519.PrivateKey) (err error) {
	if len(priv) != ed25519.PrivateKeySize {
		return fmt.Errorf("write fleet key %s: private key of %d bytes, want %d", path, len(priv), ed25519.PrivateKeySize)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write fleet key: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write fleet key %s: %w", path, cerr)
		}
		if err != nil {
			_ = os.Remove(path)
		}
	}()
	if _, err := f.WriteString(hex.EncodeToString(priv.Seed()) + "\n"); err != nil {
		return fmt.Errorf("write fleet key %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write fleet key %s: %w", path, err)
	}
	return nil
}

// ReadPrivateKey reads a key file WritePrivateKey wrote. A file readable
// by group or others is refused: the key signs every terminal's config.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read fleet key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read fleet key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("read fleet key %s: mode %v lets others read it; chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("read fleet key %s: %w", path, err)
	}
	seed, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(string(b)), "0x"))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("read fleet key %s: not a key file (%d hex digits)", path, 2*ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}
