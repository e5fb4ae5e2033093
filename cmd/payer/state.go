package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

// payerState is what the simulator remembers per payer address, in
// <state dir>/<address>.json (default state dir:
// os.UserCacheDir()/showpos-payer, e.g. ~/.cache/showpos-payer on Linux):
// the next nonce to use when the chain cannot be asked, and the last
// payment handed to a terminal, for -wrong reused.
type payerState struct {
	NextNonce uint64    `json:"nextNonce"`
	Last      *lastSent `json:"last,omitempty"`
}

type lastSent struct {
	RequestID string `json:"requestId"`
	RawTx     string `json:"rawTx,omitempty"`
	TxHash    string `json:"txHash"`
	// AuthNonce is the nonce of the last authorization (-via
	// authorization), for -wrong reused.
	AuthNonce string `json:"authNonce,omitempty"`
}

// defaultStateDir is os.UserCacheDir()/showpos-payer: losing it costs only
// the offline nonce counter and the -wrong reused memory.
func defaultStateDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "showpos-payer")
}

func statePath(dir string, a common.Address) string {
	return filepath.Join(dir, strings.ToLower(a.Hex())+".json")
}

// loadState reads a's state; a missing file is the zero state.
func loadState(dir string, a common.Address) (payerState, error) {
	var st payerState
	b, err := os.ReadFile(statePath(dir, a))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("payer state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("payer state %s: %w (delete it to start over)", statePath(dir, a), err)
	}
	return st, nil
}

// saveState writes a's state atomically: a temp file, fsynced, renamed.
func saveState(dir string, a common.Address, st payerState) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("payer state: %w", err)
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".state-*")
	if err != nil {
		return fmt.Errorf("payer state: %w", err)
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing left to remove
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("payer state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("payer state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("payer state: %w", err)
	}
	if err := os.Rename(f.Name(), statePath(dir, a)); err != nil {
		return fmt.Errorf("payer state: %w", err)
	}
	return nil
}
