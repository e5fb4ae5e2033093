package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// clockAt is a settable clock for Options.Now.
type clockAt struct{ ns atomic.Int64 }

func newClock(at time.Time) *clockAt { c := &clockAt{}; c.set(at); return c }
func (c *clockAt) set(at time.Time)  { c.ns.Store(at.UnixNano()) }
func (c *clockAt) now() time.Time    { return time.Unix(0, c.ns.Load()).UTC() }

func openPruneStore(t testing.TB, path string, clock *clockAt) *Store {
	t.Helper()
	s, err := Open(path, &Options{Now: clock.now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// pruneAll calls Prune until it reports no more, and returns the sums.
func pruneAll(t testing.TB, s *Store, before time.Time, limit int) PruneResult {
	t.Helper()
	var sum PruneResult
	for range 10_000 {
		r, err := s.Prune(bg, before, limit)
		if err != nil {
			t.Fatalf("Prune: %v", err)
		}
		sum.Payments += r.Payments
		sum.Requests += r.Requests
		if !r.More {
			return sum
		}
	}
	t.Fatal("Prune never finished")
	return sum
}

// paidAt stores a request and a payment for it accepted at `at`, and moves
// the payment to state (failed ones get reason "dropped").
func paidAt(t testing.TB, s *Store, id string, at time.Time, state PaymentState) Payment {
	t.Helper()
	return paidFrom(t, s, id, at, state, randAddr(), 7)
}

// paidFrom is paidAt with the payer's address and nonce given.
func paidFrom(t testing.TB, s *Store, id string, at time.Time, state PaymentState, from common.Address, nonce uint64) Payment {
	t.Helper()
	r := newRequest(id)
	r.CreatedAt, r.ExpiresAt = at, at.Add(time.Hour)
	if err := s.PutRequest(bg, r); err != nil {
		t.Fatalf("PutRequest(%s): %v", id, err)
	}
	p := newPayment(id)
	p.From, p.Nonce = from, nonce
	p, _, err := s.Accept(bg, p, at, nil)
	if err != nil {
		t.Fatalf("Accept(%s): %v", id, err)
	}
	if state != PaymentQueued {
		reason := ""
		if state == PaymentFailed {
			reason = "dropped"
		}
		if p, err = s.SetPaymentState(bg, p.TxHash, state, reason, at); err != nil {
			t.Fatalf("SetPaymentState(%s, %s): %v", id, state, err)
		}
	}
	return p
}

// reopenChecked closes s and opens the file again: Open's integrity checks (every
// index against the records, the counts, the failures, the chain buckets,
// the log) run on what the pruner left.
func reopenChecked(t testing.TB, s *Store, clock *clockAt) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return openPruneStore(t, s.Path(), clock)
}

// What one Prune pass deletes and keeps, record by record, with every
// check of Open passing after it.
func TestPruneDeletesOnlySettledRecordsAndOpenStillChecksTheFile(t *testing.T) {
	clock := newClock(t0)
	path := filepath.Join(t.TempDir(), "pos.db")
	s := openPruneStore(t, path, clock)
	defer func() { _ = s.Close() }()

	old := t0.Add(-48 * time.Hour)
	type rec struct {
		name   string
		pay    *Payment
		req    string
		pruned bool
	}
	var recs []rec
	add := func(name string, p Payment, pruned bool) {
		recs = append(recs, rec{name: name, pay: &p, req: p.RequestID, pruned: pruned})
	}
	add("final", paidAt(t, s, "final", old, PaymentFinal), true)
	add("queued", paidAt(t, s, "queued", old, PaymentQueued), false)
	add("broadcast", paidAt(t, s, "broadcast", old, PaymentBroadcast), false)
	add("confirmed: its block may still be lost", paidAt(t, s, "confirmed", old, PaymentConfirmed), false)
	add("failed, not acknowledged", paidAt(t, s, "failed-open", old, PaymentFailed), false)
	acked := paidAt(t, s, "failed-acked", old, PaymentFailed)
	add("failed, acknowledged", acked, true)

	fs, err := s.Failures(FailureFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Payment.TxHash == acked.TxHash {
			if _, err := s.AckFailure(bg, f.ID, t0); err != nil {
				t.Fatal(err)
			}
		}
	}

	// A chain payment seen, confirmed, final: pruned with its transfer.
	cr := newRequest("chain")
	cr.CreatedAt, cr.ExpiresAt = old, old.Add(time.Hour)
	if err := s.PutRequest(bg, cr); err != nil {
		t.Fatal(err)
	}
	tr := transfer(10, old.Add(time.Minute), "ETH", cr.Amount.Int64())
	got := record(t, s, 10, tr)
	if len(got.Payments) != 1 {
		t.Fatalf("chain transfer recorded as %+v", got)
	}
	if err := s.Chain(testChain).Settle(bg, 10, 10); err != nil {
		t.Fatal(err)
	}
	add("chain, final", got.Payments[0], true)
	add("final, after the bar", paidAt(t, s, "final-new", t0.Add(-time.Minute), PaymentFinal), false)
	// An unmatched receipt: kept (nothing acknowledges one yet).
	record(t, s, 11, transfer(11, old, "ETH", 7))

	// Requests no payment holds.
	cancelled := newRequest("cancelled")
	cancelled.CreatedAt, cancelled.ExpiresAt = old, old.Add(time.Hour)
	if err := s.PutRequest(bg, cancelled); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CancelRequest(bg, "cancelled", old); err != nil {
		t.Fatal(err)
	}
	expired := newRequest("expired")
	expired.CreatedAt, expired.ExpiresAt = old, old.Add(time.Hour)
	if err := s.PutRequest(bg, expired); err != nil {
		t.Fatal(err)
	}
	unreported := newRequest("expired-unreported")
	unreported.CreatedAt, unreported.ExpiresAt = old, old.Add(time.Hour)
	pending := newRequest("pending")
	pending.CreatedAt, pending.ExpiresAt = old, t0.Add(time.Hour)
	for _, r := range []Request{unreported, pending} {
		if err := s.PutRequest(bg, r); err != nil {
			t.Fatal(err)
		}
	}
	// Report "expired" only (its expiry is first in the index).
	if n, err := s.ExpireRequests(bg, old.Add(2*time.Hour), 1); err != nil || n != 1 {
		t.Fatalf("ExpireRequests: %d, %v", n, err)
	}
	recs = append(recs,
		rec{name: "cancelled request", req: "cancelled", pruned: true},
		rec{name: "expired request, reported", req: "expired", pruned: true},
		rec{name: "expired request, not reported yet", req: "expired-unreported", pruned: false},
		rec{name: "pending request", req: "pending", pruned: false},
	)

	countsBefore, err := s.Counts()
	if err != nil {
		t.Fatal(err)
	}
	sum := pruneAll(t, s, t0.Add(-time.Hour), 2)
	if sum.Payments != 3 || sum.Requests != 5 {
		t.Errorf("pruned %d payments, %d requests; want 3 and 5", sum.Payments, sum.Requests)
	}
	s = reopenChecked(t, s, clock) // Open's checks pass

	for _, r := range recs {
		t.Run(r.name, func(t *testing.T) {
			if r.pay != nil {
				p, err := s.Payment(r.pay.TxHash)
				switch {
				case r.pruned && !errors.Is(err, ErrUnknownPayment):
					t.Errorf("payment kept (%v, %v), want pruned", p.State, err)
				case !r.pruned && (err != nil || p.State != r.pay.State):
					t.Errorf("payment %v, %v; want kept in %s", p.State, err, r.pay.State)
				}
			}
			_, err := s.Request(r.req)
			if r.pruned != errors.Is(err, ErrUnknownRequest) {
				t.Errorf("request %q: %v, want pruned %v", r.req, err, r.pruned)
			}
		})
	}
	counts, err := s.Counts()
	if err != nil {
		t.Fatal(err)
	}
	want := map[PaymentState]int{}
	for k, v := range countsBefore {
		want[k] = v
	}
	want[PaymentFinal] -= 2
	want[PaymentFailed]--
	for _, st := range PaymentStates {
		if counts[st] != want[st] {
			t.Errorf("count of %s: %d, want %d", st, counts[st], want[st])
		}
	}
	if fs, _ := s.Failures(FailureFilter{}); len(fs) != 1 || fs[0].Acked() {
		t.Errorf("failures after pruning: %+v, want the open one only", fs)
	}
	if us := unmatchedList(t, s); len(us) != 1 {
		t.Errorf("%d unmatched receipts, want 1 kept", len(us))
	}
	// A second pass finds nothing more.
	if sum := pruneAll(t, s, t0.Add(-time.Hour), 2); sum != (PruneResult{}) {
		t.Errorf("second pass pruned %+v", sum)
	}
}

// A registered sink that has not delivered a record's last event holds the
// record back; once it marks it delivered, the record goes.
func TestPruneWaitsForEverySinkToDeliver(t *testing.T) {
	clock := newClock(t0)
	s := openPruneStore(t, filepath.Join(t.TempDir(), "pos.db"), clock)
	defer func() { _ = s.Close() }()
	for _, name := range []string{"mqtt", "webhook:SN1"} {
		if _, err := s.RegisterSink(bg, name, SinkFromOldest, t0); err != nil {
			t.Fatal(err)
		}
	}
	old := t0.Add(-48 * time.Hour)
	p := paidAt(t, s, "a", old, PaymentFinal)
	last := lastSeq(t, s)

	if sum := pruneAll(t, s, t0, 10); sum.Payments != 0 || sum.Requests != 0 {
		t.Fatalf("pruned %+v with nothing delivered", sum)
	}
	if err := s.MarkDelivered(bg, "mqtt", last); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(bg, "webhook:SN1", last-1); err != nil { // request.paid came before payment.final
		t.Fatal(err)
	}
	if sum := pruneAll(t, s, t0, 10); sum.Payments != 0 {
		t.Fatalf("pruned %+v with the webhook one event short", sum)
	}
	if err := s.MarkDelivered(bg, "webhook:SN1", last); err != nil {
		t.Fatal(err)
	}
	if sum := pruneAll(t, s, t0, 10); sum.Payments != 1 || sum.Requests != 1 {
		t.Fatalf("pruned %+v once every sink delivered, want the payment and its request", sum)
	}
	if _, err := s.Payment(p.TxHash); !errors.Is(err, ErrUnknownPayment) {
		t.Fatalf("payment after pruning: %v", err)
	}
}

// Payments of the current period (since the last Z) are kept whatever
// keep says, so an X report of it reads the same books.
func TestPruneKeepsThePeriodSinceTheLastZ(t *testing.T) {
	clock := newClock(t0)
	s := openPruneStore(t, filepath.Join(t.TempDir(), "pos.db"), clock)
	defer func() { _ = s.Close() }()
	closed := paidAt(t, s, "closed", t0.Add(-3*time.Hour), PaymentFinal)
	open := paidAt(t, s, "open", t0.Add(-time.Hour), PaymentFinal)
	m, err := s.Marks()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TakeZ(bg, Z{From: t0.Add(-4 * time.Hour), To: t0.Add(-2 * time.Hour), Marks: m}); err != nil {
		t.Fatal(err)
	}
	if sum := pruneAll(t, s, t0, 10); sum.Payments != 1 {
		t.Fatalf("pruned %+v, want the closed period's one payment", sum)
	}
	if _, err := s.Payment(closed.TxHash); !errors.Is(err, ErrUnknownPayment) {
		t.Errorf("closed period's payment: %v, want pruned", err)
	}
	if _, err := s.Payment(open.TxHash); err != nil {
		t.Errorf("current period's payment: %v, want kept", err)
	}
}

// A long fill-and-settle run with keep = 0: once the pruner keeps up, the
// file stops growing (bbolt reuses the pages pruning frees). The payers
// are 20 regulars, each paying with its next nonce: what the store keeps
// of a pruned payment is its payer's highest nonce (spent_nonces), one
// entry a payer.
func TestTheFileStopsGrowingWhenSettledPaymentsArePruned(t *testing.T) {
	rounds := 3000
	if testing.Short() {
		rounds = 1200
	}
	clock := newClock(t0)
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, &Options{Now: clock.now, EventRetention: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	var mid int64
	payers := make([]common.Address, 20)
	for i := range payers {
		payers[i] = randAddr()
	}
	for i := range rounds {
		at := t0.Add(time.Duration(i) * time.Second)
		clock.set(at)
		paidFrom(t, s, fmt.Sprintf("f-%d", i), at, PaymentFinal, payers[i%len(payers)], uint64(i/len(payers)))
		if i%50 == 49 {
			pruneAll(t, s, at.Add(time.Second), 100)
			if _, err := s.PruneEvents(bg, 200, 1000); err != nil {
				t.Fatal(err)
			}
		}
		if i == rounds/3 {
			mid = size()
		}
	}
	end := size()
	t.Logf("file after %d payments: %d bytes; after %d: %d bytes", rounds/3, mid, rounds, end)
	if end > mid {
		t.Fatalf("the file grew from %d to %d bytes over %d settled and pruned payments", mid, end, rounds-rounds/3)
	}
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if n := st.Payments[PaymentFinal]; n > 50 {
		t.Fatalf("%d final payments kept, want at most the last 50", n)
	}
}

// The kill -9 test for pruning: the parent stores settled payments and
// unsettled ones (queued, broadcast, confirmed, failed and not
// acknowledged), a child process prunes them with small writes and is
// killed with SIGKILL mid-prune; after each round Open's checks pass and
// every unsettled payment is there in its state.
const pruneKillEnv = "STORE_PRUNE_KILL_CHILD"

func TestPruningKeepsEveryUnsettledPaymentThroughKill9(t *testing.T) {
	if path := os.Getenv(pruneKillEnv); path != "" {
		pruneKillChild(path)
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	clock := newClock(t0)
	path := filepath.Join(t.TempDir(), "pos.db")
	s := openPruneStore(t, path, clock)
	old := t0.Add(-48 * time.Hour)
	unsettled := map[common.Hash]PaymentState{}
	states := []PaymentState{PaymentQueued, PaymentBroadcast, PaymentConfirmed, PaymentFailed}
	const n = 3000
	for i := range n {
		st := PaymentFinal
		if i%10 == 0 {
			st = states[(i/10)%len(states)]
		}
		p := paidAt(t, s, fmt.Sprintf("p-%d", i), old.Add(time.Duration(i)*time.Second), st)
		if st != PaymentFinal {
			unsettled[p.TxHash] = st
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	final := n - len(unsettled)
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPruningKeepsEveryUnsettledPaymentThroughKill9$")
		cmd.Env = append(os.Environ(), pruneKillEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "pruning") {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("child: %q, %v", line, err)
		}
		time.Sleep(time.Duration(5+round*10) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		_ = cmd.Wait()

		s := openPruneStore(t, path, clock) // Open's checks pass
		for h, st := range unsettled {
			p, err := s.Payment(h)
			if err != nil || p.State != st {
				t.Fatalf("round %d: unsettled payment %s: %v, %v; want %s", round, h, p.State, err, st)
			}
		}
		counts, err := s.Counts()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d of %d final payments left, every unsettled one kept", round, counts[PaymentFinal], final)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func pruneKillChild(path string) {
	s, err := Open(path, &Options{Now: func() time.Time { return t0 }})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		if _, err := s.Prune(bg, t0, 20); err != nil {
			fmt.Fprintln(os.Stderr, "child prune:", err)
			os.Exit(2)
		}
		if i == 0 {
			fmt.Println("pruning")
		}
	}
}

// Request ids are UUIDv7s (request.New): the requests made since the bar
// sort together, none of them finished, and the request walk jumps over
// them instead of reading every request kept on every round. An older id
// (random bits) that happens to lie in that run is reached once the bar
// passes its first digits.
func TestPruneJumpsOverRequestsMadeSinceTheBar(t *testing.T) {
	now := t0.Add(30 * 24 * time.Hour)
	s, err := Open(filepath.Join(t.TempDir(), "pos.db"), &Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	v7 := func(at time.Time, n int) string {
		return fmt.Sprintf("%012x7%03x%016x", at.UnixMilli(), n&0xfff, uint64(n))
	}
	put := func(id string, created time.Time, cancel bool) {
		r := newRequest(id)
		r.CreatedAt, r.ExpiresAt = created, created.Add(time.Hour)
		if err := s.PutRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		if cancel {
			if _, err := s.CancelRequest(ctx, id, created.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
	}
	var old []string
	for i := range 5 { // cancelled long ago: prunable
		old = append(old, v7(t0.Add(time.Duration(i)*time.Second), i))
		put(old[i], t0.Add(time.Duration(i)*time.Second), true)
	}
	// Cancelled long ago too, under an id whose first digits say day 15.
	inRun := v7(t0.Add(15*24*time.Hour), 99)
	put(inRun, t0, true)
	made := t0.Add(20 * 24 * time.Hour)
	for i := range 400 { // pending, made since the bar: kept
		put(v7(made.Add(time.Duration(i)*time.Millisecond), 1000+i), made, false)
	}

	// A limit of 10 reads at most 40 requests a call: without the jump the
	// walk would stop short of the end, More set, the 400 read each round.
	bar := t0.Add(10 * 24 * time.Hour)
	res, err := s.Prune(ctx, bar, 10)
	if err != nil {
		t.Fatal(err)
	}
	if res.More || res.Requests != len(old) {
		t.Fatalf("Prune = %+v; want the %d old requests in one call that reached the end", res, len(old))
	}
	for _, id := range old {
		if _, err := s.Request(id); !errors.Is(err, ErrUnknownRequest) {
			t.Errorf("request %s cancelled long ago: %v, want pruned", id, err)
		}
	}
	if _, err := s.Request(inRun); err != nil {
		t.Fatalf("the id in the run since the bar: %v, want it kept this round", err)
	}
	// Once the bar passes its first digits, it goes.
	if res, err = s.Prune(ctx, t0.Add(16*24*time.Hour), 10); err != nil || res.Requests != 1 || res.More {
		t.Fatalf("Prune with the bar at day 16 = %+v, %v; want the one request", res, err)
	}
	if _, err := s.Request(inRun); !errors.Is(err, ErrUnknownRequest) {
		t.Errorf("request %s: %v, want pruned once the bar passed it", inRun, err)
	}
	var kept int
	if err := s.db.View(func(tx *bbolt.Tx) error { kept = tx.Bucket(bucketRequests).Stats().KeyN; return nil }); err != nil {
		t.Fatal(err)
	}
	if kept != 400 {
		t.Errorf("%d requests kept, want the 400 made since the bar", kept)
	}
}
