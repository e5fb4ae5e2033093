package store

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

func TestSetPaymentStateTransitions(t *testing.T) {
	cases := []struct {
		name string
		path []PaymentState // states set in turn after Accept; the last one is checked
		want error
	}{
		{"queued to broadcast", []PaymentState{PaymentBroadcast}, nil},
		{"broadcast to confirmed", []PaymentState{PaymentBroadcast, PaymentConfirmed}, nil},
		{"broadcast to failed", []PaymentState{PaymentBroadcast, PaymentFailed}, nil},
		{"queued straight to failed", []PaymentState{PaymentFailed}, nil},
		{"queued straight to confirmed", []PaymentState{PaymentConfirmed}, nil},
		{"queued to queued is a no-op", []PaymentState{PaymentQueued}, nil},
		{"broadcast to broadcast is a no-op", []PaymentState{PaymentBroadcast, PaymentBroadcast}, nil},
		{"broadcast back to queued", []PaymentState{PaymentBroadcast, PaymentQueued}, ErrBadTransition},
		{"confirmed to final", []PaymentState{PaymentBroadcast, PaymentConfirmed, PaymentFinal}, nil},
		{"broadcast straight to final", []PaymentState{PaymentBroadcast, PaymentFinal}, nil},
		{"confirmed back to broadcast (its block was lost)", []PaymentState{PaymentConfirmed, PaymentBroadcast}, nil},
		{"confirmed to failed (lost, then its nonce taken)", []PaymentState{PaymentConfirmed, PaymentFailed}, nil},
		{"confirmed again is a no-op", []PaymentState{PaymentConfirmed, PaymentConfirmed}, nil},
		{"confirmed back to queued", []PaymentState{PaymentConfirmed, PaymentQueued}, ErrBadTransition},
		{"out of final", []PaymentState{PaymentConfirmed, PaymentFinal, PaymentBroadcast}, ErrBadTransition},
		{"final again", []PaymentState{PaymentFinal, PaymentFinal}, ErrBadTransition},
		{"final to failed", []PaymentState{PaymentFinal, PaymentFailed}, ErrBadTransition},
		{"out of failed", []PaymentState{PaymentFailed, PaymentBroadcast}, ErrBadTransition},
		{"failed to confirmed", []PaymentState{PaymentFailed, PaymentConfirmed}, ErrBadTransition},
		{"unknown state", []PaymentState{"lost"}, ErrBadTransition},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			putRequest(t, s, "r1")
			p := mustAccept(t, s, newPayment("r1"))
			var (
				got Payment
				err error
			)
			for i, st := range tc.path {
				got, err = s.SetPaymentState(context.Background(), p.TxHash, st, "why", t0.Add(time.Duration(i+1)*time.Minute))
				if i < len(tc.path)-1 && err != nil {
					t.Fatalf("step %d (%s): %v", i, st, err)
				}
			}
			wantErr(t, "SetPaymentState", err, tc.want)
			stored, _ := s.Payment(p.TxHash)
			if tc.want != nil {
				return
			}
			last := tc.path[len(tc.path)-1]
			if got.State != last || stored.State != last {
				t.Fatalf("state returned %s, stored %s; want %s", got.State, stored.State, last)
			}
			counts, _ := s.Counts()
			if counts[last] != 1 || sum(counts) != 1 {
				t.Fatalf("counts %v: want one %s", counts, last)
			}
		})
	}
}

func sum(m map[PaymentState]int) (n int) {
	for _, v := range m {
		n += v
	}
	return n
}

func TestSetPaymentStateUnknownPayment(t *testing.T) {
	s := openTemp(t)
	_, err := s.SetPaymentState(context.Background(), common.Hash{1}, PaymentBroadcast, "", t0)
	wantErr(t, "SetPaymentState", err, ErrUnknownPayment)
}

func TestExposureIsCountedAndReleasedBySettlement(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	limit := big.NewInt(200)
	var pays []Payment
	for _, id := range []string{"a", "b", "c"} {
		putRequest(t, s, id)
	}
	for _, id := range []string{"a", "b"} {
		p, _, err := s.Accept(ctx, newPayment(id), t0, limit)
		if err != nil {
			t.Fatal(err)
		}
		pays = append(pays, p)
	}
	unsettled := func(want int64) {
		t.Helper()
		if u, err := s.Chain(testChain).Unsettled("ETH"); err != nil || u.Int64() != want {
			t.Fatalf("Unsettled(ETH) = %v, %v; want %d", u, err, want)
		}
	}
	unsettled(200)
	_, _, err := s.Accept(ctx, newPayment("c"), t0, limit)
	wantErr(t, "third Accept at the limit", err, ErrExposureLimit)

	steps := []struct {
		p     Payment
		state PaymentState
		want  int64
	}{
		{pays[0], PaymentBroadcast, 200}, // still unsettled
		{pays[0], PaymentConfirmed, 100}, // released
		{pays[1], PaymentFailed, 0},      // released
	}
	for _, st := range steps {
		if _, err := s.SetPaymentState(ctx, st.p.TxHash, st.state, "", t0); err != nil {
			t.Fatal(err)
		}
		unsettled(st.want)
	}
	if _, _, err := s.Accept(ctx, newPayment("c"), t0, limit); err != nil {
		t.Fatalf("Accept after release: %v", err)
	}
	unsettled(100)
	if u, _ := s.Chain(testChain).Unsettled("NONE"); u == nil || u.Sign() != 0 {
		t.Fatalf("Unsettled of an unseen asset = %v, want 0", u)
	}
}

func TestSetPaymentStateRecordsReasonAndTime(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	p := mustAccept(t, s, newPayment("r1"))
	at := t0.Add(5 * time.Minute)
	got, err := s.SetPaymentState(context.Background(), p.TxHash, PaymentFailed, "nonce too low", at)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := s.Payment(p.TxHash)
	for _, q := range []Payment{got, stored} {
		if q.Reason != "nonce too low" || !q.UpdatedAt.Equal(at) || !q.AcceptedAt.Equal(t0) || q.Seq != p.Seq {
			t.Fatalf("after failing: %+v", q)
		}
	}
}
