package watch_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/watch"
)

// memLedger is a Ledger in memory, written by hand: it keeps the cursor
// and the transfers, idempotent per (TxHash, Index), and checks that the
// watcher uses it as the contract says (ranges follow the cursor,
// transfers lie in the range, rewinds go down).
type memLedger struct {
	t testing.TB

	mu        sync.Mutex
	cur       watch.Cursor
	have      bool
	transfers []watch.Transfer
	ranges    [][2]uint64 // (from, to) of each RecordRange
	rewinds   []uint64
	settles   [][2]uint64
	failNext  error
}

func newMemLedger(t testing.TB) *memLedger { return &memLedger{t: t} }

func (l *memLedger) WatchCursor() (watch.Cursor, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return cloneCursor(l.cur), l.have, nil
}

func cloneCursor(c watch.Cursor) watch.Cursor {
	return watch.Cursor{Height: c.Height, Hashes: slices.Clone(c.Hashes)}
}

func (l *memLedger) RecordRange(ctx context.Context, next watch.Cursor, ts []watch.Transfer) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.failNext; err != nil {
		l.failNext = nil
		return err
	}
	from := l.cur.Height + 1
	if l.have && next.Height < l.cur.Height {
		l.t.Errorf("RecordRange moves the cursor back: %d → %d", l.cur.Height, next.Height)
	}
	if len(next.Hashes) == 0 || len(next.Hashes) > int(next.Height+1) {
		l.t.Errorf("RecordRange to %d with %d hashes", next.Height, len(next.Hashes))
	}
	for _, t := range ts {
		if l.have && (t.Block < from || t.Block > next.Height) {
			l.t.Errorf("transfer in block %d outside the range %d..%d", t.Block, from, next.Height)
		}
		if l.has(t.TxHash, t.Index) {
			continue
		}
		l.transfers = append(l.transfers, t)
	}
	l.ranges = append(l.ranges, [2]uint64{from, next.Height})
	l.cur, l.have = cloneCursor(next), true
	return nil
}

func (l *memLedger) has(h common.Hash, i uint) bool {
	for _, t := range l.transfers {
		if t.TxHash == h && t.Index == i {
			return true
		}
	}
	return false
}

func (l *memLedger) Rewind(ctx context.Context, c watch.Cursor) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.Height > l.cur.Height {
		l.t.Errorf("Rewind up: %d → %d", l.cur.Height, c.Height)
	}
	l.transfers = slices.DeleteFunc(l.transfers, func(t watch.Transfer) bool { return t.Block > c.Height })
	l.rewinds = append(l.rewinds, c.Height)
	l.cur = cloneCursor(c)
	return nil
}

func (l *memLedger) Settle(ctx context.Context, confirmed, final uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if final > confirmed {
		l.t.Errorf("Settle(%d, %d): final above confirmed", confirmed, final)
	}
	l.settles = append(l.settles, [2]uint64{confirmed, final})
	return nil
}

// got returns the recorded transfers as short strings, in record order.
func (l *memLedger) got() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, t := range l.transfers {
		out = append(out, describe(t))
	}
	return out
}

func describe(t watch.Transfer) string {
	if t.Gap {
		return fmt.Sprintf("%s %s gap @%d", t.Amount, t.Asset, t.Block)
	}
	return fmt.Sprintf("%s %s from %s @%d", t.Amount, t.Asset, strings.ToLower(t.From.Hex()[:6]), t.Block)
}

func (l *memLedger) cursor() watch.Cursor {
	l.mu.Lock()
	defer l.mu.Unlock()
	return cloneCursor(l.cur)
}

func (l *memLedger) lastSettle() [2]uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.settles) == 0 {
		return [2]uint64{}
	}
	return l.settles[len(l.settles)-1]
}
