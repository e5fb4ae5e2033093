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
	// Scrub is the check after start of what the start did not read;
	// absent where the terminal runs none.
	Scrub *ScrubStatus `json:"scrub,omitempty"`
}

// ScrubStatus is the store's scrub (terminal/store's Scrub): at start posd
// reads only what does not grow with sales; after READY the scrub reads
// the rest, open payments first, at store.scrub_rate.
type ScrubStatus struct {
	// State is "waiting" (not started yet, or stopped), "running" or
	// "done" (ran to its end since start).
	State string `json:"state"`
	// CheckedBytes is what the current (or last) pass has read: keys and
	// values (an open payment twice, through its index and in its
	// bucket), and the file's size once for the last check, so it ends
	// above InUseBytes, the file's pages in use when it began.
	CheckedBytes int64 `json:"checkedBytes"`
	InUseBytes   int64 `json:"inUseBytes"`
	// FinishedAt is when it finished; absent while running.
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	// Damaged counts the records found damaged; Damage lists the first of
	// them.
	Damaged int           `json:"damaged"`
	Damage  []StoreDamage `json:"damage,omitempty"`
	// MoneyDamaged: damage in what matters to money (an open payment, its
	// indexes, the counts, the file's tree) was found; the terminal takes
	// no sale and serves no record (store_damaged) until the file is
	// restored.
	MoneyDamaged bool `json:"moneyDamaged"`
	// SalesTaken: the open payments and their indexes are checked since
	// start (the scrub's first part), so a payment is no longer answered
	// 503 unavailable for it.
	SalesTaken bool `json:"salesTaken"`
}

// StoreDamage is one damaged record: its bucket, its key in hex, what was
// wrong, and whether it is in what matters to money.
type StoreDamage struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key,omitempty"`
	Error  string `json:"error"`
	Money  bool   `json:"money"`
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
