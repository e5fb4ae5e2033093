package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Accept stores p as the payment for request p.RequestID, in one durable
// transaction. p.State must be PaymentQueued; the store sets Seq,
// AcceptedAt and UpdatedAt (both now) and keeps its own copy of Raw.
//
// Rules, checked in this order inside the write transaction, so that two
// payers racing for one request can never both succeed:
//  0. p.ChainID is 0: a plain error (a caller's bug). Every rule below but
//     the tx hash's is per chain: the sender+nonce index, the sums.
//  1. a payment with p.TxHash exists: for the same RequestID it returns
//     (existing, true, nil) and writes nothing (an idempotent repeat);
//     for another RequestID, ErrTxReused. Then, p.ChainID retired
//     (RetireChains: its network was removed): ErrChainRetired.
//  2. the request is missing: ErrUnknownRequest; cancelled: ErrCancelled;
//     paid: ErrAlreadyPaid; pending but now >= ExpiresAt: ErrExpired.
//  3. the sender+nonce index holds another hash: if that payment is queued
//     or broadcast, ErrNonceConflict; if it is confirmed, ErrNonceConflict
//     (the nonce is used on chain); if it failed, the nonce is free again
//     and p may take it (the failed payment keeps its record).
//  4. maxUnsettled != nil and Unsettled(p.Asset) + p.Amount > maxUnsettled:
//     ErrExposureLimit. (4b, with AcceptLimited only: the sender's own
//     unsettled amount of p.Asset plus p.Amount above Limits.PerPayer:
//     ErrPayerLimit.)
//  5. it writes the payment with the next Seq, the tx-hash, sender+nonce,
//     open and acceptance-order indexes (the sender+nonce and open entries
//     now name p, even if a failed payment held them), marks the request
//     paid by p.TxHash and adds p.Amount to Unsettled(p.Asset).
//
// (stored, false, nil) is returned only once p's record is in the journal,
// fdatasynced (or the transaction committed and fsynced, when the journal
// cannot take it): the transaction is committed behind it, and Open runs
// the record again after a crash (journal.go). Any error means nothing of p
// was stored, but for the disk failing three times running (doc.go). If
// ctx is done before the write is taken into a batch, Accept returns
// ctx.Err() and writes nothing; once taken, it waits for the outcome.
func (s *Store) Accept(ctx context.Context, p Payment, now time.Time, maxUnsettled *big.Int) (Payment, bool, error) {
	p.Authorization = nil
	return s.accept(ctx, p, now, Limits{Unsettled: maxUnsettled})
}

// accept stores p, a handover, or an authorization if p.Authorization is
// set (AcceptAuthorization).
func (s *Store) accept(ctx context.Context, p Payment, now time.Time, lim Limits) (Payment, bool, error) {
	if err := validatePayment(p); err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", p.TxHash, err)
	}
	now = storeTime(now)
	p.Amount = new(big.Int).Set(p.Amount)
	p.Raw = bytes.Clone(p.Raw)
	p.Reason = ""
	p.AcceptedAt, p.UpdatedAt = now, now
	p.Seq = 0
	p.Source = SourceHandover
	if p.Authorization != nil {
		p.Source = SourceAuthorization
		p.Authorization = p.Authorization.clone()
		p.Nonce, p.Raw = 0, nil
	}

	var (
		out    Payment
		repeat bool
	)
	// Before the open payments are checked (Options.VerifyBeforeSales) a
	// repeat of a stored payment is still answered as one; a new one is
	// refused ErrVerifying (send again), so a 503 never names a payment
	// that is stored.
	verifying := !s.moneyVerified.Load()
	// The record, as far as it is known before the write: refused here,
	// not after the write (which would abort the batch).
	if _, err := acceptRecord(p, now, lim, 0, nil); err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", p.TxHash, err)
	}
	var rec []byte
	err := s.journaledWrite(ctx, func() []byte { return rec }, p.TxHash, func(w *wtx) error {
		var err error
		var seen []assetDecimals
		restore := w.seeDecimals(&seen)
		out, repeat, err = accept(w, p, now, lim, s.isRetired(p.ChainID), verifying)
		restore()
		if err == nil && !repeat {
			rec, err = acceptRecord(p, now, lim, w.retention, seen)
		}
		return err
	})
	if err != nil {
		return Payment{}, false, err
	}
	return out, repeat, nil
}

// nonceFree decides rule 3 of Accept: p wants a sender+nonce that the index
// gives to the payment with hash other. Only a failed payment gives its
// nonce up: it was dropped or refused and can no longer be mined, so the
// payer may sign a new transaction with the same nonce. A queued or
// broadcast one may still be mined, a confirmed one was: at most one
// transaction per sender+nonce ever is.
//
// Every older payment at that sender+nonce failed before the index moved on
// (failed is final), so the payment the index names is the only one to ask.
func nonceFree(w *wtx, p Payment, other []byte) error {
	holder, err := decodeStored(w, other)
	if err != nil {
		return fmt.Errorf("sender %s nonce %d index names 0x%x: %w", p.From, p.Nonce, other, err)
	}
	switch holder.State {
	case PaymentFailed:
		return nil
	case PaymentConfirmed, PaymentFinal:
		return fmt.Errorf("sender %s nonce %d already used on chain by %s: %w", p.From, p.Nonce, holder.TxHash, ErrNonceConflict)
	case PaymentQueued, PaymentBroadcast:
		return fmt.Errorf("sender %s nonce %d already used by %s (%s): %w", p.From, p.Nonce, holder.TxHash, holder.State, ErrNonceConflict)
	}
	return fmt.Errorf("sender %s nonce %d: payment %s has state %q: %w", p.From, p.Nonce, holder.TxHash, holder.State, ErrCorrupt)
}

// decodeStored reads the payment with that hash, which an index names: its
// absence is damage, not an unknown payment.
func decodeStored(w *wtx, hash []byte) (Payment, error) {
	v, err := w.getChecked(bucketPayments, hash)
	if err != nil {
		return Payment{}, err
	}
	if v == nil {
		return Payment{}, fmt.Errorf("payment 0x%x missing: %w", hash, ErrCorrupt)
	}
	return decodePayment(hash, v)
}

func validatePayment(p Payment) error {
	switch {
	case p.State != PaymentQueued:
		return fmt.Errorf("new payment in state %q, want %q: %w", p.State, PaymentQueued, ErrBadTransition)
	case p.RequestID == "":
		return errors.New("empty request ID")
	case p.Asset == "":
		return errors.New("empty asset")
	case p.Amount == nil || p.Amount.Sign() < 0:
		return fmt.Errorf("amount %v: want a non-negative amount", p.Amount)
	case p.ChainID == 0:
		// A caller's bug, not a payer's: every payment is on one chain.
		return errors.New("no chain id")
	}
	return nil
}

// accept is Accept's transaction body: all reads and checks, then writes.
// retired is whether p's chain is retired (RetireChains), read in the
// same write.
func accept(w *wtx, p Payment, now time.Time, lim Limits, retired, verifying bool) (Payment, bool, error) {
	hash := p.TxHash
	v, err := w.getChecked(bucketPayments, hash[:])
	if err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
	}
	if v != nil {
		existing, err := decodePayment(hash[:], v)
		if err != nil {
			return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
		}
		if existing.RequestID == p.RequestID {
			return existing, true, nil
		}
		if p.Source == SourceAuthorization {
			// The same authorization, so the same nonce.
			return Payment{}, false, fmt.Errorf("accept %s: authorization stored for request %q: %w", hash, existing.RequestID, ErrAuthorizationReused)
		}
		return Payment{}, false, fmt.Errorf("accept %s: stored for request %q: %w", hash, existing.RequestID, ErrTxReused)
	}
	if verifying {
		return Payment{}, false, fmt.Errorf("accept %s: %w", hash, ErrVerifying)
	}
	if retired {
		return Payment{}, false, fmt.Errorf("accept %s: chain %d is retired (its network was removed): %w", hash, p.ChainID, ErrChainRetired)
	}
	if pruned, err := prunedChainTx(w.tx, hash); err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
	} else if pruned {
		return Payment{}, false, fmt.Errorf("accept %s: mined for a payment since pruned: %w", hash, ErrTxReused)
	}
	// A transfer the watcher recorded with no payment of this hash is an
	// unmatched receipt: that money already waits to be given back, and
	// would count twice (transfer IDs begin with the tx hash).
	if k, _ := w.bucket(bucketTransferIDs).Cursor().Seek(hash[:]); k != nil && bytes.HasPrefix(k, hash[:]) {
		return Payment{}, false, fmt.Errorf("accept %s: on chain already, an unmatched receipt: %w", hash, ErrTxReused)
	}

	v, err = w.getChecked(bucketRequests, []byte(p.RequestID))
	if err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
	}
	if v == nil {
		return Payment{}, false, fmt.Errorf("accept %s: request %q: %w", hash, p.RequestID, ErrUnknownRequest)
	}
	req, err := decodeRequest([]byte(p.RequestID), v)
	if err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
	}
	switch {
	case req.Status == RequestCancelled:
		return Payment{}, false, fmt.Errorf("accept %s: request %q: %w", hash, req.ID, ErrCancelled)
	case req.Status == RequestPaid:
		return Payment{}, false, fmt.Errorf("accept %s: request %q paid by %s: %w", hash, req.ID, req.PaidTx, ErrAlreadyPaid)
	case req.StatusAt(now) == RequestExpired:
		return Payment{}, false, fmt.Errorf("accept %s: request %q expired at %s: %w", hash, req.ID, req.ExpiresAt.Format(time.RFC3339), ErrExpired)
	case req.Status != RequestPending:
		return Payment{}, false, fmt.Errorf("accept %s: request %q has status %q: %w", hash, req.ID, req.Status, ErrCorrupt)
	}

	auth := p.Source == SourceAuthorization
	chain := p.ChainID
	snKey := senderNonceKey(chain, p.From, p.Nonce)
	if auth {
		snKey = authNonceKey(chain, p.Authorization.Token, p.From, p.Authorization.Nonce)
		other, err := w.getChecked(bucketAuthNonces, snKey)
		if err != nil {
			return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
		}
		if other != nil {
			// Never freed: the nonce is the payer's one-time promise,
			// whatever became of the first authorization.
			return Payment{}, false, fmt.Errorf("accept %s: token %s from %s nonce %s already taken by authorization 0x%x: %w",
				hash, p.Authorization.Token, p.From, p.Authorization.Nonce, other, ErrAuthorizationReused)
		}
	} else {
		other, err := senderHash(w.tx, snKey)
		if err != nil {
			return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
		}
		if other != nil && !bytes.Equal(other, hash[:]) {
			if err := nonceFree(w, p, other); err != nil {
				return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
			}
		}
		// A nonce at or below one of a final payment since pruned was
		// mined: no transaction with it can be (schema11.go).
		if spent, ok, err := spentNonce(w.tx, chain, p.From); err != nil {
			return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
		} else if ok && p.Nonce <= spent {
			return Payment{}, false, fmt.Errorf("accept %s: sender %s nonce %d already used on chain (nonce %d was final): %w", hash, p.From, p.Nonce, spent, ErrNonceConflict)
		}
	}

	uKey := chainKey(chain, []byte(p.Asset))
	u, err := w.getChecked(bucketUnsettled, uKey)
	if err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
	}
	unsettled, err := decodeAmount(p.Asset, u)
	if err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
	}
	unsettled.Add(unsettled, p.Amount)
	if lim.Unsettled != nil && unsettled.Cmp(lim.Unsettled) > 0 {
		return Payment{}, false, fmt.Errorf("accept %s: unsettled %s on chain %d would be %s, limit %s: %w", hash, p.Asset, chain, unsettled, lim.Unsettled, ErrExposureLimit)
	}
	if lim.PerPayer != nil {
		mine, err := payerUnsettled(w, chain, p.From, p.Asset)
		if err != nil {
			return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
		}
		if mine.Add(mine, p.Amount); mine.Cmp(lim.PerPayer) > 0 {
			return Payment{}, false, fmt.Errorf("accept %s: unsettled %s of %s would be %s, limit %s: %w", hash, p.Asset, p.From, mine, lim.PerPayer, ErrPayerLimit)
		}
	}
	count, err := readChainCount(w.tx, chain, PaymentQueued)
	if err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
	}

	// Checks done; from here on, only writes.
	seq, err := w.nextSeq(bucketBySeq)
	if err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: next seq: %w", hash, err)
	}
	p.Seq = seq
	req.Status, req.PaidTx = RequestPaid, hash
	// Its events, in this write: payment.accepted, then request.paid.
	pEv, err := w.nextEvent()
	if err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
	}
	rEv, err := w.nextEvent()
	if err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
	}
	p.LastEvent, req.LastEvent = pEv, rEv
	encP, err := encodePayment(p)
	if err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
	}
	encR, err := encodeRequest(req)
	if err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
	}
	// by_sender_nonce names the payment by its Seq (senderValueHash);
	// open's value is empty: by_sender_nonce names it (openHash).
	puts := []kv{{bucketBySender, snKey, seqKey(seq)}, {bucketOpen, snKey, nil}}
	if auth {
		puts = []kv{
			{bucketAuthNonces, snKey, hash[:]},
			{bucketAuthOpen, chainKey(chain, seqKey(seq)), hash[:]},
			{bucketAuthPayer, payerSeqKey(chain, p.From, seq), hash[:]},
		}
	}
	for _, e := range append(puts, []kv{
		{bucketPayments, hash[:], encP},
		{bucketBySeq, seqKey(seq), hash[:]},
		{bucketQueued, queuedKey(chain, seq), nil}, // bare: by_seq names it
		{bucketRequests, []byte(req.ID), encR},
		{bucketUnsettled, uKey, []byte(unsettled.String())},
		{bucketCounts, countKey(chain, PaymentQueued), countBytes(count + 1)},
	}...) {
		if err := w.putChecked(e.b, e.k, e.v); err != nil {
			return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
		}
	}
	if err := unreserve(w, req); err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
	}
	if err := leaveExpiry(w, req); err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
	}
	if err := w.putEvent(pEv, w.paymentEvent(EventPaymentAccepted, p, "", now)); err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
	}
	if err := w.putEvent(rEv, w.requestEvent(EventRequestPaid, req, RequestPaid, now)); err != nil {
		return Payment{}, false, fmt.Errorf("accept %s: %w", hash, err)
	}
	return p, false, nil
}
