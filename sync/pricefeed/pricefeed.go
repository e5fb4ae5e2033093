package pricefeed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/device/clock"
	"showpos/terminal/config"
)

// Errors of Latest and New, wrapped with the asset and detail.
var (
	// ErrNoSource: the asset has neither price_feed nor peg (or is not
	// configured).
	ErrNoSource = errors.New("no exchange rate source")
	// ErrNoRate: the feed has given no round the rules take since start.
	ErrNoRate = errors.New("no exchange rate")
	// ErrRateTooOld: the last good round is older than max_rate_age.
	ErrRateTooOld = errors.New("exchange rate too old")
	ErrBadOptions = errors.New("pricefeed: bad options")

	errNoCaller = errors.New("no chain endpoints to read the feed from (chain.rpc)")
)

// notRunning is a read of a feed whose network has no chain client now.
func notRunning(s Source) error {
	return fmt.Errorf("network %s (chain %d) is not running: no chain client to read the feed from", s.Network, s.ChainID)
}

// Reasons a round is refused (Status.Refused, the log's "reason").
const (
	ReasonNoUpdate        = "no_update"
	ReasonIncompleteRound = "incomplete_round"
	ReasonAnswerZero      = "answer_zero"
	ReasonAnswerNegative  = "answer_negative"
	ReasonFutureRound     = "future_round"
	ReasonStaleRound      = "stale_round"
	ReasonBadDecimals     = "bad_decimals"
)

// Why Latest answers no rate (Status.Unusable).
const (
	UnusableNoRate     = "no_rate"
	UnusableRateTooOld = "rate_too_old"
)

// SourcePeg is a pegged Quote's Source.
const SourcePeg = "peg"

// maxDecimals bounds a feed's decimals(): Chainlink's have 8 or 18.
const maxDecimals = 36

// Quote is a price of ONE whole unit of an asset in the shop's currency:
// Answer / 10^Decimals, exactly as the feed (or the peg) gives it.
type Quote struct {
	Symbol   string
	Currency string // ISO 4217, terminal.currency
	Answer   *big.Int
	Decimals uint8
	// RoundID is the feed's round; nil for a peg.
	RoundID *big.Int
	// UpdatedAt is the round's updatedAt (whole seconds); zero for a peg,
	// which never ages.
	UpdatedAt time.Time
	// Source is "chainlink:0x<feed address, checksummed>" or "peg".
	Source string
}

// Source is where one asset's rate comes from: a feed (Feed with
// Heartbeat and MaxRateAge, on the chain ChainID) or a peg (PegAnswer /
// 10^PegDecimals).
type Source struct {
	Symbol   string
	Currency string
	// ChainID is the chain the feed is read on (Options.Caller's
	// argument), Network the config's name for it (for messages); a peg
	// needs neither.
	ChainID     uint64
	Network     string
	Feed        common.Address
	Heartbeat   time.Duration
	MaxRateAge  time.Duration
	PegAnswer   *big.Int
	PegDecimals uint8
}

func (s Source) pegged() bool { return s.PegAnswer != nil }

// name is the Source of its quotes.
func (s Source) name() string {
	if s.pegged() {
		return SourcePeg
	}
	return "chainlink:" + s.Feed.Hex()
}

// sameOrigin reports whether s and o give the same rounds: the same feed
// on the same chain (or peg) in the same currency. Heartbeat, MaxRateAge
// and the network's name may differ.
func (s Source) sameOrigin(o Source) bool {
	if s.Currency != o.Currency || s.Feed != o.Feed || (!s.pegged() && s.ChainID != o.ChainID) || s.PegDecimals != o.PegDecimals || s.pegged() != o.pegged() {
		return false
	}
	return !s.pegged() || s.PegAnswer.Cmp(o.PegAnswer) == 0
}

func (s Source) check() error {
	switch {
	case s.Symbol == "":
		return fmt.Errorf("%w: a source without a symbol", ErrBadOptions)
	case s.Currency == "":
		return fmt.Errorf("%w: %s: no currency", ErrBadOptions, s.Symbol)
	case s.pegged() && s.Feed != (common.Address{}):
		return fmt.Errorf("%w: %s: both a feed and a peg", ErrBadOptions, s.Symbol)
	case s.pegged() && s.PegAnswer.Sign() <= 0:
		return fmt.Errorf("%w: %s: a peg of %s", ErrBadOptions, s.Symbol, s.PegAnswer)
	case !s.pegged() && s.Feed == (common.Address{}):
		return fmt.Errorf("%w: %s: neither a feed nor a peg", ErrBadOptions, s.Symbol)
	case !s.pegged() && s.ChainID == 0:
		return fmt.Errorf("%w: %s: a feed on no chain", ErrBadOptions, s.Symbol)
	case !s.pegged() && (s.Heartbeat <= 0 || s.MaxRateAge < s.Heartbeat):
		return fmt.Errorf("%w: %s: heartbeat %s, max rate age %s", ErrBadOptions, s.Symbol, s.Heartbeat, s.MaxRateAge)
	}
	return nil
}

// SourcesOf returns the sources the config names: one per symbol with a
// price_feed or peg on some network, in file order, its feed read on that
// network's chain. A symbol priced on several networks (USDC on two, each
// with its own price_feed) is priced once, from the first network in
// config order that prices it (the default network first): a rate is of
// the symbol in the shop's currency, the same on every network, and the
// till asks it by symbol.
func SourcesOf(cfg *config.Config) []Source {
	var out []Source
	seen := map[string]bool{}
	for _, n := range cfg.Networks {
		for _, a := range n.Assets {
			p, key := a.Price, strings.ToUpper(a.Symbol)
			if !p.Priced() || seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, Source{Symbol: a.Symbol, Currency: cfg.Terminal.Currency, ChainID: n.ChainID, Network: n.Name, Feed: p.Feed,
				Heartbeat: p.Heartbeat, MaxRateAge: p.MaxRateAge, PegAnswer: p.PegAnswer, PegDecimals: p.PegDecimals})
		}
	}
	return out
}

// Options configure New.
type Options struct {
	// Caller returns the chain access of a feed's network, by its chain
	// id, at every read: nil there (that network is not running now), the
	// feed has no new rate and its Status says why. A nil Caller (a
	// terminal with no chain.rpc): no feed has a rate, and pegs answer.
	Caller  func(chainID uint64) Caller
	Sources []Source
	// Every is the pause between two reads of every feed; 0 means 30 s.
	Every time.Duration
	// MaxSkew is how far in the future (by Clock) a round's updatedAt may
	// be; 0 means a minute.
	MaxSkew time.Duration
	Clock   clock.Clock // nil: clock.System
	Logger  *slog.Logger
}

// Rates keeps each asset's rate. Its methods are safe for concurrent use;
// Run owns the reading.
type Rates struct {
	o    Options
	read *reader

	mu    sync.Mutex
	feeds map[string]*feed // upper-case symbol → state
	order []string         // upper-case symbols, in source order
}

// feed is one source's state. Guarded by Rates.mu.
type feed struct {
	src      Source
	decimals uint8
	known    bool   // decimals was read
	good     *Quote // the last round taken; nil: none

	refused      string // reason the last round read was refused; "" if taken
	refusedRound *big.Int
	refusedAt    time.Time
	refusals     uint64
	lastRead     time.Time // the feed last answered
	err          string    // the last read's error
}

// New returns Rates for the sources; nothing is read until Refresh or Run.
func New(o Options) (*Rates, error) {
	if o.Every <= 0 {
		o.Every = 30 * time.Second
	}
	if o.MaxSkew <= 0 {
		o.MaxSkew = time.Minute
	}
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	rd, err := newReader()
	if err != nil {
		return nil, err
	}
	r := &Rates{o: o, read: rd}
	if err := r.Reconfigure(o.Sources); err != nil {
		return nil, err
	}
	r.o.Sources = nil
	return r, nil
}

// Reconfigure takes new sources (a fleet bundle changed the assets or the
// currency). A source with the same symbol, feed (or peg) and currency as
// before keeps its last good round and history, under its new heartbeat and
// max rate age; any other starts afresh. On an error nothing changes.
func (r *Rates) Reconfigure(sources []Source) error {
	next := make(map[string]*feed, len(sources))
	order := make([]string, 0, len(sources))
	for _, s := range sources {
		if err := s.check(); err != nil {
			return err
		}
		key := strings.ToUpper(s.Symbol)
		if next[key] != nil {
			return fmt.Errorf("%w: %s appears twice", ErrBadOptions, s.Symbol)
		}
		next[key] = &feed{src: s}
		order = append(order, key)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, f := range next {
		if old := r.feeds[key]; old != nil && old.src.sameOrigin(f.src) {
			old.src = f.src
			next[key] = old
		}
	}
	r.feeds, r.order = next, order
	return nil
}

// Run reads every feed at once, then every Options.Every, until ctx ends.
func (r *Rates) Run(ctx context.Context) {
	for {
		r.Refresh(ctx)
		if err := clock.Sleep(ctx, r.o.Every); err != nil {
			return
		}
	}
}

// Refresh reads every feed once and keeps what the rules take. A feed that
// does not answer keeps its last good round; the error is in Status.
func (r *Rates) Refresh(ctx context.Context) {
	r.mu.Lock()
	var todo []*feed
	for _, key := range r.order {
		if f := r.feeds[key]; !f.src.pegged() {
			todo = append(todo, f)
		}
	}
	r.mu.Unlock()
	for _, f := range todo {
		if ctx.Err() != nil {
			return
		}
		r.refresh(ctx, f)
	}
}

// refresh reads one feed. f may have been replaced by Reconfigure
// meanwhile: its state is then no one's and updating it is harmless.
func (r *Rates) refresh(ctx context.Context, f *feed) {
	r.mu.Lock()
	src, decimals, known := f.src, f.decimals, f.known
	r.mu.Unlock()
	if r.o.Caller == nil {
		r.failed(ctx, f, errNoCaller)
		return
	}
	c := r.o.Caller(src.ChainID)
	if c == nil {
		r.failed(ctx, f, notRunning(src))
		return
	}
	if !known {
		d, err := r.read.Decimals(ctx, c, src.Feed)
		if err != nil {
			r.failed(ctx, f, err)
			return
		}
		if d > maxDecimals {
			r.mu.Lock()
			f.lastRead, f.err = r.o.Clock.Now(), ""
			r.refuse(f, ReasonBadDecimals, nil, fmt.Sprintf("decimals() = %d, more than %d", d, maxDecimals))
			r.mu.Unlock()
			return
		}
		decimals = d
		r.mu.Lock()
		f.decimals, f.known = d, true
		r.mu.Unlock()
	}
	rd, err := r.read.Latest(ctx, c, src.Feed)
	if err != nil {
		r.failed(ctx, f, err)
		return
	}
	now := r.o.Clock.Now()
	reason, detail := judge(rd, src, now, r.o.MaxSkew)

	r.mu.Lock()
	defer r.mu.Unlock()
	f.lastRead, f.err = now, ""
	if reason != "" {
		r.refuse(f, reason, rd.RoundID, detail)
		return
	}
	at := time.Unix(rd.UpdatedAt.Int64(), 0)
	if f.good != nil && at.Before(f.good.UpdatedAt) {
		r.o.Logger.Debug("price feed: a round older than the one kept, ignored", "asset", src.Symbol,
			"round", rd.RoundID, "updated_at", at, "kept_round", f.good.RoundID)
		return
	}
	if f.good == nil || f.refused != "" {
		r.o.Logger.Info("price feed: rate taken", "asset", src.Symbol, "currency", src.Currency, "network", src.Network, "feed", src.Feed.Hex(),
			"price", decimalString(rd.Answer, decimals), "round", rd.RoundID, "updated_at", at)
	}
	f.refused, f.refusedRound, f.refusedAt = "", nil, time.Time{}
	f.good = &Quote{Symbol: src.Symbol, Currency: src.Currency, Answer: rd.Answer, Decimals: decimals,
		RoundID: rd.RoundID, UpdatedAt: at, Source: src.name()}
}

// judge applies the rules to a round read at now; it returns the reason it
// is refused and why in words, or "".
func judge(rd Round, src Source, now time.Time, skew time.Duration) (reason, detail string) {
	switch {
	case rd.UpdatedAt.Sign() == 0:
		return ReasonNoUpdate, "updatedAt is zero"
	case rd.AnsweredInRound.Cmp(rd.RoundID) < 0:
		return ReasonIncompleteRound, fmt.Sprintf("answeredInRound %s < roundId %s", rd.AnsweredInRound, rd.RoundID)
	case rd.Answer.Sign() == 0:
		return ReasonAnswerZero, "answer is zero"
	case rd.Answer.Sign() < 0:
		return ReasonAnswerNegative, fmt.Sprintf("answer %s is negative", rd.Answer)
	}
	latest := now.Add(skew)
	if !rd.UpdatedAt.IsInt64() || rd.UpdatedAt.Int64() > latest.Unix() {
		return ReasonFutureRound, fmt.Sprintf("updatedAt %s is after now (%d) + %s", rd.UpdatedAt, now.Unix(), skew)
	}
	if age := now.Sub(time.Unix(rd.UpdatedAt.Int64(), 0)); age > src.Heartbeat {
		return ReasonStaleRound, fmt.Sprintf("updated %s ago, heartbeat %s", age.Round(time.Second), src.Heartbeat)
	}
	return "", ""
}

// refuse records a refused round; logged once per round and reason. r.mu
// is held.
func (r *Rates) refuse(f *feed, reason string, round *big.Int, detail string) {
	same := f.refused == reason && (f.refusedRound == nil) == (round == nil) && (round == nil || round.Cmp(f.refusedRound) == 0)
	f.refused, f.refusedRound, f.refusedAt = reason, round, r.o.Clock.Now()
	if same {
		return
	}
	f.refusals++
	r.o.Logger.Warn("price feed: round refused, the last good rate is kept", "asset", f.src.Symbol, "network", f.src.Network, "feed", f.src.Feed.Hex(),
		"reason", reason, "round", round, "detail", detail)
}

// failed records a read that got no answer (offline, a node error, not a
// feed); a changed error is logged once.
func (r *Rates) failed(ctx context.Context, f *feed, err error) {
	if ctx.Err() != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if f.err != err.Error() {
		r.o.Logger.Warn("price feed: not read, the last good rate is kept", "asset", f.src.Symbol, "network", f.src.Network, "feed", f.src.Feed.Hex(), "err", err)
	}
	f.err = err.Error()
}

// Latest returns the asset's rate now: a peg, or the feed's last good round
// while it is at most max_rate_age old. Errors wrap ErrNoSource, ErrNoRate
// or ErrRateTooOld and say why.
func (r *Rates) Latest(symbol string) (Quote, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.feeds[strings.ToUpper(symbol)]
	if f == nil {
		return Quote{}, fmt.Errorf("%s: %w", symbol, ErrNoSource)
	}
	q, _, err := r.latest(f, r.o.Clock.Now())
	return q, err
}

// latest is Latest for f at now, with Status's code for the error. r.mu is
// held.
func (r *Rates) latest(f *feed, now time.Time) (Quote, string, error) {
	s := f.src
	if s.pegged() {
		return Quote{Symbol: s.Symbol, Currency: s.Currency, Answer: new(big.Int).Set(s.PegAnswer),
			Decimals: s.PegDecimals, Source: SourcePeg}, "", nil
	}
	if f.good == nil {
		why := "not read yet"
		switch {
		case f.refused != "":
			why = "the last round was refused: " + f.refused
		case f.err != "":
			why = "the feed did not answer: " + f.err
		}
		return Quote{}, UnusableNoRate, fmt.Errorf("%s in %s from %s: %w (%s)", s.Symbol, s.Currency, s.name(), ErrNoRate, why)
	}
	if age := now.Sub(f.good.UpdatedAt); age > s.MaxRateAge {
		return Quote{}, UnusableRateTooOld, fmt.Errorf("%s in %s from %s: %w: round %s is %s old, max_rate_age %s", s.Symbol, s.Currency, s.name(),
			ErrRateTooOld, f.good.RoundID, age.Round(time.Second), s.MaxRateAge)
	}
	q := *f.good
	q.Answer, q.RoundID = new(big.Int).Set(q.Answer), new(big.Int).Set(q.RoundID)
	return q, "", nil
}

// Status is one source's state, for /v1/status. Its JSON is public API.
type Status struct {
	Symbol   string `json:"symbol"`
	Currency string `json:"currency"`
	// Network and ChainID name the network a feed is read on (none for a
	// peg).
	Network string `json:"network,omitempty"`
	ChainID uint64 `json:"chainId,omitempty"`
	Source  string `json:"source"` // "chainlink:0x…" or "peg"
	// Usable: Latest answers a rate now. Unusable says why not:
	// "no_rate" (no good round since start) or "rate_too_old" (older than
	// max_rate_age).
	Usable   bool   `json:"usable"`
	Unusable string `json:"unusable,omitempty"`
	// The last good round (a peg's value): Price = Answer / 10^Decimals.
	Price     string    `json:"price,omitempty"`
	Answer    string    `json:"answer,omitempty"`
	Decimals  uint8     `json:"decimals"`
	RoundID   string    `json:"roundId,omitempty"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
	// HeartbeatSeconds and MaxRateAgeSeconds are the source's limits (0
	// for a peg).
	HeartbeatSeconds  float64 `json:"heartbeatSeconds,omitempty"`
	MaxRateAgeSeconds float64 `json:"maxRateAgeSeconds,omitempty"`
	// Refused is why the last round read was not used (a Reason*
	// constant), RefusedRound that round and RefusedAt when; empty once
	// a round is taken. Refusals counts refused rounds since start.
	Refused      string    `json:"refused,omitempty"`
	RefusedRound string    `json:"refusedRound,omitempty"`
	RefusedAt    time.Time `json:"refusedAt,omitzero"`
	Refusals     uint64    `json:"refusals"`
	// LastRead is when the feed last answered; Error is the last read's
	// error ("" when it answered).
	LastRead time.Time `json:"lastRead,omitzero"`
	Error    string    `json:"error,omitempty"`
}

// Status returns every source's state, in source order.
func (r *Rates) Status() []Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.o.Clock.Now()
	out := make([]Status, 0, len(r.order))
	for _, key := range r.order {
		f := r.feeds[key]
		s := f.src
		st := Status{Symbol: s.Symbol, Currency: s.Currency, Source: s.name(), Refused: f.refused,
			RefusedAt: f.refusedAt, Refusals: f.refusals, LastRead: f.lastRead, Error: f.err,
			HeartbeatSeconds: s.Heartbeat.Seconds(), MaxRateAgeSeconds: s.MaxRateAge.Seconds()}
		if !s.pegged() {
			st.Network, st.ChainID = s.Network, s.ChainID
		}
		if f.refusedRound != nil {
			st.RefusedRound = f.refusedRound.String()
		}
		_, st.Unusable, _ = r.latest(f, now)
		st.Usable = st.Unusable == ""
		switch {
		case s.pegged():
			st.Answer, st.Decimals, st.Price = s.PegAnswer.String(), s.PegDecimals, decimalString(s.PegAnswer, s.PegDecimals)
		case f.good != nil:
			g := f.good
			st.Answer, st.Decimals, st.Price = g.Answer.String(), g.Decimals, decimalString(g.Answer, g.Decimals)
			st.RoundID, st.UpdatedAt = g.RoundID.String(), g.UpdatedAt
		default:
			st.Decimals = f.decimals
		}
		out = append(out, st)
	}
	return out
}

// decimalString is v / 10^decimals written out exactly ("3000.00000000").
func decimalString(v *big.Int, decimals uint8) string {
	return new(big.Rat).SetFrac(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)).FloatString(int(decimals))
}
