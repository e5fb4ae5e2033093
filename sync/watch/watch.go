package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"showpos/device/clock"
	"showpos/sync/chain"
	"showpos/terminal/asset"
)

// Transfer is money that reached the merchant in one block.
type Transfer struct {
	Block     uint64
	BlockHash common.Hash
	BlockTime time.Time      // the block's timestamp
	TxHash    common.Hash    // zero for a Gap
	Index     uint           // log index for an ERC-20 Transfer; the transaction's index in the block for native; the block number for a Gap
	From      common.Address // the log's from, or the transaction's sender (zero for a balance gap)
	Asset     string         // the configured asset's symbol
	Amount    *big.Int       // base units
	// Gap is an increase of the merchant's native balance that no
	// transaction explains (a contract wallet's internal call): TxHash
	// zero, Block the block in which the balance rose (the watcher narrows
	// a processed range down to that block: it is the end of a one-block
	// range), Index the block number, so that (TxHash, Index) stays unique.
	Gap bool
}

// Cursor is how far the watcher has processed: every block up to Height,
// and the hashes of the last blocks it processed (newest last, at most the
// final depth of them), to see a reorg. Hashes[i] is the hash of block
// Height-len(Hashes)+1+i.
type Cursor struct {
	Height uint64
	Hashes []common.Hash
}

// hashAt returns the kept hash of block n.
func (c Cursor) hashAt(n uint64) (common.Hash, bool) {
	if n > c.Height || c.Height-n >= uint64(len(c.Hashes)) {
		return common.Hash{}, false
	}
	return c.Hashes[uint64(len(c.Hashes))-1-(c.Height-n)], true
}

// Ledger is where the watcher records what it saw; *store.Store is one.
type Ledger interface {
	// WatchCursor returns the cursor; ok is false before the watcher's first range.
	WatchCursor() (c Cursor, ok bool, err error)
	// RecordRange records the transfers of the blocks after the stored cursor up to next.Height
	// and moves the cursor to next, in one durable (fsynced) write. Idempotent per (TxHash, Index):
	// a transfer already recorded, or whose TxHash is a handed-over payment already in the store,
	// is not recorded again.
	RecordRange(ctx context.Context, next Cursor, ts []Transfer) error
	// Rewind takes back everything recorded from blocks above height (their block was reorganised
	// away): a matched request goes back to pending (or to expired, by its time), an unmatched
	// receipt is removed; the cursor moves to c (Height == height). One durable write.
	Rewind(ctx context.Context, c Cursor) error
	// Settle marks chain-seen payments in blocks at or below confirmed as confirmed, and at or
	// below final as final. One durable write; idempotent.
	Settle(ctx context.Context, confirmed, final uint64) error
}

// Chain is what the watcher needs from the network; *chain.Client is one.
type Chain interface {
	Heads(ctx context.Context, finalized bool) (chain.Heads, error)
	Headers(ctx context.Context, numbers []uint64) ([]*chain.Header, error)
	Blocks(ctx context.Context, numbers []uint64) ([]*chain.Block, error)
	Logs(ctx context.Context, f chain.LogFilter) ([]types.Log, error)
	BalanceAt(ctx context.Context, addr common.Address, block common.Hash) (*big.Int, error)
	Receipts(ctx context.Context, hashes []common.Hash) ([]*types.Receipt, error)
}

var _ Chain = (*chain.Client)(nil)

// Defaults for zero Options fields.
const (
	DefaultPoll        = 2 * time.Second
	DefaultMaxRange    = 500
	DefaultMaxLookback = 50_000
	DefaultFinalEvery  = 32
	// maxBlockWait caps the wait between polls that the observed block
	// time stretches Poll to.
	maxBlockWait = 30 * time.Second
)

// ErrBadOptions wraps what New refuses.
var ErrBadOptions = errors.New("watch: bad options")

// errMoved is a round that saw the chain change under it (answers of two
// requests that do not fit together): nothing was recorded; the next round
// looks again.
var errMoved = errors.New("watch: the chain moved during the round")

// Options configure New. Ledger, Chain and Merchant are required.
type Options struct {
	Ledger   Ledger
	Chain    Chain
	Merchant common.Address
	// Assets are the configured assets: tokens are watched by their
	// Transfer logs, the native coin (a zero Token) by the merchant's
	// balance. An asset not listed is not watched.
	Assets []asset.Asset
	// Confirmations and FinalDepth count as the broadcaster's do (see
	// Settle in the package comment). Defaults 1 and 64; FinalDepth at
	// least Confirmations; at most FinalDepth block hashes are kept.
	Confirmations, FinalDepth uint64
	// FinalEvery is how many blocks pass between two questions for the
	// node's finalized block (asked only while a recorded transfer may not
	// be final). Default 32: Ethereum's finalized block moves an epoch (32
	// blocks) at a time.
	FinalEvery uint64
	// Poll is the least wait between rounds; the wait is stretched to the
	// block time observed in the headers (up to 30 s), so that a round
	// finds a block about each time. Default 2 s.
	Poll time.Duration
	// MaxRange caps the blocks one round processes (and one eth_getLogs
	// covers). Default 500.
	MaxRange uint64
	// MaxLookback is the most blocks behind the head the watcher goes back
	// for: after a longer time offline the older blocks are skipped, with
	// a warning and Status.Skipped. Default 50,000.
	MaxLookback uint64
	Clock       clock.Clock // nil: clock.System; Status times only
	Logger      *slog.Logger
	// OnRound, if set, is called with each round's report (metrics). It
	// must not block.
	OnRound func(Report)
}

// Report sums up one round.
type Report struct {
	At        time.Time
	Head      uint64 // the node's head
	Height    uint64 // the cursor after the round
	Blocks    int    // blocks processed
	Calls     int    // JSON-RPC calls asked (a batch counts each call in it)
	Transfers int    // recorded, gaps included
	Gaps      int
	Reorg     bool   // a reorg was seen and rewound
	Skipped   uint64 // blocks skipped past MaxLookback
	SkippedTo uint64 // the last of them
	More      bool   // blocks remain before the head: the next round comes at once
	Err       string
}

// Lag is how many blocks the cursor is behind the node's head after the
// round (0 when the round did not reach the node).
func (r Report) Lag() uint64 {
	if r.Head > r.Height {
		return r.Head - r.Height
	}
	return 0
}

// Status is the watcher's state for the operator.
type Status struct {
	Height    uint64    // every block up to here is processed
	Head      uint64    // the node's head at the last round
	Lag       uint64    // Head - Height
	LastRound time.Time // the last round that reached the node
	Reorgs    int       // rewinds since start
	// Skipped counts blocks never processed because they were further
	// behind the head than MaxLookback (since start); SkippedTo is the
	// last block of the last such stretch.
	Skipped   uint64
	SkippedTo uint64
	Calls     uint64 // JSON-RPC calls asked since start
	Err       string // the last round's error, "" if it went through
}

// Watcher follows the chain for transfers to the merchant. Run owns its
// loop; Round runs one round.
type Watcher struct {
	o        Options
	log      *slog.Logger
	kick     chan struct{}
	native   string                    // the native coin's symbol; "" not watched
	tokens   map[common.Address]string // token → symbol
	tokenIDs []common.Address

	round sync.Mutex // one round at a time; guards what follows
	cur   Cursor
	have  bool     // cur is loaded
	bal   *big.Int // the merchant's balance at cur's newest block (balAt); nil: ask
	balAt common.Hash
	// Settling: unfinal says recorded transfers may not be final yet
	// (true at start: the store may hold some); recorded is the highest
	// block they may be in.
	unfinal              bool
	recorded             uint64
	finalAsked           uint64 // the cursor height when the finalized block was last asked
	askedOnce, tagged    bool   // asked since start; the node had a finalized block then
	finalTag             uint64 // its number
	settledC, settledF   uint64
	blockTime            time.Duration
	lastTime, lastNumber uint64 // the newest processed block's timestamp and number

	mu sync.Mutex
	st Status
}

// New checks o and returns a watcher; Run starts it.
func New(o Options) (*Watcher, error) {
	if o.Ledger == nil || o.Chain == nil {
		return nil, fmt.Errorf("%w: Ledger and Chain are required", ErrBadOptions)
	}
	if o.Merchant == (common.Address{}) {
		return nil, fmt.Errorf("%w: no merchant address", ErrBadOptions)
	}
	if o.Confirmations == 0 {
		o.Confirmations = 1
	}
	if o.FinalDepth == 0 {
		o.FinalDepth = 64
	}
	o.FinalDepth = max(o.FinalDepth, o.Confirmations)
	if o.FinalEvery == 0 {
		o.FinalEvery = DefaultFinalEvery
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.MaxRange == 0 {
		o.MaxRange = DefaultMaxRange
	}
	if o.MaxLookback == 0 {
		o.MaxLookback = DefaultMaxLookback
	}
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	w := &Watcher{o: o, log: o.Logger, kick: make(chan struct{}, 1), unfinal: true}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if w.native, w.tokens, w.tokenIDs, err = watched(o.Assets); err != nil {
		return nil, err
	}
	return w, nil
}

// watched sorts assets into the native coin's symbol ("" if not listed)
// and the tokens by contract.
func watched(assets []asset.Asset) (native string, tokens map[common.Address]string, ids []common.Address, err error) {
	tokens = map[common.Address]string{}
	for _, a := range assets {
		switch {
		case a.Native() && native != "":
			return "", nil, nil, fmt.Errorf("%w: two native assets (%s, %s)", ErrBadOptions, native, a.Symbol)
		case a.Native():
			native = a.Symbol
		case tokens[a.Token] != "":
			return "", nil, nil, fmt.Errorf("%w: token %s listed twice", ErrBadOptions, a.Token.Hex())
		default:
			tokens[a.Token] = a.Symbol
			ids = append(ids, a.Token)
		}
	}
	return native, tokens, ids, nil
}

// Reconfigure watches another merchant address or other assets from the
// next round on (a fleet bundle changed them): the blocks already
// processed are not looked at again. A new merchant's native balance is
// read afresh at the cursor before it is compared. It waits for a round
// under way; on an error nothing changes.
func (w *Watcher) Reconfigure(merchant common.Address, assets []asset.Asset) error {
	if merchant == (common.Address{}) {
		return fmt.Errorf("%w: no merchant address", ErrBadOptions)
	}
	native, tokens, ids, err := watched(assets)
	if err != nil {
		return err
	}
	w.round.Lock()
	defer w.round.Unlock()
	if merchant != w.o.Merchant {
		w.o.Merchant, w.bal = merchant, nil
	}
	w.o.Assets, w.native, w.tokens, w.tokenIDs = assets, native, tokens, ids
	return nil
}

// Kick asks for a round soon (a request was just shown, say). It never
// blocks. Each round costs at least one call: the cost bound of the
// package comment counts Run's own rounds, not kicked ones.
func (w *Watcher) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Status returns the watcher's state.
func (w *Watcher) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.st
}

// Run follows the chain until ctx ends: a round at once, then one each
// Poll (stretched to the block time), at once while catching up, and
// when kicked; after a failed round, later (doubling, at most a minute),
// or when kicked. Errors are in Status and the reports; Run returns nil when
// ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	fails := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-w.kick:
		}
		r, err := w.Round(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := w.wait(r)
		if err != nil {
			// Failing rounds (the chain offline, a node erring) back off:
			// Poll, doubling, at most a minute.
			fails = min(fails+1, 10)
			wait = min(max(wait, w.o.Poll<<fails), time.Minute)
		} else {
			fails = 0
		}
		t.Reset(wait)
	}
}

// wait is the time to the next round after r.
func (w *Watcher) wait(r Report) time.Duration {
	if r.More && r.Err == "" {
		return 0
	}
	w.round.Lock()
	bt := w.blockTime
	w.round.Unlock()
	return max(w.o.Poll, min(bt, maxBlockWait))
}

// Round runs one round now: it reads the head, processes the blocks after
// the cursor (at most MaxRange), records them, and settles. Rounds never
// overlap: a Round called while Run's is under way waits for it.
func (w *Watcher) Round(ctx context.Context) (Report, error) {
	w.round.Lock()
	defer w.round.Unlock()
	r := Report{}
	err := w.step(ctx, &r)
	r.At = w.o.Clock.Now()
	r.Height = w.cur.Height
	if err != nil {
		r.Err = err.Error()
		if ctx.Err() == nil {
			w.log.Warn("watch: round failed", "err", err, "height", w.cur.Height)
		}
	}
	w.mu.Lock()
	w.st.Height, w.st.Calls, w.st.Err = w.cur.Height, w.st.Calls+uint64(r.Calls), r.Err
	if r.Head != 0 {
		w.st.Head, w.st.LastRound = r.Head, r.At
	}
	w.st.Lag = 0
	if w.st.Head > w.st.Height {
		w.st.Lag = w.st.Head - w.st.Height
	}
	if r.Reorg {
		w.st.Reorgs++
	}
	if r.Skipped > 0 {
		w.st.Skipped += r.Skipped
		w.st.SkippedTo = r.SkippedTo
	}
	w.mu.Unlock()
	if w.o.OnRound != nil {
		w.o.OnRound(r)
	}
	return r, err
}
