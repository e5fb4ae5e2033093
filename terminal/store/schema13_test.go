package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"go.etcd.io/bbolt"
)

// testdata/schema12.db is a schema 12 store made by the build before
// schema 13 (commit 520f89e, with testdata/schema12_gen.go.txt as a test
// of its terminal/store, GEN12=FILE): handed-over payments queued,
// broadcast (sender 0xaa nonces 5 and 6), confirmed, failed and final, one
// final pruned (its nonce in spent_nonces); authorizations queued, sent by
// the relayer (a journal row, relayer 0xbb) and confirmed; two requests
// paid by transfers the watcher saw (one seen, one confirmed), an
// unmatched receipt, the cursor at 4; a pending request.
const schema12File = "testdata/schema12.db"

// copyFixture copies the schema 12 file into a temporary directory.
func copyFixture(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(schema12File)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pos.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// dump is every bucket's keys and values (CRC checked, without it).
func dump(t *testing.T, path string) (schema string, buckets map[string]map[string][]byte) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	buckets = map[string]map[string][]byte{}
	err = db.View(func(tx *bbolt.Tx) error {
		if schema, err = readSchema(tx); err != nil {
			return err
		}
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			m := map[string][]byte{}
			buckets[string(name)] = m
			return b.ForEach(func(k, v []byte) error {
				body, err := checkValue(name, k, v)
				if err != nil {
					return err
				}
				m[string(k)] = bytes.Clone(body)
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return schema, buckets
}

// Opening a schema 12 file that holds payments with no home chain is
// refused, clearly, and leaves it at schema 12 with its records.
func TestOpenOfASchema12FileNeedsTheHomeChain(t *testing.T) {
	path := copyFixture(t)
	_, err := Open(path, nil)
	if !errors.Is(err, ErrNoHomeChain) || !strings.Contains(err.Error(), "HomeChainID") {
		t.Fatalf("Open with no home chain: %v, want ErrNoHomeChain naming HomeChainID", err)
	}
	schema, after := dump(t, path)
	_, before := dump(t, schema12File)
	if schema != schemaV12 || !maps.EqualFunc(after[string(bucketPayments)], before[string(bucketPayments)], bytes.Equal) {
		t.Fatalf("the refused file is at schema %q, its payments changed: %v", schema, !maps.EqualFunc(after[string(bucketPayments)], before[string(bucketPayments)], bytes.Equal))
	}
}

// A schema 12 file holding nothing of a chain (a new terminal's, never
// paid) needs no home chain.
func TestAnEmptySchema12FileNeedsNoHomeChain(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1") // requests are no chain's
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := unchain(tx); err != nil {
			return err
		}
		// Zero counts and sums, as payments come and go, are no chain's either.
		if err := tx.Bucket(bucketCounts).Put([]byte(PaymentQueued), seal(bucketCounts, []byte(PaymentQueued), countBytes(0))); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV12)))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, nil)
	if err != nil {
		t.Fatalf("Open of an empty schema 12 file: %v", err)
	}
	defer s.Close()
	if r, err := s.Request("r1"); err != nil || len(r.Chains) != 0 {
		t.Fatalf("request after migration: %+v, %v", r, err)
	}
	if c, _ := s.Counts(); c[PaymentQueued] != 0 {
		t.Fatalf("counts %v", c)
	}
}

// The migration to schema 13 of a file made by the build before: every
// record and index under the home chain, nothing lost, nothing else
// changed, Open's full checks passing, and the store going on per chain.
func TestOpenMigratesASchema12FileUnderTheHomeChain(t *testing.T) {
	const home = testChain
	path := copyFixture(t)
	schema, old := dump(t, path)
	if schema != schemaV12 {
		t.Fatalf("fixture at schema %q", schema)
	}
	s, err := Open(path, &Options{HomeChainID: home})
	if err != nil {
		t.Fatalf("Open of a schema 12 file: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	schema, got := dump(t, path)
	if schema != schemaVersion {
		t.Fatalf("schema %q after migration", schema)
	}

	// Per-chain buckets: the same entries, each under the home chain.
	for _, b := range chainKeyed {
		want := map[string][]byte{}
		for k, v := range old[string(b)] {
			switch {
			case bytes.Equal(b, bucketOpen):
				v = []byte{} // schema 14: by_sender_nonce names it
			case bytes.Equal(b, bucketBySender): // schema 14: by the payment's Seq
				p, err := decodePayment(v, old[string(bucketPayments)][string(v)])
				if err != nil {
					t.Fatalf("by_sender_nonce names 0x%x: %v", v, err)
				}
				v = seqKey(p.Seq)
			}
			want[string(chainKey(home, []byte(k)))] = v
		}
		if !maps.EqualFunc(got[string(b)], want, bytes.Equal) {
			t.Errorf("bucket %s: %d entries %x, want %d under chain %d", b, len(got[string(b)]), slices.Collect(maps.Keys(got[string(b)])), len(want), home)
		}
		if len(old[string(b)]) == 0 && !bytes.Equal(b, bucketAuthUnfinal) {
			t.Errorf("bucket %s is empty in the fixture: the test proves nothing of it", b)
		}
	}
	// Records: each the same but for its chain.
	for k, v := range old[string(bucketPayments)] {
		was, err := decodePayment([]byte(k), v)
		if err != nil {
			t.Fatal(err)
		}
		now, err := decodePayment([]byte(k), got[string(bucketPayments)][k])
		if err != nil {
			t.Fatal(err)
		}
		was.ChainID = home
		if !paymentsEqual(was, now) {
			t.Errorf("payment %x: %+v, want %+v", k, now, was)
		}
	}
	for k, v := range old[string(bucketUnmatched)] {
		var was, now unmatchedRecord
		_ = json.Unmarshal(v, &was)
		if err := json.Unmarshal(got[string(bucketUnmatched)][k], &now); err != nil {
			t.Fatal(err)
		}
		was.ChainID = home
		if !equalJSON(t, was, now) {
			t.Errorf("unmatched %x: %+v, want %+v", k, now, was)
		}
	}
	for k, v := range old[string(bucketRequests)] {
		was, _ := decodeRequest([]byte(k), v)
		now, err := decodeRequest([]byte(k), got[string(bucketRequests)][k])
		if err != nil {
			t.Fatal(err)
		}
		was.Chains = []uint64{home}
		if !equalJSON(t, was, now) {
			t.Errorf("request %s: %+v, want %+v", k, now, was)
		}
	}
	// Transfers: under the home chain, their identity ending with it.
	if len(old[string(bucketTransfers)]) == 0 {
		t.Errorf("bucket %s is empty in the fixture: the test proves nothing of it", bucketTransfers)
	}
	home8 := chainPrefix(home)
	for k, v := range old[string(bucketTransfers)] {
		if nk := string(chainKey(home, append([]byte(k), home8...))); !bytes.Equal(got[string(bucketTransfers)][nk], v) {
			t.Errorf("transfer %x: not under chain %d as %x", k, home, nk)
		}
	}
	for k, v := range old[string(bucketTransferIDs)] {
		nk := string(append([]byte(k), home8...))
		if want := chainKey(home, v); !bytes.Equal(got[string(bucketTransferIDs)][nk], want) {
			t.Errorf("transfer id %x: %x, want %x", nk, got[string(bucketTransferIDs)][nk], want)
		}
	}
	if len(got[string(bucketTransfers)]) != len(old[string(bucketTransfers)]) || len(got[string(bucketTransferIDs)]) != len(old[string(bucketTransferIDs)]) {
		t.Errorf("transfers %d and ids %d, were %d and %d", len(got[string(bucketTransfers)]), len(got[string(bucketTransferIDs)]),
			len(old[string(bucketTransfers)]), len(old[string(bucketTransferIDs)]))
	}
	if c := got[string(bucketWatch)]; len(c) != 1 || !bytes.Equal(c[string(chainPrefix(home))], old[string(bucketWatch)][string(keyCursor)]) {
		t.Errorf("watch bucket %v, want the cursor under chain %d", c, home)
	}
	// Everything else is as it was, but for the schema.
	rewritten := append(slices.Clone(chainKeyed), bucketPayments, bucketUnmatched, bucketRequests, bucketTransfers, bucketTransferIDs, bucketWatch, bucketMeta)
	for name, entries := range old {
		if slices.ContainsFunc(rewritten, func(b []byte) bool { return string(b) == name }) {
			continue
		}
		if !maps.EqualFunc(got[name], entries, bytes.Equal) {
			t.Errorf("bucket %s changed", name)
		}
	}

	// The store goes on, per chain; Open's full checks pass on every reopen.
	s, err = Open(path, nil) // migrated: no home chain needed any more
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer func() { _ = s.Close() }()
	home13 := s.Chain(home)
	payer := common.HexToAddress("0xaa")
	open, err := home13.OpenPaymentsAfter(nil, 0)
	if err != nil || len(open) != 2 || open[0].From != payer || open[0].Nonce != 5 || open[1].Nonce != 6 {
		t.Fatalf("home chain's queue: %+v, %v", open, err)
	}
	if before, ok, _ := home13.OpenBefore(payer, 6); !ok || before.Nonce != 5 {
		t.Fatalf("OpenBefore: %+v %v", before, ok)
	}
	if u, _ := home13.Unsettled("ETH"); u.Cmp(big.NewInt(400)) != 0 { // 2 handovers and 2 authorizations of 100
		t.Fatalf("unsettled on the home chain: %s, want 400", u)
	}
	if unfinal, _ := home13.UnfinalAfter(nil, 0); len(unfinal) != 1 {
		t.Fatalf("home chain's unfinal: %d, want 1", len(unfinal))
	}
	if auths, _ := home13.OpenAuthorizations(0, 0); len(auths) != 2 {
		t.Fatalf("home chain's open authorizations: %d, want 2", len(auths))
	}
	if auths, _ := home13.UnfinalAuthorizations(0, 0); len(auths) != 1 {
		t.Fatalf("home chain's unfinal authorizations: %d, want 1", len(auths))
	}
	if rows, _ := home13.RelayTxs(common.HexToAddress("0xbb")); len(rows) != 1 {
		t.Fatalf("relay journal: %d live rows, want 1", len(rows))
	}
	if c, ok, _ := home13.WatchCursor(); !ok || c.Height != 4 || len(c.Hashes) != 2 {
		t.Fatalf("cursor %+v %v", c, ok)
	}
	byChain, _ := s.CountsByChain()
	wantCounts := map[PaymentState]int{PaymentQueued: 2, PaymentBroadcast: 2, PaymentSeen: 1, PaymentConfirmed: 3, PaymentFinal: 1, PaymentFailed: 1, PaymentUnmatched: 1}
	if len(byChain) != 1 || !maps.Equal(byChain[home], wantCounts) {
		t.Fatalf("counts by chain %v, want %v on %d alone", byChain, wantCounts, home)
	}
	// The same sender and nonce: refused on the home chain, a new
	// transaction on another.
	putRequest(t, s, "again-home")
	putRequest(t, s, "again-b")
	p := on(home, newPayment("again-home"))
	p.From, p.Nonce = payer, 5
	_, _, err = s.Accept(bg, p, t0, nil)
	wantErr(t, "sender 0xaa nonce 5 on the home chain", err, ErrNonceConflict)
	p = on(chainB, newPayment("again-b"))
	p.From, p.Nonce = payer, 5
	_, _, err = s.Accept(bg, p, t0, nil)
	wantErr(t, "sender 0xaa nonce 5 on chain B", err, nil)
	// The pruned final payment's nonce stays spent on the home chain.
	var spent common.Address
	for k := range old[string(bucketSpentNonces)] {
		spent = common.BytesToAddress([]byte(k))
	}
	putRequest(t, s, "spent")
	p = on(home, newPayment("spent"))
	p.From, p.Nonce = spent, 7
	_, _, err = s.Accept(bg, p, t0, nil)
	wantErr(t, "a pruned nonce on the home chain", err, ErrNonceConflict)
	// The watcher's chain payment settles on its chain.
	if moved, err := home13.SettleOutcome(bg, 4, 4); err != nil || len(moved) != 2 {
		t.Fatalf("settle on the home chain: %d moved, %v; want the seen and the confirmed", len(moved), err)
	}
	// The pending request is the home chain's.
	var pending Request
	for k := range old[string(bucketRequests)] {
		if r, _ := s.Request(k); r.Status == RequestPending && r.ID == "pending" {
			pending = r
		}
	}
	tr := Transfer{Block: 5, BlockHash: common.Hash{5}, BlockTime: t0.Add(time.Minute), TxHash: randHash(), From: randAddr(), Asset: "ETH", Amount: pending.Amount}
	if out, err := s.Chain(chainB).RecordRangeOutcome(bg, WatchCursor{Height: 5}, []Transfer{tr}); err != nil || len(out.Payments) != 0 {
		t.Fatalf("the old request paid on another chain: %+v, %v", out, err)
	}
	tr.TxHash = randHash()
	if out, err := home13.RecordRangeOutcome(bg, WatchCursor{Height: 5}, []Transfer{tr}); err != nil || len(out.Payments) != 1 {
		t.Fatalf("the old request on the home chain: %+v, %v", out, err)
	}
	reopenStore(t, s)
}

// paymentsEqual compares two payments as stored (amounts by value).
func paymentsEqual(a, b Payment) bool {
	if a.Amount.Cmp(b.Amount) != 0 {
		return false
	}
	a.Amount, b.Amount = nil, nil
	ea, _ := json.Marshal(a)
	eb, _ := json.Marshal(b)
	return bytes.Equal(ea, eb)
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ea, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ea, eb)
}

// signFixture gives every handover of the schema 12 file at path a Raw
// signed as a payer's wallet would on chain 1337 (the fixture's are bytes
// that decode to nothing), but one: a legacy transaction with no chain id
// (before EIP-155), which is any chain's. It returns how many name 1337.
func signFixture(t *testing.T, path string) (onChain int) {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketPayments)
		type entry struct{ k, v []byte }
		var all []entry
		if err := b.ForEach(func(k, v []byte) error {
			body, err := checkValue(bucketPayments, k, v)
			if err != nil {
				return err
			}
			var rec map[string]json.RawMessage
			if err := json.Unmarshal(body, &rec); err != nil {
				return err
			}
			if src := string(rec["source"]); src != "" && src != `"handover"` {
				return nil
			}
			signer := types.Signer(types.LatestSignerForChainID(big.NewInt(testChain)))
			if len(all) == 0 {
				signer = types.HomesteadSigner{}
			} else {
				onChain++
			}
			signed, err := types.SignNewTx(key, signer, &types.LegacyTx{Nonce: uint64(len(all)), Gas: 21000, GasPrice: big.NewInt(1), Value: big.NewInt(100)})
			if err != nil {
				return err
			}
			raw, err := signed.MarshalBinary()
			if err != nil {
				return err
			}
			if rec["raw"], err = json.Marshal(raw); err != nil {
				return err
			}
			nv, err := json.Marshal(rec)
			all = append(all, entry{bytes.Clone(k), nv})
			return err
		}); err != nil {
			return err
		}
		for _, e := range all {
			if err := b.Put(e.k, seal(bucketPayments, e.k, e.v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if onChain == 0 {
		t.Fatal("the fixture holds no handover: the test proves nothing")
	}
	return onChain
}

// A schema 12 file whose handed-over payments are signed for another chain
// than the home chain is refused, naming both chains and how many, and
// left as it was: filed under the home chain, the home network's
// broadcaster would send them to a node that refuses them for good. A
// legacy transaction with no chain id counts against no chain.
func TestOpenOfASchema12FileRefusesAHomeChainItsPaymentsAreNotOn(t *testing.T) {
	tests := []struct {
		name    string
		home    uint64
		refused bool
	}{
		{"another chain first is refused", testChain + 1, true},
		{"its own chain first migrates", testChain, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := copyFixture(t)
			n := signFixture(t, path)
			_, before := dump(t, path)
			s, err := Open(path, &Options{HomeChainID: tc.home})
			if !tc.refused {
				if err != nil {
					t.Fatalf("Open with home chain %d: %v", tc.home, err)
				}
				s.Close()
				return
			}
			if err == nil {
				s.Close()
				t.Fatalf("Open with home chain %d: migrated payments signed for chain %d", tc.home, testChain)
			}
			for _, want := range []string{"chain 1337", "chain 1338", fmt.Sprintf("%d payments", n)} {
				if !errors.Is(err, ErrHomeChain) || !strings.Contains(err.Error(), want) {
					t.Fatalf("Open with home chain %d: %v, want ErrHomeChain naming %q", tc.home, err, want)
				}
			}
			schema, after := dump(t, path)
			// Open seals its check with the key file it made (this
			// directory had none) before it migrates: that is no
			// migration's.
			delete(after[string(bucketMeta)], string(keySealCheck))
			delete(before[string(bucketMeta)], string(keySealCheck))
			if schema != schemaV12 || !maps.EqualFunc(after, before, func(a, b map[string][]byte) bool { return maps.EqualFunc(a, b, bytes.Equal) }) {
				t.Fatalf("the refused file changed: schema %q", schema)
			}
		})
	}
}

// docChain is the tests' Options.RequestChain: a fixture request's doc is
// {"id":...}, and one stepped by chainDocs also names "chainId"; a doc
// without one does not parse.
func docChain(doc []byte) (uint64, error) {
	var d struct {
		ChainID *uint64 `json:"chainId"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return 0, err
	}
	if d.ChainID == nil {
		return 0, errors.New("no chainId")
	}
	return *d.ChainID, nil
}

// chainDocs puts "chainId": chain in the docs of the schema 12 file's
// requests ids.
func chainDocs(t *testing.T, path string, chain uint64, ids ...string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketRequests)
		for _, id := range ids {
			body, err := checkValue(bucketRequests, []byte(id), b.Get([]byte(id)))
			if err != nil {
				return fmt.Errorf("request %s: %w", id, err)
			}
			var rec map[string]json.RawMessage
			if err := json.Unmarshal(body, &rec); err != nil {
				return err
			}
			doc := fmt.Sprintf(`{"id":%q,"chainId":%d}`, id, chain)
			if rec["doc"], err = json.Marshal([]byte(doc)); err != nil {
				return err
			}
			nv, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(id), seal(bucketRequests, []byte(id), nv)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A schema 12 file whose open payments are authorizations or seen on chain
// (no raw transaction to tell their chain) is refused under a home chain
// their requests are not signed for, naming both chains and how many, and
// left as it was: filed there, the relayer would settle the authorization
// on the wrong chain, where it fails for good. Their requests' signed
// documents tell the chain (Options.RequestChain). Payments final or
// failed do not count, nor requests whose document does not parse (the
// fixture's other ones); a pending request does. With no RequestChain
// nothing is checked but the handovers' raw transactions.
func TestOpenOfASchema12FileRefusesAHomeChainItsRequestsAreNotOn(t *testing.T) {
	tests := []struct {
		name    string
		home    uint64
		chainOf func([]byte) (uint64, error)
		refused bool
	}{
		{"another chain first is refused", testChain + 1, docChain, true},
		{"its own chain first migrates", testChain, docChain, false},
		{"no RequestChain: not checked", testChain + 1, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := copyFixture(t)
			// A queued authorization, a payment seen on chain, the pending
			// request; a final payment's request, which counts for nothing.
			chainDocs(t, path, testChain, "auth-queued", "chain-seen", "pending", "final")
			_, before := dump(t, path)
			s, err := Open(path, &Options{HomeChainID: tc.home, RequestChain: tc.chainOf})
			if !tc.refused {
				if err != nil {
					t.Fatalf("Open with home chain %d: %v", tc.home, err)
				}
				if r, err := s.Request("auth-queued"); err != nil || !slices.Equal(r.Chains, []uint64{tc.home}) {
					t.Fatalf("migrated request %+v, %v; want it on chain %d", r, err, tc.home)
				}
				s.Close()
				return
			}
			if err == nil {
				s.Close()
				t.Fatalf("Open with home chain %d: migrated payments whose requests are signed for chain %d", tc.home, testChain)
			}
			for _, want := range []string{"chain 1337", "chain 1338", "2 payments", "1 pending request"} {
				if !errors.Is(err, ErrHomeChain) || !strings.Contains(err.Error(), want) {
					t.Fatalf("Open with home chain %d: %v, want ErrHomeChain naming %q", tc.home, err, want)
				}
			}
			schema, after := dump(t, path)
			delete(after[string(bucketMeta)], string(keySealCheck))
			delete(before[string(bucketMeta)], string(keySealCheck))
			if schema != schemaV12 || !maps.EqualFunc(after, before, func(a, b map[string][]byte) bool { return maps.EqualFunc(a, b, bytes.Equal) }) {
				t.Fatalf("the refused file changed: schema %q", schema)
			}
		})
	}
}
