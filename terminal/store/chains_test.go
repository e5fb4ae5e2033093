package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// Two chains of the tests (schema 13): Base's and Arbitrum One's ids.
const (
	chainA = 8453
	chainB = 42161
)

// on is p put on chain.
func on(chain uint64, p Payment) Payment {
	p.ChainID = chain
	return p
}

// A payer who uses one nonce on two networks has made two transactions:
// each chain has its own sender+nonce index. On one chain the second is
// refused as before.
func TestTheSameSenderAndNonceOnTwoChains(t *testing.T) {
	s := openTemp(t)
	from := randAddr()
	pay := func(id string, chain uint64) error {
		putRequest(t, s, id)
		p := on(chain, newPayment(id))
		p.From, p.Nonce = from, 5
		_, _, err := s.Accept(bg, p, t0, nil)
		return err
	}
	for _, tc := range []struct {
		name  string
		chain uint64
		want  error
	}{
		{"first on A", chainA, nil},
		{"the same nonce on B", chainB, nil},
		{"again on A", chainA, ErrNonceConflict},
		{"again on B", chainB, ErrNonceConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, "Accept", pay("r-"+tc.name, tc.chain), tc.want)
		})
	}
	for _, chain := range []uint64{chainA, chainB} {
		p, err := s.Chain(chain).PaymentBySenderNonce(from, 5)
		if err != nil || p.ChainID != chain {
			t.Fatalf("chain %d: PaymentBySenderNonce: %+v, %v", chain, p, err)
		}
	}
	if _, err := s.Chain(1).PaymentBySenderNonce(from, 5); !errors.Is(err, ErrUnknownPayment) {
		t.Fatalf("a third chain: %v, want ErrUnknownPayment", err)
	}
	reopenStore(t, s) // Open's checks pass on the per-chain keys
}

// A payment with no chain is a caller's bug: a plain error, not a rule,
// and nothing is stored.
func TestAPaymentWithNoChainIsRefused(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	before := takeSnapshot(t, s, "r1")
	p := on(0, newPayment("r1"))
	_, _, err := s.Accept(bg, p, t0, nil)
	a := on(0, newAuthorization("r1"))
	_, _, aerr := acceptAuth(t, s, a, Limits{})
	_, _, lerr := s.AcceptLimited(bg, p, t0, Limits{})
	for _, e := range []error{err, aerr, lerr} {
		if e == nil {
			t.Fatal("a payment with chain id 0 was accepted")
		}
		for _, sentinel := range []error{ErrCorrupt, ErrNonceConflict, ErrExposureLimit, ErrBadTransition} {
			if errors.Is(e, sentinel) {
				t.Fatalf("%v: a rule's error (%v), want a plain one", e, sentinel)
			}
		}
	}
	if after := takeSnapshot(t, s, "r1"); after.commits != before.commits || after.requests["r1"] != RequestPending {
		t.Fatalf("refusals wrote: %+v -> %+v", before, after)
	}
}

// Each chain's broadcaster reads its own queue, in key order, and only
// its own: the other chain's payments are neither returned nor read.
func TestEachChainsQueuesAreItsOwn(t *testing.T) {
	s := openTemp(t)
	want := map[uint64][]OpenKey{}
	for i := range 12 {
		chain := uint64(chainA)
		if i%3 != 0 {
			chain = chainB
		}
		id := reqID(i)
		putRequest(t, s, id)
		p := mustAccept(t, s, on(chain, newPayment(id)))
		want[chain] = append(want[chain], p.OpenKey())
	}
	for chain, keys := range want {
		slices.SortFunc(keys, OpenKey.Compare)
		var got []OpenKey
		var after *OpenKey
		for {
			ps, err := s.Chain(chain).OpenPaymentsAfter(after, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				if p.ChainID != chain {
					t.Fatalf("chain %d's queue returned a payment of chain %d", chain, p.ChainID)
				}
				got = append(got, p.OpenKey())
			}
			if len(ps) < 3 {
				break
			}
			k := ps[len(ps)-1].OpenKey()
			after = &k
		}
		if !slices.Equal(got, keys) {
			t.Fatalf("chain %d: queue %v, want %v", chain, got, keys)
		}
		// Confirmed, they are the chain's unfinal ones.
		for _, k := range keys {
			p, _ := s.Chain(chain).PaymentBySenderNonce(k.From, k.Nonce)
			if _, err := s.SetPaymentState(bg, p.TxHash, PaymentConfirmed, "", t0); err != nil {
				t.Fatal(err)
			}
		}
		unfinal, err := s.Chain(chain).UnfinalAfter(nil, 100)
		if err != nil || len(unfinal) != len(keys) {
			t.Fatalf("chain %d: %d unfinal, %v; want %d", chain, len(unfinal), err, len(keys))
		}
		if open, _ := s.Chain(chain).OpenPaymentsAfter(nil, 100); len(open) != 0 {
			t.Fatalf("chain %d: %d open after confirming all", chain, len(open))
		}
	}
	if open, _ := s.Chain(1).OpenPaymentsAfter(nil, 100); len(open) != 0 {
		t.Fatalf("a chain with no payments has %d open", len(open))
	}
	byChain, err := s.CountsByChain()
	if err != nil || byChain[chainA][PaymentConfirmed] != 4 || byChain[chainB][PaymentConfirmed] != 8 || byChain[chainA][PaymentQueued] != 0 {
		t.Fatalf("CountsByChain: %v, %v", byChain, err)
	}
	if all, _ := s.Counts(); all[PaymentConfirmed] != 12 {
		t.Fatalf("Counts: %v, want 12 confirmed", all)
	}
	if mine, _ := s.Chain(chainA).Counts(); mine[PaymentConfirmed] != 4 {
		t.Fatalf("chain A's Counts: %v", mine)
	}
	if ps, _ := s.Payments(PaymentFilter{ChainID: chainA}); len(ps) != 4 {
		t.Fatalf("Payments of chain A: %d, want 4", len(ps))
	}
	if ps, _ := s.Chain(chainB).Payments(PaymentFilter{}); len(ps) != 8 {
		t.Fatalf("chain B's Payments: %d, want 8", len(ps))
	}
}

// The same for the relayer's queue: each chain's authorizations alone.
func TestEachChainsAuthorizationsAreItsOwn(t *testing.T) {
	s := openTemp(t)
	a := map[uint64][]common.Hash{}
	for i := range 6 {
		chain := uint64(chainA + i%2)
		id := reqID(i)
		putRequest(t, s, id)
		p, _, err := acceptAuth(t, s, on(chain, newAuthorization(id)), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		a[chain] = append(a[chain], p.TxHash)
	}
	for chain, want := range a {
		ps, err := s.Chain(chain).OpenAuthorizations(0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []common.Hash
		for _, p := range ps {
			got = append(got, p.TxHash)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("chain %d: open authorizations %v, want %v", chain, got, want)
		}
		after, _ := s.Chain(chain).OpenAuthorizationsAfter(want[0], 0)
		if len(after) != len(want)-1 {
			t.Fatalf("chain %d: %d after the first, want %d", chain, len(after), len(want)-1)
		}
	}
	// One authorization (token, from, nonce) on two chains: two promises.
	putRequest(t, s, "twin-a")
	putRequest(t, s, "twin-b")
	pa := on(chainA, newAuthorization("twin-a"))
	pb := on(chainB, newAuthorization("twin-b"))
	pb.From, pb.Authorization.Token, pb.Authorization.Nonce = pa.From, pa.Authorization.Token, pa.Authorization.Nonce
	if _, _, err := acceptAuth(t, s, pa, Limits{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := acceptAuth(t, s, pb, Limits{}); err != nil {
		t.Fatalf("the same token, payer and nonce on another chain: %v", err)
	}
	putRequest(t, s, "twin-a2")
	again := on(chainA, newAuthorization("twin-a2"))
	again.From, again.Authorization.Token, again.Authorization.Nonce = pa.From, pa.Authorization.Token, pa.Authorization.Nonce
	_, _, err := acceptAuth(t, s, again, Limits{})
	wantErr(t, "the same on chain A again", err, ErrAuthorizationReused)
	reopenStore(t, s)
}

// max_unsettled is each network's: one chain at its cap does not refuse a
// payment on the other; the per-payer cap is per chain too.
func TestExposureIsPerChain(t *testing.T) {
	s := openTemp(t)
	limit := big.NewInt(150) // newPayment pays 100: one fits, two do not
	payer := randAddr()
	try := func(id string, chain uint64, lim Limits) error {
		putRequest(t, s, id)
		p := on(chain, newPayment(id))
		p.From, p.Nonce = payer, uint64(len(id))
		_, _, err := s.AcceptLimited(bg, p, t0, lim)
		return err
	}
	total := Limits{Unsettled: limit}
	perPayer := Limits{PerPayer: limit}
	for _, tc := range []struct {
		id    string
		chain uint64
		lim   Limits
		want  error
	}{
		{"a1", chainA, total, nil},
		{"a22", chainA, total, ErrExposureLimit},
		{"b1", chainB, total, nil},
		{"b22", chainB, perPayer, ErrPayerLimit},
		{"c1", 10, perPayer, nil},
	} {
		wantErr(t, tc.id, try(tc.id, tc.chain, tc.lim), tc.want)
	}
	for chain, want := range map[uint64]int64{chainA: 100, chainB: 100, 10: 100, 11: 0} {
		if u, _ := s.Chain(chain).Unsettled("ETH"); u.Int64() != want {
			t.Fatalf("chain %d: unsettled %s, want %d", chain, u, want)
		}
	}
}

// A transfer the watcher sees on chain B pays only a request offered on
// B: one offered on A alone is not paid (unmatched, no request), one
// offering both is, and its payment is B's.
func TestRecordRangeOnAChainPaysOnlyRequestsOfferedThere(t *testing.T) {
	s := openTemp(t)
	onlyA := newRequest("only-a")
	onlyA.Chains = []uint64{chainA}
	both := newRequest("both")
	both.Chains = []uint64{chainA, chainB}
	for _, r := range []Request{onlyA, both} {
		if err := s.PutRequest(bg, r); err != nil {
			t.Fatal(err)
		}
	}
	if r, _ := s.Request("both"); !slices.Equal(r.Chains, both.Chains) {
		t.Fatalf("stored chains %v, want %v", r.Chains, both.Chains)
	}
	transfer := func(block uint64, amount *big.Int) Transfer {
		return Transfer{Block: block, BlockHash: common.Hash{byte(block)}, BlockTime: t0.Add(time.Minute), TxHash: randHash(),
			From: randAddr(), Asset: "ETH", Amount: amount}
	}
	out, err := s.Chain(chainB).RecordRangeOutcome(bg, WatchCursor{Height: 5}, []Transfer{transfer(5, onlyA.Amount), transfer(5, both.Amount)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Unmatched) != 1 || out.Unmatched[0].Reason != UnmatchedNoRequest || out.Unmatched[0].ChainID != chainB {
		t.Fatalf("unmatched %+v, want only-a's amount unmatched on chain B", out.Unmatched)
	}
	if len(out.Payments) != 1 || out.Payments[0].RequestID != "both" || out.Payments[0].ChainID != chainB {
		t.Fatalf("payments %+v, want both's, on chain B", out.Payments)
	}
	if r, _ := s.Request("only-a"); r.Status != RequestPending {
		t.Fatalf("only-a is %s, want pending", r.Status)
	}
	// On A it is paid.
	out, err = s.Chain(chainA).RecordRangeOutcome(bg, WatchCursor{Height: 9}, []Transfer{transfer(9, onlyA.Amount)})
	if err != nil || len(out.Payments) != 1 || out.Payments[0].ChainID != chainA {
		t.Fatalf("on chain A: %+v, %v", out, err)
	}
	if ps, _ := s.Payments(PaymentFilter{State: PaymentUnmatched, ChainID: chainA}); len(ps) != 0 {
		t.Fatalf("chain A's unmatched: %d, want none", len(ps))
	}
	if ps, _ := s.Payments(PaymentFilter{State: PaymentUnmatched, ChainID: chainB}); len(ps) != 1 {
		t.Fatalf("chain B's unmatched: %d, want 1", len(ps))
	}
	reopenStore(t, s)
}

// PutRequest takes at most request.MaxOptions chains, none 0, none twice.
func TestPutRequestChecksItsChains(t *testing.T) {
	s := openTemp(t)
	for i, chains := range [][]uint64{
		{1, 2, 3, 4, 5, 6, 7, 8, 9},
		{chainA, 0},
		{chainA, chainB, chainA},
	} {
		r := newRequest(reqID(i))
		r.Chains = chains
		if err := s.PutRequest(bg, r); err == nil {
			t.Errorf("chains %v accepted", chains)
		}
		if _, err := s.Request(r.ID); !errors.Is(err, ErrUnknownRequest) {
			t.Errorf("chains %v: the request was stored", chains)
		}
	}
	r := newRequest("eight")
	r.Chains = []uint64{1, 2, 3, 4, 5, 6, 7, 8}
	if err := s.PutRequest(bg, r); err != nil {
		t.Fatal(err)
	}
}

// Each chain's watcher has its own cursor; a reorg on one chain takes back
// that chain's records only.
func TestWatchCursorsAndRewindsArePerChain(t *testing.T) {
	s := openTemp(t)
	ra, rb := newRequest("ra"), newRequest("rb")
	ra.Chains, rb.Chains = []uint64{chainA}, []uint64{chainB}
	for _, r := range []Request{ra, rb} {
		if err := s.PutRequest(bg, r); err != nil {
			t.Fatal(err)
		}
	}
	record := func(chain, block uint64, r Request, stray bool) {
		t.Helper()
		ts := []Transfer{{Block: block, BlockHash: common.Hash{byte(block)}, BlockTime: t0.Add(time.Minute), TxHash: randHash(),
			From: randAddr(), Asset: "ETH", Amount: r.Amount}}
		if stray {
			ts = append(ts, Transfer{Block: block, BlockHash: common.Hash{byte(block)}, BlockTime: t0.Add(time.Minute), TxHash: randHash(),
				From: randAddr(), Asset: "ETH", Amount: big.NewInt(7)})
		}
		if err := s.Chain(chain).RecordRange(bg, WatchCursor{Height: block, Hashes: []common.Hash{{byte(block)}}}, ts); err != nil {
			t.Fatal(err)
		}
	}
	record(chainA, 100, ra, true)
	record(chainB, 7, rb, true)
	for chain, h := range map[uint64]uint64{chainA: 100, chainB: 7} {
		c, ok, err := s.Chain(chain).WatchCursor()
		if err != nil || !ok || c.Height != h {
			t.Fatalf("chain %d: cursor %+v %v %v, want %d", chain, c, ok, err, h)
		}
	}
	if _, ok, _ := s.Chain(1).WatchCursor(); ok {
		t.Fatal("a chain never watched has a cursor")
	}
	// Below B's cursor for A, but A's is at 100: A's own rule.
	if err := s.Chain(chainA).RecordRange(bg, WatchCursor{Height: 50}, nil); !errors.Is(err, ErrBadTransition) {
		t.Fatalf("chain A back to 50: %v", err)
	}
	// Settle on A leaves B's seen payment seen.
	if err := s.Chain(chainA).Settle(bg, 100, 0); err != nil {
		t.Fatal(err)
	}
	pa, _ := s.Request("ra")
	pb, _ := s.Request("rb")
	if p, _ := s.Payment(pa.PaidTx); p.State != PaymentConfirmed {
		t.Fatalf("chain A's payment %s, want confirmed", p.State)
	}
	if p, _ := s.Payment(pb.PaidTx); p.State != PaymentSeen {
		t.Fatalf("chain B's payment %s after chain A settled, want seen", p.State)
	}
	// A reorg on B below its block 7 takes back B's payment and receipt.
	out, err := s.Chain(chainB).RewindOutcome(bg, WatchCursor{Height: 6})
	if err != nil || len(out.Payments) != 1 || len(out.Unmatched) != 1 {
		t.Fatalf("rewind of chain B: %+v, %v", out, err)
	}
	if r, _ := s.Request("rb"); r.Status != RequestPending {
		t.Fatalf("rb is %s after B's rewind, want pending", r.Status)
	}
	if r, _ := s.Request("ra"); r.Status != RequestPaid {
		t.Fatalf("ra is %s after B's rewind, want paid", r.Status)
	}
	if c, _, _ := s.Chain(chainA).WatchCursor(); c.Height != 100 {
		t.Fatalf("chain A's cursor moved to %d with B's rewind", c.Height)
	}
	if ps, _ := s.Payments(PaymentFilter{State: PaymentUnmatched}); len(ps) != 1 || ps[0].ChainID != chainA {
		t.Fatalf("unmatched after B's rewind: %+v, want A's one", ps)
	}
	// A rewind on A to below its block, too: B is untouched.
	if out, err := s.Chain(chainA).RewindOutcome(bg, WatchCursor{Height: 6}); err != nil || len(out.Payments) != 1 {
		t.Fatalf("rewind of chain A: %+v, %v", out, err)
	}
	if c, _, _ := s.Chain(chainB).WatchCursor(); c.Height != 6 {
		t.Fatalf("chain B's cursor %d, want 6", c.Height)
	}
	byChain, _ := s.CountsByChain()
	if byChain[chainA][PaymentConfirmed] != 0 || byChain[chainA][PaymentUnmatched] != 0 || byChain[chainB][PaymentSeen] != 0 {
		t.Fatalf("counts after both rewinds: %v", byChain)
	}
	reopenStore(t, s)
}

// The pruner's guard, spent_nonces, is per chain: a final payment's nonce
// pruned on A stays spent on A, and is free on B.
func TestAPrunedNonceIsSpentOnItsChainOnly(t *testing.T) {
	clock := newClock(t0)
	s := openPruneStore(t, filepath.Join(t.TempDir(), "pos.db"), clock)
	defer func() { _ = s.Close() }()
	final := paidAt(t, s, "final", t0.Add(-48*time.Hour), PaymentFinal) // testChain, nonce 7
	if sum := pruneAll(t, s, t0, 10); sum.Payments != 1 {
		t.Fatalf("pruned %+v", sum)
	}
	s = reopenChecked(t, s, clock)
	for i, tc := range []struct {
		chain uint64
		want  error
	}{{testChain, ErrNonceConflict}, {chainB, nil}} {
		id := reqID(i)
		putRequest(t, s, id)
		p := on(tc.chain, newPayment(id))
		p.From, p.Nonce = final.From, 7
		_, _, err := s.Accept(bg, p, t0, nil)
		wantErr(t, fmt.Sprintf("chain %d", tc.chain), err, tc.want)
	}
}

// A payment's events say its chain.
func TestEventsCarryTheChainID(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	p := mustAccept(t, s, on(chainB, newPayment("r1")))
	evs, err := s.Events(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Payment == nil {
			continue
		}
		var raw struct {
			Payment map[string]any `json:"payment"`
		}
		if err := json.Unmarshal(e.Body, &raw); err != nil {
			t.Fatal(err)
		}
		if id, _ := raw.Payment["chain_id"].(float64); id != chainB || e.Payment.ChainID != chainB || e.Payment.ID != p.TxHash {
			t.Fatalf("event %s: chain_id %v (%d), want %d: %s", e.Kind, raw.Payment["chain_id"], e.Payment.ChainID, chainB, e.Body)
		}
		return
	}
	t.Fatal("no payment event")
}

// Open refuses a schema 13 file whose count or sum is under no chain.
func TestOpenRefusesACountUnderNoChain(t *testing.T) {
	for _, b := range [][]byte{bucketCounts, bucketUnsettled} {
		t.Run(string(b), func(t *testing.T) {
			s := openTemp(t)
			putRequest(t, s, "r1")
			mustAccept(t, s, newPayment("r1"))
			path := s.Path()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			k, v := []byte(PaymentQueued), countBytes(1)
			if bytes.Equal(b, bucketUnsettled) {
				k, v = []byte("ETH"), []byte("100")
			}
			err = db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(b).Put(k, seal(b, k, v)) })
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Open(path, nil); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			}
		})
	}
}

// One chain's windowed reads never touch another chain's entries: with
// every open and unfinal entry of chain B damaged (a read of any fails
// ErrCorrupt), chain A's reads, to the ends of its indexes, before,
// after and between B's keys, all succeed.
func TestAChainsReadsNeverReadAnotherChainsEntries(t *testing.T) {
	s := openTemp(t)
	var a []Payment
	for i := range 8 {
		chain := uint64(chainA)
		if i%2 == 1 {
			chain = chainB
		}
		// Chain ids sort B after A: lay A's on both sides of B's by using
		// a third chain below A too.
		if i == 6 {
			chain = 1
		}
		id := reqID(i)
		putRequest(t, s, id)
		p := mustAccept(t, s, on(chain, newPayment(id)))
		if i%4 == 1 {
			if p, _ = s.SetPaymentState(bg, p.TxHash, PaymentConfirmed, "", t0); p.State != PaymentConfirmed {
				t.Fatal("not confirmed")
			}
		}
		if chain == chainA {
			a = append(a, p)
		}
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketOpen, bucketUnfinal} {
			var keys [][]byte
			c := tx.Bucket(b).Cursor()
			for k, _ := c.Seek(chainPrefix(chainB)); k != nil && bytes.HasPrefix(k, chainPrefix(chainB)); k, _ = c.Next() {
				keys = append(keys, bytes.Clone(k))
			}
			if len(keys) == 0 {
				return fmt.Errorf("no entries of chain B in %s", b)
			}
			for _, k := range keys {
				if err := tx.Bucket(b).Put(k, []byte("damaged")); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Chain(chainB).OpenPaymentsAfter(nil, 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("chain B's damaged queue: %v, want ErrCorrupt", err)
	}
	ca := s.Chain(chainA)
	for _, limit := range []int{1, 2, 100} {
		var after *OpenKey
		for n := 0; ; n++ {
			ps, err := ca.OpenPaymentsAfter(after, limit)
			if err != nil {
				t.Fatalf("limit %d: chain A's queue read chain B's: %v", limit, err)
			}
			if len(ps) < limit || n > len(a) {
				break
			}
			k := ps[len(ps)-1].OpenKey()
			after = &k
		}
		if _, err := ca.UnfinalAfter(nil, limit); err != nil {
			t.Fatalf("limit %d: chain A's unfinal read chain B's: %v", limit, err)
		}
	}
	for _, p := range a {
		if _, _, err := ca.OpenBefore(p.From, p.Nonce+1); err != nil {
			t.Fatalf("OpenBefore on chain A read chain B's: %v", err)
		}
	}
	if _, err := s.Chain(1).OpenPaymentsAfter(nil, 0); err != nil {
		t.Fatalf("chain 1 (below A) read further: %v", err)
	}
}

// A transfer's identity is its chain's: a balance gap on one chain at the
// height of one recorded on another, and a transaction replayed on both
// (a legacy one with no chain id has one hash everywhere), are each
// recorded on both, not dropped as recorded before; a rewind of one chain
// takes back its own only, and Open's checks pass on what is left.
func TestTransfersAtOneHeightOnTwoChainsAreBothRecorded(t *testing.T) {
	tests := []struct {
		name string
		tr   Transfer
	}{
		{"a balance gap", Transfer{Block: 10, BlockTime: t0.Add(time.Minute), Asset: "ETH", Amount: big.NewInt(7), Gap: true}},
		{"a replayed transaction", Transfer{Block: 10, BlockTime: t0.Add(time.Minute), TxHash: randHash(), Index: 3, From: randAddr(), Asset: "ETH", Amount: big.NewInt(7)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			for _, chain := range []uint64{chainA, chainB} {
				out, err := s.Chain(chain).RecordRangeOutcome(bg, WatchCursor{Height: 10, Hashes: []common.Hash{randHash()}}, []Transfer{tc.tr})
				if err != nil || len(out.Unmatched) != 1 {
					t.Fatalf("chain %d: recorded %+v, %v, want one unmatched receipt", chain, out, err)
				}
			}
			perChain := func() map[uint64]int {
				m := map[uint64]int{}
				for _, u := range unmatchedList(t, s) {
					m[u.ChainID]++
				}
				return m
			}
			if m := perChain(); m[chainA] != 1 || m[chainB] != 1 {
				t.Fatalf("unmatched receipts per chain %v, want one on each", m)
			}
			if err := s.Chain(chainB).Rewind(bg, WatchCursor{Height: 9, Hashes: []common.Hash{randHash()}}); err != nil {
				t.Fatal(err)
			}
			if m := perChain(); m[chainA] != 1 || m[chainB] != 0 {
				t.Fatalf("after chain %d's rewind: unmatched receipts per chain %v", chainB, m)
			}
			path := s.Path()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s2, err := Open(path, nil)
			if err != nil {
				t.Fatalf("Open after recording on two chains: %v", err)
			}
			s2.Close()
		})
	}
}

// A handed-over payment's transaction seen mined on its own chain is that
// payment's transfer; the same transaction replayed on another chain (one
// with no chain id has one hash on every chain) is money the merchant got
// a second time there: an unmatched receipt on that chain.
func TestAHandoverReplayedOnAnotherChainIsUnmatchedThere(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	p := on(chainA, newPayment("r1"))
	mustAccept(t, s, p)
	tr := Transfer{Block: 10, BlockTime: t0.Add(time.Minute), TxHash: p.TxHash, From: p.From, Asset: "ETH", Amount: big.NewInt(100)}
	for _, tc := range []struct {
		chain     uint64
		unmatched int
	}{{chainA, 0}, {chainB, 1}} {
		out, err := s.Chain(tc.chain).RecordRangeOutcome(bg, WatchCursor{Height: 10, Hashes: []common.Hash{randHash()}}, []Transfer{tr})
		if err != nil || len(out.Payments) != 0 || len(out.Unmatched) != tc.unmatched {
			t.Fatalf("chain %d: recorded %+v, %v, want %d unmatched", tc.chain, out, err, tc.unmatched)
		}
		if tc.unmatched > 0 && (out.Unmatched[0].ChainID != tc.chain || out.Unmatched[0].Reason != UnmatchedSecondInTx) {
			t.Fatalf("chain %d: unmatched %+v, want one of that chain, reason %s", tc.chain, out.Unmatched[0], UnmatchedSecondInTx)
		}
	}
}
