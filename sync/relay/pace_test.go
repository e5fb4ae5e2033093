package relay

import (
	"context"
	"errors"
	"math/big"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// roundCounter is the real Chain with a count of rounds: each round
// starts with one NonceAt at "latest", and nothing else asks for it.
type roundCounter struct {
	Chain
	n atomic.Int64
}

func (c *roundCounter) NonceAt(ctx context.Context, addr common.Address, block string) (uint64, error) {
	if block == "latest" {
		c.n.Add(1)
	}
	return c.Chain.NonceAt(ctx, addr, block)
}

// run starts r.Run and returns a stop that cancels it and checks it
// returned with its context.
func run(t *testing.T, ctx context.Context, r *Relayer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return func() {
		t.Helper()
		cancel()
		if err := <-done; err != ctx.Err() {
			t.Errorf("Run returned %v, want its context's %v", err, ctx.Err())
		}
	}
}

// A terminal back online with a backlog settles it at the chain's pace:
// with Every an hour and no Kick, 100 authorizations go out MaxInFlight
// (16) at a time, each round following the one before as soon as its
// sends can be mined, until all are confirmed, in acceptance order, each
// by one transaction. Once nothing waits to be mined, Run is back to one
// round per Every. Before the follow-up, the first 16 settled and the
// rest waited an hour.
func TestBacklogDrainsWithoutWaitingForThePoll(t *testing.T) {
	const n = 100
	e := newEnv(t)
	var auths []Authorization
	for i := range n {
		auths = append(auths, e.auth(i%3, int64(1_000+i)))
	}
	j := newMemJournal(auths...)
	rc := &roundCounter{Chain: e.c}
	const followUp = 10 * time.Millisecond
	r := e.relayer(j, func(o *Options) {
		o.Chain, o.Every, o.FollowUp, o.MaxInFlight = rc, time.Hour, followUp, 16
	})
	before := e.tokenBalance(merchant)
	stop := run(t, e.ctx, r)
	defer stop()

	for confirmed := 0; confirmed < n; {
		confirmed = 0
		for _, a := range auths {
			if len(j.states(a.ID)) > 0 {
				confirmed++
			}
		}
		select {
		case <-e.ctx.Done():
			t.Fatalf("%d of %d confirmed after %d rounds; the rest wait for the hour's poll", confirmed, n, rc.n.Load())
		case <-time.After(5 * time.Millisecond):
		}
	}
	rounds := rc.n.Load()
	for i, a := range auths {
		// Early ones may be final already (FinalDepth 3, later blocks).
		if got := j.states(a.ID); !slices.Equal(got, []string{"confirmed"}) && !slices.Equal(got, []string{"confirmed", "final"}) {
			t.Fatalf("%s: outcomes %q, want confirmed (then final)", a.ID, got)
		}
		if c := j.carrying(a.ID); len(c) != 1 || c[0].Nonce != uint64(i) || len(c[0].Hashes) != 1 {
			t.Fatalf("%s (accepted %d.) carried by %+v, want one transaction at nonce %d", a.ID, i, c, i)
		}
	}
	if got := e.minedNonce(); got != n {
		t.Fatalf("relayer's mined nonce %d, want %d: one transaction per authorization", got, n)
	}
	var sum int64
	for i := range n {
		sum += int64(1_000 + i)
	}
	if got := new(big.Int).Sub(e.tokenBalance(merchant), before); got.Int64() != sum {
		t.Fatalf("merchant got %s units, want %d", got, sum)
	}
	t.Logf("%d settlements in %d rounds", n, rounds)
	if rounds < (n+15)/16 {
		t.Fatalf("%d rounds for %d settlements at 16 a round", rounds, n)
	}
	// Nothing unmined now: the follow-up stops, the hour's poll paces.
	time.Sleep(30 * followUp)
	if got := rc.n.Load(); got != rounds {
		t.Fatalf("%d rounds after everything was mined, want none before Every (an hour)", got-rounds)
	}
}

// Run never hurries when hurrying cannot help: with nothing open it does
// one round per Every; a failed round (offline, or the node refusing the
// sends) waits Every, settlements in flight or not; a settlement the endpoint
// lost stays unmined until StuckAfter, and the pause after each round
// that finds nothing newly mined doubles from FollowUp, so rounds come
// ever rarer (10, 20, 40, … ms: at most 6 in the first 600 ms) instead of
// every FollowUp.
func TestRunDoesNotHurryWhenNothingMoves(t *testing.T) {
	cases := []struct {
		name      string
		drop      int                                                   // sends the endpoint swallows
		setup     func(e *env, p *dropProxy, j *memJournal, r *Relayer) // before Run
		watch     time.Duration                                         // how long Run is watched
		maxRounds int64
	}{
		{name: "nothing open: one round, then Every", watch: 300 * time.Millisecond, maxRounds: 1},
		{name: "offline with settlements in flight: Every after a failed round", watch: 300 * time.Millisecond, maxRounds: 1,
			setup: func(e *env, p *dropProxy, j *memJournal, r *Relayer) {
				for range 20 {
					j.add(e.auth(0, 1_000))
				}
				if err := r.Round(e.ctx); err != nil {
					e.t.Fatal(err)
				}
				p.offline.Store(true)
			}},
		{name: "sends refused with settlements signed: Every after a failed round", watch: 300 * time.Millisecond, maxRounds: 1,
			setup: func(e *env, p *dropProxy, j *memJournal, r *Relayer) {
				for range 20 {
					j.add(e.auth(0, 1_000))
				}
				p.refuseSends.Store(true)
			}},
		{name: "a lost settlement: the follow-up pause doubles", drop: 1, watch: 600 * time.Millisecond, maxRounds: 6,
			setup: func(e *env, p *dropProxy, j *memJournal, r *Relayer) {
				j.add(e.auth(0, 1_000))
				if err := r.Round(e.ctx); err != nil {
					e.t.Fatal(err)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, p := newDropEnv(t, c.drop)
			j := newMemJournal()
			rc := &roundCounter{Chain: e.c}
			r := e.relayer(j, func(o *Options) { o.Chain, o.Every, o.FollowUp = rc, time.Hour, 10*time.Millisecond })
			if c.setup != nil {
				c.setup(e, p, j, r)
			}
			rc.n.Store(0)
			stop := run(t, e.ctx, r)
			time.Sleep(c.watch)
			stop()
			if got := rc.n.Load(); got < 1 || got > c.maxRounds {
				t.Fatalf("%d rounds in %s, want 1..%d", got, c.watch, c.maxRounds)
			}
		})
	}
}

// Run's pause after a round: Every when the round failed or left nothing
// to be mined; else the follow-up pause, halved after a round that found
// settlements mined, doubled after one that found none and sent none,
// kept after one that only sent; never below FollowUp nor above Every.
func TestNextPause(t *testing.T) {
	const f, every = time.Second, 15 * time.Second
	cases := []struct {
		name      string
		p         progress
		failed    bool
		pause     time.Duration
		wait, new time.Duration
	}{
		{"idle: Every, the pause kept", progress{}, false, 4 * f, every, 4 * f},
		{"all mined, none left: Every", progress{mined: 16}, false, f, every, f},
		{"failed with settlements in flight: Every", progress{unmined: 16}, true, f, every, f},
		{"failed after sending: Every", progress{unmined: 16, sent: 16}, true, f, every, f},
		{"first batch sent: the pause", progress{unmined: 16, sent: 16}, false, f, f, f},
		{"mined and sent more: halved", progress{unmined: 16, mined: 16, sent: 16}, false, 8 * f, 4 * f, 4 * f},
		{"mined: never below FollowUp", progress{unmined: 16, mined: 16, sent: 16}, false, f, f, f},
		{"nothing mined, nothing sent: doubled", progress{unmined: 16}, false, 2 * f, 4 * f, 4 * f},
		{"nothing moves: never above Every", progress{unmined: 16}, false, 12 * f, every, every},
		{"a stuck one replaced, none mined: kept", progress{unmined: 1, sent: 1}, false, 8 * f, 8 * f, 8 * f},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wait, next := nextPause(c.p, c.failed, c.pause, f, every)
			if wait != c.wait || next != c.new {
				t.Fatalf("nextPause(%+v, failed %t, %s) = %s, %s; want %s, %s", c.p, c.failed, c.pause, wait, next, c.wait, c.new)
			}
		})
	}
}

// A negative pause would make Run spin: New refuses it.
func TestNewRefusesNegativePauses(t *testing.T) {
	key, _ := crypto.GenerateKey()
	for _, mod := range []func(*Options){
		func(o *Options) { o.Every = -time.Second },
		func(o *Options) { o.FollowUp = -time.Second },
	} {
		o := Options{Key: key, Chain: &roundCounter{}, Queue: newMemJournal(), Journal: newMemJournal(), MaxFeePerGas: big.NewInt(1)}
		mod(&o)
		if _, err := New(o); !errors.Is(err, ErrBadOptions) {
			t.Errorf("New(Every %s, FollowUp %s) = %v, want ErrBadOptions", o.Every, o.FollowUp, err)
		}
	}
}
