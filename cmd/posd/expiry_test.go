package main

import (
	"context"
	"log/slog"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"showpos/terminal/store"
)

// The daemon's sweep reports a request past its expiry and grace as
// request.expired, and leaves one still payable alone, without any call
// from outside: an integrator's webhook or MQTT back office hears of an
// unpaid request ending.
func TestSweepReportsAnExpiredRequestOnlyOnceItIsDue(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "pos.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	for i, r := range []store.Request{
		{ID: "gone", ExpiresAt: now.Add(-store.MatchGrace - time.Minute)},
		{ID: "open", ExpiresAt: now.Add(time.Hour)},
	} {
		r.Asset, r.Amount, r.CreatedAt, r.Doc = "ETH", big.NewInt(int64(100+i)), now.Add(-2*time.Hour), []byte(`{}`)
		if err := st.PutRequest(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); sweepExpiries(ctx, st, slog.New(slog.DiscardHandler)) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, err := st.Events(0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) > 0 {
			if len(evs) != 1 || evs[0].Kind != store.EventRequestExpired || evs[0].Request.ID != "gone" {
				t.Fatalf("events %+v; want one request.expired for gone", evs)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no request.expired within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	at, ok, err := st.NextExpiry()
	if err != nil || !ok || at.Before(now.Add(time.Hour)) {
		t.Fatalf("NextExpiry = %v, %v, %v; want the open request's, still waiting", at, ok, err)
	}
}
