package main

import (
	"context"
	"log/slog"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/sync/chain"
	"showpos/sync/relay"
	"showpos/sync/relay/relaystore"
	"showpos/terminal/store"
	"showpos/tools/devchain"
)

// A terminal without chain.rpc has nothing to settle against: its relayer
// does no round (so it does not warn every round that there are no
// endpoints), starts once a config names endpoints, and stops again when
// a config takes them away.
func TestRelayerRoundsOnlyWhileTheConfigNamesEndpoints(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "showpos.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	node, err := chain.New(chain.Options{ChainID: devchain.DefaultChainID})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	j := relaystore.New(st.Chain(devchain.DefaultChainID), crypto.PubkeyToAddress(key.PublicKey), nil)
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	r, err := relay.New(relay.Options{Key: key, Chain: node, Queue: j, Journal: j, MaxFeePerGas: big.NewInt(100e9),
		Every: 10 * time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	g := newRelayGate(r, nil, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); g.run(ctx) }()
	defer func() { cancel(); <-done }()

	// No endpoints: fifty round periods without a round.
	g.configured(nil)
	time.Sleep(500 * time.Millisecond)
	if at := r.Status().At; !at.IsZero() || strings.Contains(logs.String(), "relay: round") {
		t.Fatalf("without endpoints the relayer did a round at %v; log:\n%s", at, logs.String())
	}

	// Endpoints named: rounds, and they reach the chain.
	dc, err := devchain.Start(context.Background(), devchain.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	if err := node.SetEndpoints([]string{dc.Endpoint()}); err != nil {
		t.Fatal(err)
	}
	g.configured([]string{dc.Endpoint()})
	until(t, "a round that reached the chain", func() bool {
		s := r.Status()
		return !s.At.IsZero() && s.LastError == "" && s.Balance != nil
	})

	// Endpoints taken away: the rounds stop.
	if err := node.SetEndpoints(nil); err != nil {
		t.Fatal(err)
	}
	g.configured(nil)
	var last time.Time
	until(t, "the rounds to stop", func() bool {
		at := r.Status().At
		time.Sleep(100 * time.Millisecond)
		last = r.Status().At
		return at.Equal(last)
	})
	time.Sleep(300 * time.Millisecond)
	if at := r.Status().At; !at.Equal(last) {
		t.Fatalf("a round at %v after the endpoints were taken away (last before %v)", at, last)
	}
}

// until polls cond every 20 ms for up to 20 s.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 20 s", what)
		}
	}
}
