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

	"showpos/device/clock"
	"showpos/terminal/request"
	"showpos/tools/paytx"
)

// TestKill9: kill -9 the posd binary at random moments while payers pay
// over HTTP, and now and then again while it boots; after every kill,
// bbolt's check on the file, then a restart and the promise checked
// against everything the payers were told.
func TestKill9(t *testing.T) {
	log := harness(t)
	kills := sizeInt(t, "SHOWPOS_KILL9_KILLS", 100, 50)
	want := sizeInt(t, "SHOWPOS_KILL9_PAYMENTS", 4000, 2000)
	payers := sizeInt(t, "SHOWPOS_KILL9_PAYERS", 32, 32)

	dir := t.TempDir()
	d := newDaemon(t, log, dir, terminalConfig(t, dir, "", ""))
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
	checks := 0
	for k := 0; k < kills || l.ackedCount() < want; k++ {
		if time.Since(began) > 30*time.Minute {
			t.Fatalf("after %d kills only %d payments acknowledged", k, l.ackedCount())
		}
		// Kill somewhere in the flow: mid-batch or at rest, 10–300 ms
		// after the check that followed the last restart.
		time.Sleep(time.Duration(10+rng.IntN(290)) * time.Millisecond)
		d.kill()
		checks++
		if err := checkStore(store); err != nil {
			checkFails.add(fmt.Errorf("kill %d: %w", k+1, err))
		}
		// One kill in five also kills the next posd 0–50 ms after exec,
		// while it opens and checks its store, then starts it normally.
		if rng.IntN(5) == 0 {
			ready, err := killDuringBoot(ctx, d, time.Duration(rng.IntN(51))*time.Millisecond)
			if err != nil {
				t.Fatalf("kill %d during boot: %v", k+1, err)
			}
			v.bootKills++
			if ready {
				v.bootKillsReady++
			}
			checks++
			if err := checkStore(store); err != nil {
				checkFails.add(fmt.Errorf("kill %d during boot: %w", k+1, err))
			}
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
	checks++
	if err := checkStore(store); err != nil {
		checkFails.add(fmt.Errorf("after the last stop: %w", err))
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	f := figures{name: "kill9: kill -9 while payments arrive"}
	f.add("kills", "%d (each 10–300 ms after the check that followed the last restart)", v.kills)
	f.add("kills during boot", "%d more, 0–50 ms after exec while posd opened and checked its store (%d of them after it already answered)", v.bootKills, v.bootKillsReady)
	f.add("payers", "%d, each with its own key and nonces", payers)
	f.add("payments acknowledged", "%d (202, or 200 for a repeat)", len(l.acked))
	f.add("  of which after a lost answer", "%d answered 200 on the retry (committed before the kill), %d answered 202 (had not)", l.retried200, l.retried202)
	f.add("answers lost to a kill", "%d (the payer sent the same call again)", l.lostAnswers)
	f.add("present at the end", "%d", v.present)
	f.add("lost", "%d (must be 0; checked after every restart)", v.lost)
	f.add("duplicates", "%d (same tx, request or sender+nonce twice; must be 0)", v.dups)
	f.add("refused with a 4xx", "%d sent to be refused (nonce_conflict 409 by the store, underpaid 422 by the check); present: %d (must be 0)", len(l.refused), v.refusedPresent)
	f.add("retried 503 unavailable", "%d answers (sent again, as the API asks)", l.retried503)
	f.add("5xx other than 503 unavailable", "%d (an error the payer cannot fix; must be 0)", l.other5xx)
	f.add("503 then 200", "%d (the 503'd payment had been stored; must be 0)", l.okAfter503)
	f.add("other answers", "%d (a good payment refused, one meant to be refused not refused so, or the two above; must be 0)", len(l.wrong))
	f.add("bbolt check failures", "%d of %d checks (must be 0)", checkFails.n, checks)
	f.add("restart time", "%s (exec to the operator socket answering; every restart succeeded)", restarts)
	f.add("store size at the end", "%d payments in %s", v.present, fileSize(store))
	f.add("wall time", "%s", time.Since(began).Round(time.Millisecond))
	f.print()
	if err := checkFails.err(); err != nil {
		t.Errorf("bbolt check failed: %v", err)
	}
	if v.lost+v.dups+v.refusedPresent+len(l.wrong) > 0 {
		t.Errorf("lost %d, duplicates %d, refused but present %d, wrong answers %d (5xx other than 503 unavailable %d, 503 then 200 %d): %v",
			v.lost, v.dups, v.refusedPresent, len(l.wrong), l.other5xx, l.okAfter503, l.wrong[:min(10, len(l.wrong))])
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
	retried503             int // 503 unavailable answers, sent again
	other5xx               int // a 5xx other than 503 unavailable: wrong
	okAfter503             int // 200 right after a 503: wrong
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
		s := sendUntilAnswered(ctx, d, req.ID, raw, rng)
		if !s.ok {
			return // stopping; this payment's outcome is unknown, and may be either
		}
		r := s.r
		l.mu.Lock()
		if s.lost {
			l.lostAnswers++
		}
		l.retried503 += s.n503
		switch {
		case r.status >= 500:
			// Not retried (sendUntilAnswered retries only 503 unavailable):
			// an error the payer cannot fix.
			l.other5xx++
			l.wrong = append(l.wrong, fmt.Sprintf("payment %s (want %q) answered %d %s: a 5xx other than 503 unavailable", tx.Hash().Hex(), refusal, r.status, r.body))
		case refusal == "" && r.status == http.StatusOK && s.after503:
			// The call before this one was answered 503 (not lost): that
			// payment was stored, yet the payer was told to send it again.
			l.okAfter503++
			l.wrong = append(l.wrong, fmt.Sprintf("payment %s answered 503 unavailable, then 200 (already accepted) on the retry: the 503'd payment had been stored", tx.Hash().Hex()))
			l.acked[tx.Hash()] = ack{request: req.ID, from: from, nonce: o.Nonce}
			nonce++
		case refusal != "" && r.status >= 400 && r.status < 500 && r.code() == refusal:
			l.refused[tx.Hash()] = refusal
		case refusal == "" && (r.status == http.StatusAccepted || r.status == http.StatusOK):
			l.acked[tx.Hash()] = ack{request: req.ID, from: from, nonce: o.Nonce}
			if s.lost && r.status == http.StatusOK {
				l.retried200++
			} else if s.lost {
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
		_ = clock.Sleep(ctx, 20*time.Millisecond)
	}
	return nil
}

// sent is how one payment's call went.
type sent struct {
	r        reply // the last answer
	ok       bool  // false: stopped before an answer
	lost     bool  // a try got no answer (transport error: posd was down)
	n503     int   // tries answered 503 unavailable
	after503 bool  // the try before the last was answered 503, not lost
}

// sendUntilAnswered posts the payment, and posts it again only when a try
// gets no answer (connection refused or reset: posd is down) or 503 with
// code unavailable, as the API asks. Any other answer, another 5xx too, is
// the last.
func sendUntilAnswered(ctx context.Context, d *daemon, id string, raw []byte, rng *rand.Rand) (s sent) {
	for ctx.Err() == nil {
		r, err := d.pay(ctx, id, raw)
		switch {
		case err != nil:
			s.lost, s.after503 = true, false
		case r.status == http.StatusServiceUnavailable && r.code() == "unavailable":
			s.n503++
			s.after503 = true
		default:
			s.r, s.ok = r, true
			return s
		}
		_ = clock.Sleep(ctx, time.Duration(10+rng.IntN(20))*time.Millisecond)
	}
	return s
}

// killDuringBoot starts posd and kills it after, while it is opening and
// checking its store; ready reports that it had answered already. posd
// exiting by itself first is an error.
func killDuringBoot(ctx context.Context, d *daemon, after time.Duration) (ready bool, err error) {
	if err := d.spawn(); err != nil {
		return false, err
	}
	deadline := time.Now().Add(after)
	for time.Now().Before(deadline) {
		if !d.running() {
			return false, fmt.Errorf("posd exited by itself while booting: %s (log %s)", d.cmd.ProcessState, d.logPath)
		}
		if !ready {
			c, cancel := context.WithDeadline(ctx, deadline)
			r, err := d.operator(c, "GET", "/v1/status", nil)
			cancel()
			ready = err == nil && r.status == http.StatusOK
		}
		_ = clock.Sleep(ctx, min(2*time.Millisecond, time.Until(deadline)))
	}
	if !d.running() {
		return false, fmt.Errorf("posd exited by itself while booting: %s (log %s)", d.cmd.ProcessState, d.logPath)
	}
	d.kill()
	return ready, nil
}

// verdict checks the store, through the restarted daemon, against the
// ledger, and keeps the running totals.
type verdict struct {
	kills, bootKills, bootKillsReady    int
	present, lost, dups, refusedPresent int
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
