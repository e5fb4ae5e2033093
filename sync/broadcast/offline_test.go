package broadcast_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/sync/broadcast"
	"showpos/sync/chain"
	"showpos/terminal/checkout"
	"showpos/terminal/config/configtest"
	"showpos/terminal/store"
	"showpos/tools/paytx"
)

// countingStore counts the payments the broadcaster reads from the outbox.
type countingStore struct {
	*store.ChainStore
	reads atomic.Int32
}

func (s *countingStore) OpenPaymentsAfter(after *store.OpenKey, limit int) ([]store.Payment, error) {
	ps, err := s.ChainStore.OpenPaymentsAfter(after, limit)
	s.reads.Add(int32(len(ps)))
	return ps, err
}

func (s *countingStore) Payments(f store.PaymentFilter) ([]store.Payment, error) {
	ps, err := s.ChainStore.Payments(f)
	s.reads.Add(int32(len(ps)))
	return ps, err
}

func (s *countingStore) OldestQueued() (store.Payment, bool, error) {
	p, ok, err := s.ChainStore.OldestQueued()
	if ok {
		s.reads.Add(1)
	}
	return p, ok, err
}

// Offline, every accepted payment kicks the broadcaster: its rounds then
// read the counts, not the whole outbox, and still report the queue and
// its oldest payment right.
func TestOfflineRoundsDoNotReadTheOutbox(t *testing.T) {
	cfg := configtest.New(t, `
assets = [{ symbol = "ETH" }]
[terminal]
id = "offline-till"
[chain]
rpc = ["http://127.0.0.1:1"]
`)
	st, err := store.Open(filepath.Join(t.TempDir(), "showpos.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counting := &countingStore{ChainStore: st.Chain(cfg.ChainID)}
	client, err := chain.New(chain.Options{Endpoints: cfg.Chain.RPC, ChainID: cfg.ChainID, CallTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	client.Probe(context.Background()) // offline: nothing listens there
	bc := broadcast.New(broadcast.Options{Store: counting, Chain: client, Poll: 10 * time.Millisecond})
	key, _ := crypto.GenerateKey()
	till := checkout.New(checkout.Options{Config: cfg, Key: key, Store: st, OnAccept: func(checkout.Receipt) { bc.Kick() }})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { bc.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	payer, _ := crypto.GenerateKey()
	const n = 40
	var first time.Time
	for i := range n {
		doc, err := till.NewRequest(ctx, "0.01", "", "")
		if err != nil {
			t.Fatal(err)
		}
		tx, err := paytx.Build(doc.Request(), payer, paytx.Options{Nonce: uint64(i)})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := tx.MarshalBinary()
		rec, err := till.Pay(ctx, doc.ID, raw)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			p, _ := st.Payment(rec.TxHash)
			first = p.AcceptedAt
		}
		time.Sleep(2 * time.Millisecond) // let the kicked round run
	}
	deadline := time.Now().Add(10 * time.Second)
	for bc.Last().Open != n {
		if time.Now().After(deadline) {
			t.Fatalf("last round saw %d open payments, want %d", bc.Last().Open, n)
		}
		bc.Kick()
		time.Sleep(10 * time.Millisecond)
	}
	last := bc.Last()
	if last.Online || !last.OldestQueued.Equal(first) || last.Err == "" {
		t.Errorf("offline report %+v, want the first payment (%s) as the oldest", last, first)
	}
	// The oldest queued payment a round, one seek each: not the whole
	// queue every round (n(n+1)/2 = 820 payments).
	if reads := counting.reads.Load(); reads > 2*n {
		t.Errorf("%d payments read from the outbox for %d offline rounds; want the counts instead", reads, n)
	}
	if at := bc.LastSync().At; !at.IsZero() {
		t.Errorf("LastSync %s, but the terminal was never online", at)
	}
	q, err := bc.Queue()
	if err != nil || q.Counts[store.PaymentQueued] != n || q.OldestQueued == nil || !q.OldestQueued.Equal(first) {
		t.Errorf("queue %+v, %v", q, err)
	}
}
