package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// The relayer's journal (schema 7).
//
// The relayer (sync/relay) settles authorizations with transactions it
// signs from its own account. Each is recorded here BEFORE it is sent,
// keyed by its chain, account and nonce, with every hash it was signed
// under as its fees rose; each of those hashes names its authorization in
// relay_hashes, so the chain watcher knows the settlement's transfer for
// the authorization's (RecordRange) and never counts it again. Outcomes
// move the authorization's payment in the same durable write.

// RelayTxState is where a relayer transaction stands (sync/relay.TxState).
type RelayTxState string

// Relayer transaction states: sent and mined are live (RelayTxs returns
// them), final and dropped ended.
const (
	RelayTxSent    RelayTxState = "sent"
	RelayTxMined   RelayTxState = "mined"
	RelayTxFinal   RelayTxState = "final"
	RelayTxDropped RelayTxState = "dropped"
)

func (s RelayTxState) live() bool { return s == RelayTxSent || s == RelayTxMined }

func (s RelayTxState) known() bool { return s.live() || s == RelayTxFinal || s == RelayTxDropped }

// RelayTx is one relayer transaction (sync/relay.Tx, field for field, with
// its chain and account): one nonce, one authorization, every hash.
type RelayTx struct {
	ChainID   uint64
	Relayer   common.Address
	Nonce     uint64
	AuthID    common.Hash // the authorization's payment
	Token     common.Address
	From      common.Address
	AuthNonce common.Hash
	Hashes    []common.Hash // every hash signed, oldest first
	Raw       []byte        // the latest signed transaction
	TipCap    *big.Int
	FeeCap    *big.Int
	SignedAt  time.Time
	State     RelayTxState
	Mined     bool // Block and BlockHash are set
	Block     uint64
	BlockHash common.Hash
}

type relayTxRecord struct {
	ChainID   uint64         `json:"chain_id"`
	Relayer   common.Address `json:"relayer"`
	Nonce     uint64         `json:"nonce"`
	AuthID    common.Hash    `json:"auth_id"`
	Token     common.Address `json:"token"`
	From      common.Address `json:"from"`
	AuthNonce common.Hash    `json:"auth_nonce"`
	Hashes    []common.Hash  `json:"hashes"`
	Raw       []byte         `json:"raw"`
	TipCap    string         `json:"tip_cap"`
	FeeCap    string         `json:"fee_cap"`
	SignedAt  time.Time      `json:"signed_at"`
	State     RelayTxState   `json:"state"`
	Mined     bool           `json:"mined,omitempty"`
	Block     uint64         `json:"block,omitempty"`
	BlockHash common.Hash    `json:"block_hash,omitempty"`
}

func relayTxKey(chainID uint64, relayer common.Address, nonce uint64) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 36), chainID)
	k = append(k, relayer[:]...)
	return binary.BigEndian.AppendUint64(k, nonce)
}

func relayPrefix(chainID uint64, relayer common.Address) []byte {
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, 28), chainID), relayer[:]...)
}

func encodeRelayTx(t RelayTx) ([]byte, error) {
	rec := relayTxRecord{
		ChainID: t.ChainID, Relayer: t.Relayer, Nonce: t.Nonce, AuthID: t.AuthID, Token: t.Token,
		From: t.From, AuthNonce: t.AuthNonce, Hashes: t.Hashes, Raw: t.Raw,
		TipCap: bigOrZero(t.TipCap).String(), FeeCap: bigOrZero(t.FeeCap).String(),
		SignedAt: storeTime(t.SignedAt), State: t.State, Mined: t.Mined, Block: t.Block, BlockHash: t.BlockHash,
	}
	return json.Marshal(rec)
}

func decodeRelayTx(b []byte) (RelayTx, error) {
	var r relayTxRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return RelayTx{}, fmt.Errorf("relay tx: %v: %w", err, ErrCorrupt)
	}
	tip, ok1 := new(big.Int).SetString(r.TipCap, 10)
	cap_, ok2 := new(big.Int).SetString(r.FeeCap, 10)
	if !ok1 || !ok2 || !r.State.known() || len(r.Hashes) == 0 {
		return RelayTx{}, fmt.Errorf("relay tx %d: fees %q/%q, state %q, %d hashes: %w", r.Nonce, r.TipCap, r.FeeCap, r.State, len(r.Hashes), ErrCorrupt)
	}
	return RelayTx{
		ChainID: r.ChainID, Relayer: r.Relayer, Nonce: r.Nonce, AuthID: r.AuthID, Token: r.Token,
		From: r.From, AuthNonce: r.AuthNonce, Hashes: r.Hashes, Raw: r.Raw, TipCap: tip, FeeCap: cap_,
		SignedAt: r.SignedAt, State: r.State, Mined: r.Mined, Block: r.Block, BlockHash: r.BlockHash,
	}, nil
}

func bigOrZero(x *big.Int) *big.Int {
	if x == nil {
		return new(big.Int)
	}
	return x
}

// RelayTxs returns the live (sent, mined) transactions of one relayer
// account on one chain, in nonce order. It costs what it returns.
func (cs *ChainStore) RelayTxs(relayer common.Address) ([]RelayTx, error) {
	var out []RelayTx
	prefix := relayPrefix(cs.id, relayer)
	err := cs.view(func(tx *bbolt.Tx) error {
		c, txs := tx.Bucket(bucketRelayLive).Cursor(), tx.Bucket(bucketRelayTxs)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			body, err := checkValue(bucketRelayTxs, k, txs.Get(k))
			if err != nil {
				return fmt.Errorf("relay tx %x: %w", k, err)
			}
			t, err := decodeRelayTx(body)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RelayAuthorization returns the authorization a relayer transaction hash
// settles; ok is false for a hash the relayer never signed.
func (s *Store) RelayAuthorization(hash common.Hash) (auth common.Hash, ok bool, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		v, err := checkValue(bucketRelayHashes, hash[:], tx.Bucket(bucketRelayHashes).Get(hash[:]))
		if err != nil || v == nil {
			return err
		}
		auth, ok = common.BytesToHash(v), true
		return nil
	})
	return auth, ok, err
}

// RecordRelayTx stores t durably, keyed by its chain, account and nonce: a
// new transaction, a new hash of the same nonce (a fee bump) or a state
// change; every hash of it enters relay_hashes, naming t.AuthID. A
// transaction first recorded while its authorization is queued moves it
// to broadcast in the same write. It refuses (ErrBadRelayTx) a t whose
// AuthID is no authorization, with no hash or an unknown state, or one of
// whose hashes names another authorization, and then changes nothing.
func (s *Store) RecordRelayTx(ctx context.Context, t RelayTx, now time.Time) error {
	if !t.State.known() || len(t.Hashes) == 0 || len(t.Raw) == 0 {
		return fmt.Errorf("record relay tx %d: state %q, %d hashes, %d bytes: %w", t.Nonce, t.State, len(t.Hashes), len(t.Raw), ErrBadRelayTx)
	}
	enc, err := encodeRelayTx(t)
	if err != nil {
		return fmt.Errorf("record relay tx %d: %w", t.Nonce, err)
	}
	key := relayTxKey(t.ChainID, t.Relayer, t.Nonce)
	return s.write(ctx, func(w *wtx) error {
		p, err := loadPayment(w, t.AuthID)
		if err != nil {
			return fmt.Errorf("record relay tx %d: authorization %s: %w", t.Nonce, t.AuthID, err)
		}
		if p.Source != SourceAuthorization {
			return fmt.Errorf("record relay tx %d: payment %s is a %s, not an authorization: %w", t.Nonce, t.AuthID, p.Source, ErrBadRelayTx)
		}
		for _, h := range t.Hashes {
			held, err := w.getChecked(bucketRelayHashes, h[:])
			if err != nil {
				return err
			}
			if held != nil && !bytes.Equal(held, t.AuthID[:]) {
				return fmt.Errorf("record relay tx %d: hash %s settles authorization 0x%x already: %w", t.Nonce, h, held, ErrBadRelayTx)
			}
		}
		// The row by authorization (schema 11), moved if the nonce's row
		// named another one before.
		var before *common.Hash
		if old, err := w.getChecked(bucketRelayTxs, key); err != nil {
			return err
		} else if old != nil {
			prev, err := decodeRelayTx(old)
			if err != nil {
				return fmt.Errorf("record relay tx %d: %w", t.Nonce, err)
			}
			before = &prev.AuthID
		}
		if before != nil && *before != t.AuthID {
			if err := w.del(bucketRelayByAuth, relayByAuthKey(*before, key)); err != nil {
				return err
			}
		}
		if err := w.putChecked(bucketRelayByAuth, relayByAuthKey(t.AuthID, key), nil); err != nil {
			return err
		}
		for _, h := range t.Hashes {
			if err := w.putChecked(bucketRelayHashes, h[:], t.AuthID[:]); err != nil {
				return err
			}
		}
		if err := w.putChecked(bucketRelayTxs, key, enc); err != nil {
			return err
		}
		if t.State.live() {
			if err := w.putChecked(bucketRelayLive, key, t.AuthID[:]); err != nil {
				return err
			}
		} else if held, err := w.getChecked(bucketRelayLive, key); err != nil {
			return err
		} else if held != nil {
			if err := w.del(bucketRelayLive, key); err != nil {
				return err
			}
		}
		if t.State == RelayTxSent && p.State == PaymentQueued {
			next := p
			next.State = PaymentBroadcast
			if next.Delivery.SentAt.IsZero() {
				next.Delivery.SentAt = storeTime(now)
			}
			pw, err := planTransition(w, p, next, storeTime(now))
			if err != nil {
				return fmt.Errorf("record relay tx %d: %w", t.Nonce, err)
			}
			return pw.do(w)
		}
		return nil
	})
}

// RelayOutcomeState is what became of an authorization
// (sync/relay.OutcomeState).
type RelayOutcomeState string

// Outcome states and the payment state each moves the authorization to.
const (
	RelayConfirmed   RelayOutcomeState = "confirmed"   // -> confirmed
	RelayUnconfirmed RelayOutcomeState = "unconfirmed" // -> broadcast: its block was lost, it counts again
	RelayFinal       RelayOutcomeState = "final"       // -> final
	RelayFailed      RelayOutcomeState = "failed"      // -> failed, with the reason
)

// RelayOutcome is reported for an authorization by the relayer.
type RelayOutcome struct {
	AuthID    common.Hash
	State     RelayOutcomeState
	Reason    string      // failed: why
	Tx        common.Hash // the transaction that settled or failed it; zero: none sent
	Block     uint64      // its block, when mined (with BlockHash)
	BlockHash common.Hash
}

// ReportRelayOutcome moves the authorization's payment as o says, in one
// durable write, by SetPaymentState's rules (leaving queued or broadcast
// frees its exposure; final and failed end it, and OpenAuthorizations no
// longer returns it). It records o.Tx as the authorization's Settlement
// and the block in its Delivery. Reporting again what the payment already
// shows is a no-op, and so is a late confirmed or unconfirmed for one
// already final or failed (a crash between the report and the
// transaction's end repeats it); final for a failed one, or failed for a
// final one, is ErrBadTransition and changes nothing.
func (s *Store) ReportRelayOutcome(ctx context.Context, o RelayOutcome, now time.Time) (Payment, error) {
	var to PaymentState
	switch o.State {
	case RelayConfirmed:
		to = PaymentConfirmed
	case RelayUnconfirmed:
		to = PaymentBroadcast
	case RelayFinal:
		to = PaymentFinal
	case RelayFailed:
		to = PaymentFailed
		if o.Reason == "" {
			return Payment{}, fmt.Errorf("report %s: failed without a reason: %w", o.AuthID, ErrBadRelayTx)
		}
	default:
		return Payment{}, fmt.Errorf("report %s: outcome %q: %w", o.AuthID, o.State, ErrBadRelayTx)
	}
	var out Payment
	err := s.write(ctx, func(w *wtx) error {
		p, err := loadPayment(w, o.AuthID)
		if err != nil {
			return fmt.Errorf("report %s: %w", o.AuthID, err)
		}
		if p.Source != SourceAuthorization {
			return fmt.Errorf("report %s: a %s payment, not an authorization: %w", o.AuthID, p.Source, ErrBadRelayTx)
		}
		if p.State.terminal() {
			if p.State == to || o.State == RelayConfirmed || o.State == RelayUnconfirmed {
				out = p
				return nil
			}
			return fmt.Errorf("report %s: %s -> %s: %w", o.AuthID, p.State, to, ErrBadTransition)
		}
		next := p
		next.State, next.Reason = to, o.Reason
		if to == PaymentBroadcast && p.State.unsettled() {
			next.State = p.State // not mined yet: nothing to undo
		}
		a := p.Authorization.clone()
		if o.Tx != (common.Hash{}) {
			a.Settlement = o.Tx
		}
		next.Authorization = a
		switch o.State {
		case RelayConfirmed, RelayFinal:
			if o.Block != 0 {
				next.Delivery.Block, next.Delivery.BlockHash = o.Block, o.BlockHash
			}
		case RelayUnconfirmed:
			if p.State == PaymentConfirmed {
				next.Delivery.Reorgs++
				next.Delivery.ReorgNote = fmt.Sprintf("block %d (%s) left the chain", p.Delivery.Block, p.Delivery.BlockHash)
			}
			next.Delivery.Block, next.Delivery.BlockHash = 0, common.Hash{}
		}
		pw, err := planTransition(w, p, next, storeTime(now))
		if err != nil {
			return fmt.Errorf("report %s: %w", o.AuthID, err)
		}
		if err := pw.do(w); err != nil {
			return fmt.Errorf("report %s: %w", o.AuthID, err)
		}
		out = pw.p
		return nil
	})
	if err != nil {
		return Payment{}, err
	}
	return out, nil
}

// OpenAuthorizationsAfter is OpenAuthorizations after the authorization
// whose ID is after (the zero hash: from the first), for a queue that
// names authorizations by ID: it reads after's Seq, whatever its state now.
func (cs *ChainStore) OpenAuthorizationsAfter(after common.Hash, limit int) ([]Payment, error) {
	seq := uint64(0)
	if after != (common.Hash{}) {
		p, err := cs.s.Payment(after)
		if err != nil {
			return nil, fmt.Errorf("open authorizations after %s: %w", after, err)
		}
		seq = p.Seq
	}
	return cs.OpenAuthorizations(seq, limit)
}

// relayBuckets are the buckets schema 7 added.
var relayBuckets = [][]byte{bucketRelayTxs, bucketRelayLive, bucketRelayHashes}

// migrateRelay brings a schema 6 file (the steps before bring older ones
// that far) to schema 7 in one bbolt transaction that also records the
// new version: it makes the relayer's journal buckets, empty (no build
// before schema 7 sent a settlement). It then verifies the file again.
// Other files are left as they are.
func migrateRelay(db *bbolt.DB, path string, log *slog.Logger) error {
	schema, err := dbSchema(db)
	if err != nil {
		return corruptErr(path, err)
	}
	if schema != schemaV6 {
		return nil
	}
	began := time.Now()
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range relayBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return m.Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV7)))
	})
	if err != nil {
		return fmt.Errorf("store: open %s: migrate schema 6 to 7: %w", path, err)
	}
	if err := verify(db, schemaV7); err != nil {
		return corruptErr(path, fmt.Errorf("after migrating to schema 7: %w", err))
	}
	log.Info("store: migrated schema 6 to 7: the relayer's journal", "path", path, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// checkRelay requires the relayer's journal to agree with itself and the
// authorizations: every transaction at its own key names an authorization
// payment, every hash of it names that authorization in relay_hashes, the
// live ones (and only they) are in relay_live; every relay_hashes entry
// names an authorization. A hash missing from relay_hashes would make the
// watcher count a settlement twice; a live transaction missing from
// relay_live would let the relayer sign a second one for its
// authorization.
func checkRelay(tx *bbolt.Tx) error {
	for _, name := range relayBuckets {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("bucket %s missing: %w", name, ErrCorrupt)
		}
	}
	hashes, live := tx.Bucket(bucketRelayHashes), tx.Bucket(bucketRelayLive)
	isAuth := func(id []byte) bool {
		p, err := paymentByHash(tx, id)
		return err == nil && p.Source == SourceAuthorization
	}
	nLive := 0
	if err := tx.Bucket(bucketRelayTxs).ForEach(func(k, v []byte) error {
		body, err := checkValue(bucketRelayTxs, k, v)
		if err != nil {
			return err
		}
		t, err := decodeRelayTx(body)
		if err != nil {
			return fmt.Errorf("bucket %s: key %x: %w", bucketRelayTxs, k, err)
		}
		bad := func(what string) error {
			return fmt.Errorf("bucket %s: key %x (nonce %d, authorization %s): %s: %w", bucketRelayTxs, k, t.Nonce, t.AuthID, what, ErrCorrupt)
		}
		if !bytes.Equal(k, relayTxKey(t.ChainID, t.Relayer, t.Nonce)) {
			return bad("not at its own key")
		}
		if !isAuth(t.AuthID[:]) {
			return bad("names no authorization")
		}
		for _, h := range t.Hashes {
			held, err := checkValue(bucketRelayHashes, h[:], hashes.Get(h[:]))
			if err != nil || !bytes.Equal(held, t.AuthID[:]) {
				return bad(fmt.Sprintf("hash %s not indexed to it", h))
			}
		}
		held, err := checkValue(bucketRelayLive, k, live.Get(k))
		if err != nil {
			return err
		}
		if t.State.live() != (held != nil) || (held != nil && !bytes.Equal(held, t.AuthID[:])) {
			return bad(fmt.Sprintf("state %s but live index %x", t.State, held))
		}
		if held != nil {
			nLive++
		}
		return nil
	}); err != nil {
		return err
	}
	if n := live.Stats().KeyN; n != nLive {
		return fmt.Errorf("bucket %s: %d entries for %d live transactions: %w", bucketRelayLive, n, nLive, ErrCorrupt)
	}
	return hashes.ForEach(func(k, v []byte) error {
		id, err := checkValue(bucketRelayHashes, k, v)
		if err != nil {
			return err
		}
		if len(k) != common.HashLength || !isAuth(id) {
			return fmt.Errorf("bucket %s: key %x names 0x%x, no authorization: %w", bucketRelayHashes, k, id, ErrCorrupt)
		}
		return nil
	})
}
