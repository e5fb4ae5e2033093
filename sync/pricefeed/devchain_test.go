package pricefeed_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/device/clock/clocktest"
	"showpos/sync/chain"
	"showpos/sync/pricefeed"
	"showpos/terminal/config/configtest"
	"showpos/tools/devchain"
)

// logBuffer collects log lines for a test to read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startChain starts a dev chain and a chain client of it for one test.
func startChain(t *testing.T) (*devchain.Chain, *chain.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dc, err := devchain.Start(ctx, devchain.Options{Payers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	c, err := chain.New(chain.Options{Endpoints: []string{dc.Endpoint()}, ChainID: configtest.ChainID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return dc, c
}

var ethUSD = devchain.FeedETHUSD

// ethSource is the dev chain's ETH / USD feed with a 1 h heartbeat, used
// for 75 minutes.
func ethSource() pricefeed.Source {
	return pricefeed.Source{Symbol: "ETH", Currency: "USD", ChainID: configtest.ChainID, Feed: ethUSD.Address, Heartbeat: time.Hour, MaxRateAge: 75 * time.Minute}
}

func newRates(t *testing.T, c pricefeed.Caller, clk *clocktest.Fake, log *logBuffer, sources ...pricefeed.Source) *pricefeed.Rates {
	t.Helper()
	o := pricefeed.Options{Sources: sources, Clock: clk}
	if c != nil {
		o.Caller = func(uint64) pricefeed.Caller { return c }
	}
	if log != nil {
		o.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	r, err := pricefeed.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func setRound(t *testing.T, dc *devchain.Chain, r devchain.FeedRound) {
	t.Helper()
	if err := dc.SetFeedRound(context.Background(), ethUSD.Address, r); err != nil {
		t.Fatal(err)
	}
}

func unix(tm time.Time) uint64 { return uint64(tm.Unix()) }

// Every rule on the real chain: a good round is taken; then a round the
// rules refuse changes nothing (the good one is still the rate), is shown
// in Status with its reason, and logged once with it. The boundaries are
// taken: a round exactly a heartbeat old, one a skew ahead.
func TestRefusedRoundsKeepTheLastGoodRate(t *testing.T) {
	dc, c := startChain(t)
	now := time.Unix(time.Now().Unix()+3600, 0) // the terminal's clock, whole seconds
	for i, tc := range []struct {
		name   string
		round  func(id uint64) devchain.FeedRound
		reason string // "" the round is taken
	}{
		{"a zero answer", func(id uint64) devchain.FeedRound {
			return devchain.FeedRound{RoundID: id, Answer: big.NewInt(0), StartedAt: unix(now), UpdatedAt: unix(now), AnsweredInRound: id}
		}, pricefeed.ReasonAnswerZero},
		{"a negative answer", func(id uint64) devchain.FeedRound {
			return devchain.FeedRound{RoundID: id, Answer: big.NewInt(-1), StartedAt: unix(now), UpdatedAt: unix(now), AnsweredInRound: id}
		}, pricefeed.ReasonAnswerNegative},
		{"a round never updated", func(id uint64) devchain.FeedRound {
			return devchain.FeedRound{RoundID: id, Answer: big.NewInt(3000_00000000), AnsweredInRound: id}
		}, pricefeed.ReasonNoUpdate},
		{"a round a second older than the heartbeat", func(id uint64) devchain.FeedRound {
			at := unix(now.Add(-time.Hour - time.Second))
			return devchain.FeedRound{RoundID: id, Answer: big.NewInt(3000_00000000), StartedAt: at, UpdatedAt: at, AnsweredInRound: id}
		}, pricefeed.ReasonStaleRound},
		{"an incomplete round (answeredInRound < roundId)", func(id uint64) devchain.FeedRound {
			return devchain.FeedRound{RoundID: id, Answer: big.NewInt(3000_00000000), StartedAt: unix(now), UpdatedAt: unix(now), AnsweredInRound: id - 1}
		}, pricefeed.ReasonIncompleteRound},
		{"a round from more than a minute ahead", func(id uint64) devchain.FeedRound {
			at := unix(now.Add(time.Minute + time.Second))
			return devchain.FeedRound{RoundID: id, Answer: big.NewInt(3000_00000000), StartedAt: at, UpdatedAt: at, AnsweredInRound: id}
		}, pricefeed.ReasonFutureRound},
		{"a round exactly a heartbeat old is taken", func(id uint64) devchain.FeedRound {
			at := unix(now.Add(-time.Hour))
			return devchain.FeedRound{RoundID: id, Answer: big.NewInt(2999_00000000), StartedAt: at, UpdatedAt: at, AnsweredInRound: id}
		}, ""},
		{"a round a minute ahead is taken", func(id uint64) devchain.FeedRound {
			at := unix(now.Add(time.Minute))
			return devchain.FeedRound{RoundID: id, Answer: big.NewInt(3001_00000000), StartedAt: at, UpdatedAt: at, AnsweredInRound: id}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			goodID, nextID := uint64(10*i+1), uint64(10*i+2)
			// The good round is older than any taken case's, so a taken
			// round replaces it.
			goodAt := unix(now.Add(-time.Hour - 30*time.Second))
			setRound(t, dc, devchain.FeedRound{RoundID: goodID, Answer: big.NewInt(2500_00000000), StartedAt: goodAt, UpdatedAt: goodAt, AnsweredInRound: goodID})
			clk := clocktest.NewFake(now.Add(-time.Minute)) // the good round is then 59m30s old
			var log logBuffer
			r := newRates(t, c, clk, &log, ethSource())
			r.Refresh(context.Background())
			if q, err := r.Latest("ETH"); err != nil || q.RoundID.Uint64() != goodID {
				t.Fatalf("the good round: %+v, %v", q, err)
			}

			clk.Set(now)
			setRound(t, dc, tc.round(nextID))
			r.Refresh(context.Background())
			r.Refresh(context.Background()) // the same round again: logged once
			q, err := r.Latest("ETH")
			if err != nil {
				t.Fatalf("Latest: %v", err)
			}
			st := r.Status()[0]
			if tc.reason == "" {
				want := tc.round(nextID)
				if q.RoundID.Uint64() != nextID || q.Answer.Cmp(want.Answer) != 0 || q.UpdatedAt.Unix() != int64(want.UpdatedAt) {
					t.Fatalf("Latest = %+v, want round %d taken", q, nextID)
				}
				if st.Refused != "" || st.Refusals != 0 || !st.Usable || strings.Contains(log.String(), "refused") {
					t.Fatalf("a taken round shows as refused: %+v\n%s", st, log.String())
				}
				return
			}
			if q.RoundID.Uint64() != goodID || q.Answer.Int64() != 2500_00000000 {
				t.Fatalf("Latest = round %s answering %s: want the good round %d kept", q.RoundID, q.Answer, goodID)
			}
			if st.Refused != tc.reason || st.RefusedRound != big.NewInt(int64(nextID)).String() || st.Refusals != 1 || !st.Usable || st.RoundID != big.NewInt(int64(goodID)).String() {
				t.Fatalf("Status = %+v, want refused %s (round %d) once, round %d usable", st, tc.reason, nextID, goodID)
			}
			if n := strings.Count(log.String(), "reason="+tc.reason); n != 1 {
				t.Fatalf("the refusal is logged %d times, want once:\n%s", n, log.String())
			}
		})
	}
}

// The last good rate is used for max_rate_age from its updatedAt, the
// chain reachable or not, and not a second longer.
func TestTheLastRateIsUsedUpToMaxRateAge(t *testing.T) {
	dc, c := startChain(t)
	updated := dc.FeedsStarted() // round 1, from genesis
	clk := clocktest.NewFake(updated.Add(10 * time.Second))
	r := newRates(t, c, clk, nil, ethSource())
	r.Refresh(context.Background())
	q, err := r.Latest("eth") // symbols are case-insensitive
	want := pricefeed.Quote{Symbol: "ETH", Currency: "USD", Answer: big.NewInt(ethUSD.Answer), Decimals: 8, RoundID: big.NewInt(1),
		UpdatedAt: updated, Source: "chainlink:" + ethUSD.Address.Hex()}
	if err != nil || q.Symbol != want.Symbol || q.Currency != want.Currency || q.Answer.Cmp(want.Answer) != 0 || q.Decimals != want.Decimals ||
		q.RoundID.Cmp(want.RoundID) != 0 || !q.UpdatedAt.Equal(want.UpdatedAt) || q.Source != want.Source {
		t.Fatalf("Latest = %+v, %v\nwant %+v", q, err, want)
	}
	if q.Source != "chainlink:0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" {
		t.Fatalf("Source %q", q.Source)
	}

	dc.Close() // offline from here
	r.Refresh(context.Background())
	if st := r.Status()[0]; st.Error == "" || !st.Usable {
		t.Fatalf("offline: %+v, want the read's error and the rate usable", st)
	}
	for _, tc := range []struct {
		age    time.Duration
		usable bool
	}{
		{time.Hour, true},
		{75 * time.Minute, true},
		{75*time.Minute + time.Second, false},
	} {
		clk.Set(updated.Add(tc.age))
		q, err := r.Latest("ETH")
		st := r.Status()[0]
		if tc.usable {
			if err != nil || q.RoundID.Int64() != 1 || !st.Usable || st.Unusable != "" {
				t.Errorf("%s old: %v, %+v; want the rate", tc.age, err, st)
			}
			continue
		}
		if !errors.Is(err, pricefeed.ErrRateTooOld) || !strings.Contains(err.Error(), "max_rate_age 1h15m0s") {
			t.Errorf("%s old: %v, want ErrRateTooOld naming max_rate_age", tc.age, err)
		}
		if st.Usable || st.Unusable != pricefeed.UnusableRateTooOld || st.Price != "3000.00000000" {
			t.Errorf("%s old: Status %+v, want rate_too_old with the last price shown", tc.age, st)
		}
	}
}

// A new round posted to the feed (updateAnswer, as a feed's transmission)
// is the rate from the next read on.
func TestANewRoundIsPickedUp(t *testing.T) {
	dc, c := startChain(t)
	clk := clocktest.NewFake(time.Now())
	r := newRates(t, c, clk, nil, ethSource())
	r.Refresh(context.Background())
	if err := dc.UpdateFeedAnswer(context.Background(), ethUSD.Address, big.NewInt(3123_45678900)); err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Now())
	r.Refresh(context.Background())
	q, err := r.Latest("ETH")
	if err != nil || q.RoundID.Int64() != 2 || q.Answer.Int64() != 3123_45678900 {
		t.Fatalf("Latest = %+v, %v; want round 2 at 3123.456789", q, err)
	}
	if st := r.Status()[0]; st.Price != "3123.45678900" || st.RoundID != "2" || st.Decimals != 8 || st.LastRead.IsZero() || st.Error != "" {
		t.Fatalf("Status = %+v", st)
	}
}

// Before any good round there is no rate, and Latest says why; an
// address that is not a feed is an error in Status, not a rate.
func TestNoRateUntilAGoodRound(t *testing.T) {
	dc, c := startChain(t)
	clk := clocktest.NewFake(dc.FeedsStarted())
	notFeed := common.HexToAddress("0x000000000000000000000000000000000000bEEF") // no code
	r := newRates(t, c, clk, nil,
		ethSource(),
		pricefeed.Source{Symbol: "TUSD", Currency: "USD", ChainID: configtest.ChainID, Feed: devchain.TokenAddr, Heartbeat: time.Hour, MaxRateAge: time.Hour},
		pricefeed.Source{Symbol: "XYZ", Currency: "USD", ChainID: configtest.ChainID, Feed: notFeed, Heartbeat: time.Hour, MaxRateAge: time.Hour})
	if _, err := r.Latest("ETH"); !errors.Is(err, pricefeed.ErrNoRate) || !strings.Contains(err.Error(), "not read yet") {
		t.Fatalf("before any read: %v", err)
	}
	setRound(t, dc, devchain.FeedRound{RoundID: 2, Answer: big.NewInt(-3), StartedAt: unix(clk.Now()), UpdatedAt: unix(clk.Now()), AnsweredInRound: 2})
	r.Refresh(context.Background())
	if _, err := r.Latest("ETH"); !errors.Is(err, pricefeed.ErrNoRate) || !strings.Contains(err.Error(), "answer_negative") {
		t.Fatalf("after a refused first round: %v", err)
	}
	for i, sym := range []string{"TUSD", "XYZ"} {
		if _, err := r.Latest(sym); !errors.Is(err, pricefeed.ErrNoRate) || !strings.Contains(err.Error(), "did not answer") {
			t.Errorf("%s (not a feed): %v", sym, err)
		}
		if st := r.Status()[i+1]; st.Usable || st.Unusable != pricefeed.UnusableNoRate || st.Error == "" {
			t.Errorf("%s status %+v", sym, st)
		}
	}
	if _, err := r.Latest("DAI"); !errors.Is(err, pricefeed.ErrNoSource) {
		t.Fatalf("an asset without a source: %v", err)
	}
}

// A peg answers always, needs no chain, and never ages.
func TestAPegAnswersAlways(t *testing.T) {
	clk := clocktest.NewFake(time.Unix(0, 0))
	r := newRates(t, nil, clk, nil, pricefeed.Source{Symbol: "USDC", Currency: "USD", PegAnswer: big.NewInt(1), PegDecimals: 0})
	r.Refresh(context.Background())
	for _, at := range []time.Time{time.Unix(0, 0), time.Unix(4_000_000_000, 0)} {
		clk.Set(at)
		q, err := r.Latest("USDC")
		if err != nil || q.Answer.Int64() != 1 || q.Decimals != 0 || q.Source != pricefeed.SourcePeg || !q.UpdatedAt.IsZero() || q.RoundID != nil {
			t.Fatalf("at %v: %+v, %v", at, q, err)
		}
	}
	if st := r.Status()[0]; !st.Usable || st.Price != "1" || st.Source != "peg" {
		t.Fatalf("Status %+v", st)
	}
}

// A round older than the one kept (a node behind the others answered) is
// not taken: the rate never goes back in time.
func TestAnOlderRoundDoesNotReplaceANewerOne(t *testing.T) {
	dc, c := startChain(t)
	now := time.Unix(time.Now().Unix(), 0)
	clk := clocktest.NewFake(now)
	r := newRates(t, c, clk, nil, ethSource())
	setRound(t, dc, devchain.FeedRound{RoundID: 5, Answer: big.NewInt(3000_00000000), StartedAt: unix(now), UpdatedAt: unix(now), AnsweredInRound: 5})
	r.Refresh(context.Background())
	older := unix(now.Add(-10 * time.Second))
	setRound(t, dc, devchain.FeedRound{RoundID: 4, Answer: big.NewInt(2000_00000000), StartedAt: older, UpdatedAt: older, AnsweredInRound: 4})
	r.Refresh(context.Background())
	if q, err := r.Latest("ETH"); err != nil || q.RoundID.Int64() != 5 {
		t.Fatalf("Latest = %+v, %v; want round 5 kept", q, err)
	}
	if st := r.Status()[0]; st.Refused != "" || st.Refusals != 0 {
		t.Fatalf("an older round is not a refusal: %+v", st)
	}
}

// A fleet bundle's new sources: the same feed keeps its rate under new
// limits, another feed or currency starts afresh, a removed asset has no
// source, a bad set changes nothing.
func TestReconfigure(t *testing.T) {
	dc, c := startChain(t)
	clk := clocktest.NewFake(dc.FeedsStarted().Add(50 * time.Minute))
	r := newRates(t, c, clk, nil, ethSource())
	r.Refresh(context.Background())

	longer := ethSource()
	longer.MaxRateAge = 2 * time.Hour
	if err := r.Reconfigure([]pricefeed.Source{longer}); err != nil {
		t.Fatal(err)
	}
	clk.Set(dc.FeedsStarted().Add(90 * time.Minute)) // past 75m, within 2h
	if q, err := r.Latest("ETH"); err != nil || q.RoundID.Int64() != 1 {
		t.Fatalf("same feed, longer max_rate_age: %+v, %v", q, err)
	}
	bad := []pricefeed.Source{longer, longer}
	if err := r.Reconfigure(bad); !errors.Is(err, pricefeed.ErrBadOptions) {
		t.Fatalf("a symbol twice: %v", err)
	}
	if _, err := r.Latest("ETH"); err != nil {
		t.Fatalf("a refused Reconfigure changed the rates: %v", err)
	}
	eur := longer
	eur.Currency, eur.Feed = "EUR", devchain.FeedETHEUR.Address
	if err := r.Reconfigure([]pricefeed.Source{eur}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Latest("ETH"); !errors.Is(err, pricefeed.ErrNoRate) {
		t.Fatalf("another feed and currency: %v, want no rate until it is read", err)
	}
	clk.Set(dc.FeedsStarted().Add(time.Minute))
	r.Refresh(context.Background())
	if q, err := r.Latest("ETH"); err != nil || q.Currency != "EUR" || q.Answer.Int64() != devchain.FeedETHEUR.Answer {
		t.Fatalf("ETH / EUR: %+v, %v", q, err)
	}
	if err := r.Reconfigure(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Latest("ETH"); !errors.Is(err, pricefeed.ErrNoSource) || len(r.Status()) != 0 {
		t.Fatalf("no sources: %v, %d statuses", err, len(r.Status()))
	}
}
