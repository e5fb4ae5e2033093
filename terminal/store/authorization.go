package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"go.etcd.io/bbolt"
)

// Authorization is a signed EIP-3009 transferWithAuthorization as taken
// from a payer (an x402 "exact" payload): everything the relayer needs to
// submit it, beside the Payment's From (the authorizer) and Amount (its
// value).
type Authorization struct {
	Token       common.Address // the token contract
	To          common.Address // the merchant
	ValidAfter  *big.Int       // unix seconds
	ValidBefore *big.Int       // unix seconds
	Nonce       common.Hash    // the payer's one-time nonce
	// Signature is r || s || v, v = 27 or 28, s low: what
	// transferWithAuthorization(…, v, r, s) takes.
	Signature [crypto.SignatureLength]byte
	// Settlement is the relayer's transaction that settled or failed it
	// (ReportRelayOutcome); zero before the relayer reported one.
	Settlement common.Hash
}

func (a *Authorization) clone() *Authorization {
	c := *a
	c.ValidAfter, c.ValidBefore = new(big.Int).Set(a.ValidAfter), new(big.Int).Set(a.ValidBefore)
	return &c
}

// authorizationRecord is Authorization as stored: numbers as decimal
// strings, the signature base64.
type authorizationRecord struct {
	Token       common.Address `json:"token"`
	To          common.Address `json:"to"`
	ValidAfter  string         `json:"valid_after"`
	ValidBefore string         `json:"valid_before"`
	Nonce       common.Hash    `json:"nonce"`
	Signature   []byte         `json:"signature"`
	Settlement  *common.Hash   `json:"settlement,omitempty"`
}

func encodeAuthorization(a *Authorization) *authorizationRecord {
	return &authorizationRecord{
		Token: a.Token, To: a.To, ValidAfter: a.ValidAfter.String(), ValidBefore: a.ValidBefore.String(),
		Nonce: a.Nonce, Signature: bytes.Clone(a.Signature[:]),
		Settlement: settlementPtr(a.Settlement),
	}
}

func settlementPtr(h common.Hash) *common.Hash {
	if h == (common.Hash{}) {
		return nil
	}
	return &h
}

func decodeAuthorization(r *authorizationRecord) (*Authorization, error) {
	after, ok1 := new(big.Int).SetString(r.ValidAfter, 10)
	before, ok2 := new(big.Int).SetString(r.ValidBefore, 10)
	if !ok1 || !ok2 || len(r.Signature) != crypto.SignatureLength {
		return nil, fmt.Errorf("authorization: bad validAfter %q, validBefore %q or a %d-byte signature: %w", r.ValidAfter, r.ValidBefore, len(r.Signature), ErrCorrupt)
	}
	a := &Authorization{Token: r.Token, To: r.To, ValidAfter: after, ValidBefore: before, Nonce: r.Nonce}
	copy(a.Signature[:], r.Signature)
	if r.Settlement != nil {
		a.Settlement = *r.Settlement
	}
	return a, nil
}

// authNonceKey is an authorization's key in auth_nonces: token || from ||
// nonce, what the token itself keys its used nonces by (per token).
func authNonceKey(chain uint64, token, from common.Address, nonce common.Hash) []byte {
	return chainKey(chain, legacyAuthNonceKey(token, from, nonce))
}

// legacyAuthNonceKey is authNonceKey before schema 13: no chain.
func legacyAuthNonceKey(token, from common.Address, nonce common.Hash) []byte {
	k := make([]byte, 0, 2*common.AddressLength+common.HashLength)
	return append(append(append(k, token[:]...), from[:]...), nonce[:]...)
}

// payerSeqKey is an authorization's key in auth_payer: chain || from || Seq.
func payerSeqKey(chain uint64, from common.Address, seq uint64) []byte {
	return chainKey(chain, legacyPayerSeqKey(from, seq))
}

// legacyPayerSeqKey is payerSeqKey before schema 13: no chain.
func legacyPayerSeqKey(from common.Address, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(bytes.Clone(from[:]), seq)
}

// AcceptAuthorization stores p, an EIP-3009 authorization, as the payment
// of request p.RequestID in one durable transaction, by Accept's rules
// with these differences:
//
//   - p.TxHash is the authorization's ID (the EIP-712 digest the payer
//     signed) and p.Authorization must be set; the store sets Source to
//     SourceAuthorization, and Nonce and Raw to nothing (an authorization
//     is not a transaction).
//   - rule 3 is (token, from, nonce): taken before by any authorization,
//     whatever its request or state, it is ErrAuthorizationReused. The
//     same authorization again for the same request is a repeat (rule 1);
//     for another request it is ErrAuthorizationReused too (its nonce is
//     taken), not ErrTxReused.
//   - rules 4 and 4b (lim) count it like a queued handover: it adds to
//     Unsettled(p.Asset) and to the payer's unsettled sum, whose handovers
//     and authorizations count together.
//   - it enters auth_nonces, auth_open and auth_payer, never the
//     broadcaster's open or by_sender_nonce indexes: the broadcaster sends
//     raw transactions, and an authorization is submitted by the relayer
//     (OpenAuthorizations).
//
// Its state then moves by SetPaymentState and Apply, as a handover's does:
// leaving queued/broadcast takes it out of auth_open and auth_payer and
// its amount out of Unsettled (the exposure is freed), confirmed enters
// auth_unfinal (UnfinalAuthorizations) until final.
func (s *Store) AcceptAuthorization(ctx context.Context, p Payment, now time.Time, lim Limits) (Payment, bool, error) {
	a := p.Authorization
	switch {
	case a == nil:
		return Payment{}, false, fmt.Errorf("accept authorization %s: no Authorization", p.TxHash)
	case a.ValidAfter == nil || a.ValidBefore == nil:
		return Payment{}, false, fmt.Errorf("accept authorization %s: validAfter or validBefore missing", p.TxHash)
	case a.Token == (common.Address{}):
		return Payment{}, false, fmt.Errorf("accept authorization %s: no token", p.TxHash)
	}
	return s.accept(ctx, p, now, lim)
}

// OpenAuthorizations returns at most limit queued or broadcast
// authorizations in acceptance order (Seq), starting after Seq after (0:
// from the first); limit 0 (or less) means 100. Fewer than limit means
// the queue ends there. Passing the Seq of the last one returned reads the
// queue a window at a time; one accepted meanwhile comes later (a higher
// Seq). This is the relayer's queue: it costs what it returns.
func (cs *ChainStore) OpenAuthorizations(after uint64, limit int) ([]Payment, error) {
	return cs.seqIndexAfter(bucketAuthOpen, after, limit)
}

// UnfinalAuthorizations is OpenAuthorizations over the confirmed
// authorizations, followed until their block is final.
func (cs *ChainStore) UnfinalAuthorizations(after uint64, limit int) ([]Payment, error) {
	return cs.seqIndexAfter(bucketAuthUnfinal, after, limit)
}

func (cs *ChainStore) seqIndexAfter(bucket []byte, after uint64, limit int) ([]Payment, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []Payment
	if after == ^uint64(0) {
		return nil, nil // no Seq comes after it
	}
	prefix := chainPrefix(cs.id)
	err := cs.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.Seek(chainKey(cs.id, seqKey(after+1))); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, v = c.Next() {
			p, err := indexedPayment(tx, bucket, k, v)
			if err != nil {
				return fmt.Errorf("%s after %d: %w", bucket, after, err)
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// authBuckets are the buckets schema 6 added.
var authBuckets = [][]byte{bucketAuthNonces, bucketAuthOpen, bucketAuthPayer, bucketAuthUnfinal}

// migrateAuthorizations brings a schema 5 file (the steps before bring
// older ones that far) to schema 6 in one bbolt transaction that also
// records the new version: it makes the authorizations' buckets, empty (a
// schema 5 file holds no authorization). It then verifies the file again.
// Other files are left as they are.
func migrateAuthorizations(db *bbolt.DB, path string, log *slog.Logger) error {
	schema, err := dbSchema(db)
	if err != nil {
		return corruptErr(path, err)
	}
	if schema != schemaV5 {
		return nil
	}
	began := time.Now()
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range authBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return m.Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV6)))
	})
	if err != nil {
		return fmt.Errorf("store: open %s: migrate schema 5 to 6: %w", path, err)
	}
	if err := verify(db, schemaV6); err != nil {
		return corruptErr(path, fmt.Errorf("after migrating to schema 6: %w", err))
	}
	log.Info("store: migrated schema 5 to 6: EIP-3009 authorizations", "path", path, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// checkAuthorizations requires the schema 6 indexes to agree with the
// authorizations they name: every auth_nonces entry names an authorization
// of that token, payer and nonce; every auth_open and auth_payer entry one
// that is queued or broadcast at its own Seq (and payer), the two holding
// as many; every auth_unfinal entry a confirmed one at its Seq. It returns
// how many authorizations are confirmed, for checkUnfinal's count. An
// authorization missing from auth_open would never be settled; one missing
// from auth_nonces could be taken twice.
func checkAuthorizations(tx *bbolt.Tx, v13 bool) (confirmed uint64, err error) {
	for _, name := range authBuckets {
		if tx.Bucket(name) == nil {
			return 0, fmt.Errorf("bucket %s missing: %w", name, ErrCorrupt)
		}
	}
	read := func(bucket, k, v []byte) (Payment, error) {
		p, err := indexedPayment(tx, bucket, k, v)
		if err != nil {
			return Payment{}, fmt.Errorf("bucket %s: %w", bucket, err)
		}
		if p.Source != SourceAuthorization {
			return Payment{}, fmt.Errorf("bucket %s: key %x names payment %s of source %s: %w", bucket, k, p.TxHash, p.Source, ErrCorrupt)
		}
		return p, nil
	}
	bad := func(bucket, k []byte, p Payment) error {
		return fmt.Errorf("bucket %s: key %x names authorization %s (%s, seq %d, from %s): %w", bucket, k, p.TxHash, p.State, p.Seq, p.From, ErrCorrupt)
	}
	if err := tx.Bucket(bucketAuthNonces).ForEach(func(k, v []byte) error {
		p, err := read(bucketAuthNonces, k, v)
		if err != nil {
			return err
		}
		if !bytes.Equal(k, keyed(v13, p.ChainID, legacyAuthNonceKey(p.Authorization.Token, p.From, p.Authorization.Nonce))) {
			return bad(bucketAuthNonces, k, p)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	var open [2]int
	for i, b := range [][]byte{bucketAuthOpen, bucketAuthPayer} {
		if err := tx.Bucket(b).ForEach(func(k, v []byte) error {
			p, err := read(b, k, v)
			if err != nil {
				return err
			}
			want := keyed(v13, p.ChainID, seqKey(p.Seq))
			if i == 1 {
				want = keyed(v13, p.ChainID, legacyPayerSeqKey(p.From, p.Seq))
			}
			if !p.State.unsettled() || !bytes.Equal(k, want) {
				return bad(b, k, p)
			}
			open[i]++
			return nil
		}); err != nil {
			return 0, err
		}
	}
	if open[0] != open[1] {
		return 0, fmt.Errorf("bucket %s holds %d, %s %d: %w", bucketAuthOpen, open[0], bucketAuthPayer, open[1], ErrCorrupt)
	}
	err = tx.Bucket(bucketAuthUnfinal).ForEach(func(k, v []byte) error {
		p, err := read(bucketAuthUnfinal, k, v)
		if err != nil {
			return err
		}
		if !p.State.unfinal() || !bytes.Equal(k, keyed(v13, p.ChainID, seqKey(p.Seq))) {
			return bad(bucketAuthUnfinal, k, p)
		}
		confirmed++
		return nil
	})
	return confirmed, err
}
