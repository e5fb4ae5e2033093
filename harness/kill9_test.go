package harness

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/paytx"
	"showpos/terminal/request"
)

// TestKill9: kill -9 the posd binary at random moments while payers pay
// over HTTP; after every kill, bbolt's check on the file, then a restart
// and the promise checked against everything the payers were told.
func TestKill9(t *testing.T) {
	log := harness(t)
	kills := sizeInt(t, "SHOWPOS_KILL9_KILLS", 100, 50)
	want := sizeInt(t, "SHOWPOS_KILL9_PAYMENTS", 4000, 2000)
	payers := sizeInt(t, "SHOWPOS_KILL9_PAYERS", 32, 32)

	dir := t.TempDir()
	addr := freeAddr(t)
	d := newDaemon(t, log, dir, addr, terminalConfig(dir, addr, "", ""))
	store := filepath.Join(dir, "data", "showpos.db")
	ctx := t.Context()
	began := time.Now()
	if _, err := d.start(ctx); err != nil {
		t.Fatal(err)
	}

	l := newLedger()
	payCtx, stopPayers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var amounts atomic.Int64
	for i := range payers {
		key, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { payLoop(payCtx, d, key, l, &amounts, rand.New(rand.NewPCG(uint64(i), 7))) })
	}
	t.Cleanup(func() { stopPayers(); wg.Wait() })

	rng := rand.New(rand.NewPCG(9, 9))
	var restarts durations
	var checkFails errorsOf
	var v verdict
	for k := 0; k < kills || l.ackedCount() < want; k++ {
		if time.Since(began) > 30*time.Minute {
			t.Fatalf("after %d kills only %d payments acknowledged", k, l.ackedCount())
		}
		// Kill somewhere in the flow: right after start, mid-batch, at rest.
		time.Sleep(time.Duration(10+rng.IntN(290)) * time.Millisecond)
		d.kill()
		if err := checkStore(store); err != nil {
			checkFails.add(fmt.Errorf("kill %d: %w", k+1, err))
		}
		took, err := d.start(ctx)
		if err != nil {
			t.Fatalf("restart after kill %d: %v", k+1, err)
		}
		restarts = append(restarts, took)
		if err := v.check(ctx, d, l); err != nil {
			t.Fatalf("after kill %d: %v", k+1, err)
		}
		v.kills++
	}
	stopPayers()
	wg.Wait()
	// Last look with nothing in flight, then a clean stop and a last check.
	if err := v.check(ctx, d, l); err != nil {
		t.Fatal(err)
	}
	if err := d.stop(); err != nil {
		t.Error(err)
	}
	if err := checkStore(store); err != nil {
		checkFails.add(fmt.Errorf("after the last stop: %w", err))
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	f := figures{name: "kill9: kill -9 while payments arrive"}
	f.add("kills", "%d (every %d–%d ms of uptime)", v.kills, 10, 300)
	f.add("payers", "%d, each with its own key and nonces", payers)
	f.add("payments acknowledged", "%d (202, or 200 for a repeat)", len(l.acked))
	f.add("  of which after a lost answer", "%d answered 200 on the retry (committed before the kill), %d answered 202 (had not)", l.retried200, l.retried202)
	f.add("answers lost to a kill", "%d (the payer sent the same call again)", l.lostAnswers)
	f.add("present at the end", "%d", v.present)
	f.add("lost", "%d (must be 0; checked after every restart)", v.lost)
	f.add("duplicates", "%d (same tx, request or sender+nonce twice; must be 0)", v.dups)
	f.add("refused with a 4xx", "%d sent to be refused (nonce_conflict 409 by the store, underpaid 422 by the check); present: %d (must be 0)", len(l.refused), v.refusedPresent)
	f.add("other answers", "%d (a good payment refused, or one meant to be refused not refused so; must be 0)", len(l.wrong))
	f.add("bbolt check failures", "%d of %d checks (must be 0)", checkFails.n, v.kills+1)
	f.add("restart time", "%s (exec to the operator socket answering; every restart succeeded)", restarts)
	f.add("store size at the end", "%d payments in %s", v.present, fileSize(store))
	f.add("wall time", "%s", time.Since(began).Round(time.Millisecond))
	f.print()
	if err := checkFails.err(); err != nil {
		t.Errorf("bbolt check failed: %v", err)
	}
	if v.lost+v.dups+v.refusedPresent+len(l.wrong) > 0 {
		t.Errorf("lost %d, duplicates %d, refused but present %d, wrong answers %v", v.lost, v.dups, v.refusedPresent, l.wrong)
	}
	if len(l.acked) < want || v.kills < kills {
		t.Errorf("only %d kills and %d payments acknowledged; want %d and %d", v.kills, len(l.acked), kills, want)
	}
}

// ledger is what the payers were told.
type ledger struct {
	mu                     sync.Mutex
	acked                  map[common.Hash]ack
	refused                map[common.Hash]string // tx hash -> the code it was refused with
	lostAnswers            int
	retried200, retried202 int
	wrong                  []string
}

type ack struct {
	request string
	from    common.Address
	nonce   uint64
}

func newLedger() *ledger {
	return &ledger{acked: map[common.Hash]ack{}, refused: map[common.Hash]string{}}
}

func (l *ledger) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// payLoop is one payer: a request from the operator socket, a payment at
// its next nonce over HTTP, sent again until answered (as the API tells a
// payer to). Every eighth payment is followed by one that must be refused
// by the store (the same nonce as the last one acknowledged, for another
// request: 409 nonce_conflict), and every eighth, four later, by one the
// check refuses (a wei short: 422 underpaid).
func payLoop(ctx context.Context, d *daemon, key *ecdsa.PrivateKey, l *ledger, amounts *atomic.Int64, rng *rand.Rand) {
	from := crypto.PubkeyToAddress(key.PublicKey)
	var nonce uint64
	for i := 0; ctx.Err() == nil; i++ {
		req := createRequest(ctx, d, fmt.Sprintf("0.001%06d", amounts.Add(1)))
		if req == nil {
			return
		}
		o, refusal := paytx.Options{Nonce: nonce, FeeCap: big.NewInt(2e9)}, ""
		switch {
		case i%8 == 7 && nonce > 0:
			o.Nonce, refusal = nonce-1, "nonce_conflict"
		case i%8 == 3:
			o.Amount, refusal = new(big.Int).Sub(req.Amount, big.NewInt(1)), "underpaid"
		}
		tx, err := paytx.Build(req, key, o)
		if err != nil {
			panic(err) // the request is the terminal's own: it always builds
		}
		raw, _ := tx.MarshalBinary()
		r, lost, ok := sendUntilAnswered(ctx, d, req.ID, raw, rng)
		if !ok {
			return // stopping; this payment's outcome is unknown, and may be either
		}
		l.mu.Lock()
		if lost {
			l.lostAnswers++
		}
		switch {
		case refusal != "" && r.status >= 400 && r.status < 500 && r.code() == refusal:
			l.refused[tx.Hash()] = refusal
		case refusal == "" && (r.status == http.StatusAccepted || r.status == http.StatusOK):
			l.acked[tx.Hash()] = ack{request: req.ID, from: from, nonce: o.Nonce}
			if lost && r.status == http.StatusOK {
				l.retried200++
			} else if lost {
				l.retried202++
			}
			nonce++
		default:
			l.wrong = append(l.wrong, fmt.Sprintf("payment %s (want %q) answered %d %s", tx.Hash().Hex(), refusal, r.status, r.body))
			if r.status >= 400 && r.status < 500 {
				l.refused[tx.Hash()] = r.code()
			}
		}
		l.mu.Unlock()
	}
}

// createRequest asks for a request until one is created; nil when ctx ends.
func createRequest(ctx context.Context, d *daemon, amount string) *request.Request {
	for ctx.Err() == nil {
		if r, err := d.newRequest(ctx, amount); err == nil {
			return r
		}
		sleep(ctx, 20*time.Millisecond)
	}
	return nil
}

// sendUntilAnswered posts the payment until posd answers something other
// than 5xx. lost reports that an earlier try got no answer.
func sendUntilAnswered(ctx context.Context, d *daemon, id string, raw []byte, rng *rand.Rand) (r reply, lost, ok bool) {
	for ctx.Err() == nil {
		var err error
		r, err = d.pay(ctx, id, raw)
		if err == nil && r.status < 500 {
			return r, lost, true
		}
		if err != nil {
			lost = true
		}
		sleep(ctx, time.Duration(10+rng.IntN(20))*time.Millisecond)
	}
	return r, lost, false
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// verdict checks the store, through the restarted daemon, against the
// ledger, and keeps the running totals.
type verdict struct {
	kills, present, lost, dups, refusedPresent int
}

func (v *verdict) check(ctx context.Context, d *daemon, l *ledger) error {
	// What the payers had been told before the listing began must all be
	// in it; what they are told meanwhile may or may not be.
	l.mu.Lock()
	acked := make(map[common.Hash]ack, len(l.acked))
	for h, a := range l.acked {
		acked[h] = a
	}
	refused := make(map[common.Hash]bool, len(l.refused))
	for h := range l.refused {
		refused[h] = true
	}
	l.mu.Unlock()

	list, err := d.payments(ctx)
	if err != nil {
		return err
	}
	byHash := map[common.Hash]payment{}
	byRequest := map[string]int{}
	bySenderNonce := map[string]int{}
	dups, refusedPresent := 0, 0
	for _, p := range list {
		h := common.HexToHash(p.TxHash)
		if _, seen := byHash[h]; seen {
			dups++
		}
		byHash[h] = p
		if byRequest[p.RequestID]++; byRequest[p.RequestID] == 2 {
			dups++
		}
		sn := fmt.Sprintf("%s/%d", p.From, p.Nonce)
		if bySenderNonce[sn]++; bySenderNonce[sn] == 2 {
			dups++
		}
		if refused[h] {
			refusedPresent++
		}
	}
	lost, present := 0, 0
	var firstLost string
	for h, a := range acked {
		p, ok := byHash[h]
		if !ok || p.RequestID != a.request || common.HexToAddress(p.From) != a.from || p.Nonce != a.nonce {
			lost++
			if firstLost == "" {
				firstLost = fmt.Sprintf("%s (stored as %+v)", h.Hex(), p)
			}
			continue
		}
		present++
	}
	v.present, v.lost, v.dups, v.refusedPresent = present, v.lost+lost, v.dups+dups, v.refusedPresent+refusedPresent
	if lost+dups+refusedPresent > 0 {
		return fmt.Errorf("%d acknowledged payments lost (first %s), %d duplicates, %d refused payments present", lost, firstLost, dups, refusedPresent)
	}
	return nil
}
