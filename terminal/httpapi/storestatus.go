package httpapi

import "time"

// StoreStatus is the bounded store in /v1/status: how big the file is,
// what it keeps, and what the pruner last did.
type StoreStatus struct {
	// FileBytes is the store file's size; it stops growing once the
	// pruner keeps up (bbolt reuses freed pages) and never shrinks
	// (posctl store compact).
	FileBytes int64 `json:"fileBytes"`
	// Payments counts the payments kept, by state (unmatched receipts
	// included), and Total all of them.
	Payments map[string]int `json:"payments"`
	Total    int            `json:"total"`
	// OldestAccepted is when the oldest payment kept was accepted;
	// absent when none is kept.
	OldestAccepted time.Time `json:"oldestAccepted,omitzero"`
	// Keep is store.keep as a Go duration ("2160h0m0s"); absent when
	// unset: nothing is pruned.
	Keep string `json:"keep,omitempty"`
	// LastPrune is the pruner's last finished round; absent before one.
	LastPrune *PruneRound `json:"lastPrune,omitempty"`
}

// PruneRound is one round of the pruner: every call until nothing was
// left, then the event log's.
type PruneRound struct {
	At       time.Time `json:"at"`
	Payments int       `json:"payments"`
	Requests int       `json:"requests"`
	Events   int       `json:"events"`
	Err      string    `json:"error,omitempty"`
}
