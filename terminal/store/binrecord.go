package store

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Binary records (schema 14). Payments and requests are the store's big
// records, one of each per sale: as JSON (hex and base64, field names in
// every record) they took about 1 KB each of file in a 100,000-payment
// fill. From schema 14 they are written in this form:
//
//	version (1 byte, binVersion) || fields (uvarint bit set of the
//	optional fields present, and of how some fields are written) ||
//	the fields, in a fixed order
//
// with addresses (20) and hashes (32) fixed width, times as Unix
// nanoseconds (8, big-endian, UTC), counts and numbers as uvarints, a
// big.Int as uvarint(len(abs)<<1 | negative) || abs (big-endian), strings
// and byte strings as uvarint(len) || bytes, and a state, source or status
// as one byte: its place in its list from 1, or 0 and the string. Nothing
// the key holds is repeated: a payment's tx hash, a request's ID.
//
// A payment record holds no byte it can do without. A request ID of 32
// lowercase hex digits (request.New's) is written as the 16 bytes they
// spell (field bit payRequestID16), any other (an older ID, none) as the
// string it is; the decoder gives back the lowercase string. An UpdatedAt
// equal to AcceptedAt, as it is until the payment first changes, is not
// written (payUpdatedAccepted). A queued handed-over payment takes 187
// bytes, 118 of them its signed transaction (TestAQueuedPaymentsRecordSize).
//
// A payment is written one way only, and the decoder refuses as
// ErrCorrupt the forms the writer never makes: a listed code spelled out,
// no source, a request.New ID as a string, an UpdatedAt written equal to
// AcceptedAt, "updated when accepted" with no AcceptedAt or with an
// UpdatedAt written, an optional field's bit with a zero value (an empty
// reason, delivery or last error, last event 0, a zero settlement hash),
// a field bit no version knows, bytes cut short or left over; and, in any
// record, a uvarint longer than AppendUvarint writes it, a big.Int with a
// leading zero byte or minus zero. What the payment decoder reads, the
// writer writes back byte for byte (FuzzDecodeBinaryPayment): damage
// cannot pass for a record the store made.
//
// A JSON record begins with '{', so the decoders tell the forms apart by
// the first byte and a record written before schema 14 reads as it did.
// A record holding what the binary form cannot say exactly (a time outside
// Unix nanoseconds or not in UTC, a negative count, a nil amount) is
// written as JSON, as before: both forms decode to the same record.

// binVersion is the first byte of a binary record.
const binVersion = 0x01

// errNotBinary: the record holds something the binary form cannot say
// exactly; it is written as JSON.
var errNotBinary = errors.New("not representable in the binary form")

// Field bits of a payment record: the optional fields, in the order they
// follow the fixed ones, and two that say how a field is written. A
// payment as Accept stores it sets the first seven at most, so its bit set
// is one byte; Reason (a failed payment's) and Auth come last.
const (
	// payRequestID16: the request ID, a fixed field, is 32 lowercase hex
	// digits (request.New's) and is written as the 16 bytes they spell.
	payRequestID16 = 1 << iota
	payAcceptedAt
	payUpdatedAt
	// payUpdatedAccepted: UpdatedAt equals AcceptedAt (the payment has
	// not changed since it was accepted) and is not written.
	payUpdatedAccepted
	payDelivery
	payLastEvent
	payRaw
	payReason
	payAuth
	payAll = 1<<iota - 1
)

// Optional fields of a payment's delivery.
const (
	delAttempts = 1 << iota
	delNextAttempt
	delLastError
	delSentAt
	delBlock
	delBlockHash
	delReorgs
	delReorgNote
	delRetrying
	delAll = 1<<iota - 1
)

// Optional fields of a request record.
const (
	reqCreatedAt = 1 << iota
	reqExpiresAt
	reqPaidTx
	reqDoc
	reqLastEvent
	reqChains
	reqShared
	reqAll = 1<<iota - 1
)

var (
	paymentSources  = []string{string(SourceHandover), string(SourceChain), string(SourceAuthorization)}
	requestStatuses = []string{string(RequestPending), string(RequestPaid), string(RequestCancelled), string(RequestExpired)}
	paymentStates   = func() []string {
		out := make([]string, len(PaymentStates))
		for i, s := range PaymentStates {
			out[i] = string(s)
		}
		return out
	}()
)

// binWriter appends a binary record's fields; the first field it cannot
// say exactly sets err (errNotBinary).
type binWriter struct {
	b   []byte
	err error
}

func (w *binWriter) uvarint(x uint64) { w.b = binary.AppendUvarint(w.b, x) }
func (w *binWriter) fixed(b []byte)   { w.b = append(w.b, b...) }
func (w *binWriter) bytes(b []byte)   { w.uvarint(uint64(len(b))); w.b = append(w.b, b...) }
func (w *binWriter) str(s string)     { w.uvarint(uint64(len(s))); w.b = append(w.b, s...) }

func (w *binWriter) count(n int) {
	if n < 0 {
		w.err = errNotBinary
		return
	}
	w.uvarint(uint64(n))
}

// time writes a time that is not zero: it must read back == itself.
func (w *binWriter) time(t time.Time) {
	t = t.Round(0)
	ns := t.UnixNano()
	if time.Unix(0, ns).UTC() != t {
		w.err = errNotBinary
		return
	}
	w.b = binary.BigEndian.AppendUint64(w.b, uint64(ns))
}

func (w *binWriter) bigInt(x *big.Int) {
	if x == nil {
		w.err = errNotBinary
		return
	}
	abs := x.Bytes()
	neg := uint64(0)
	if x.Sign() < 0 {
		neg = 1
	}
	w.uvarint(uint64(len(abs))<<1 | neg)
	w.b = append(w.b, abs...)
}

func (w *binWriter) code(s string, list []string) {
	for i, k := range list {
		if s == k {
			w.b = append(w.b, byte(i+1))
			return
		}
	}
	w.b = append(w.b, 0)
	w.str(s)
}

// binReader reads a binary record's fields; the first one cut short or
// out of range sets err, and every later read returns zero.
type binReader struct {
	b   []byte
	err error
}

func (r *binReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("binary record: bad %s: %w", what, ErrCorrupt)
	}
}

func (r *binReader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.b)
	// n <= 0: cut short or over 64 bits; a last byte 0 after others: a
	// number written longer than AppendUvarint writes it.
	if n <= 0 || n > 1 && r.b[n-1] == 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return x
}

func (r *binReader) fixed(what string, n int) []byte {
	if r.err != nil {
		return make([]byte, n)
	}
	if len(r.b) < n {
		r.fail(what)
		return make([]byte, n)
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *binReader) bytes(what string) []byte {
	n := r.uvarint(what)
	if r.err == nil && n > uint64(len(r.b)) {
		r.fail(what)
	}
	if r.err != nil {
		return nil
	}
	return append([]byte{}, r.fixed(what, int(n))...)
}

func (r *binReader) str(what string) string { return string(r.bytes(what)) }

// skip passes over a string or byte string.
func (r *binReader) skip(what string) {
	n := r.uvarint(what)
	if r.err == nil && n > uint64(len(r.b)) {
		r.fail(what)
	}
	if r.err == nil {
		r.b = r.b[n:]
	}
}

func (r *binReader) count(what string) int {
	n := r.uvarint(what)
	if n > uint64(^uint(0)>>1) {
		r.fail(what)
		return 0
	}
	return int(n)
}

func (r *binReader) time(what string) time.Time {
	b := r.fixed(what, 8)
	if r.err != nil {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b))).UTC()
}

func (r *binReader) bigInt(what string) *big.Int {
	h := r.uvarint(what)
	if r.err == nil && h>>1 > uint64(len(r.b)) {
		r.fail(what)
	}
	if r.err != nil {
		return new(big.Int)
	}
	abs := r.fixed(what, int(h>>1))
	// Bytes() has no leading zero, and zero no sign.
	if r.err == nil && (len(abs) > 0 && abs[0] == 0 || h == 1) {
		r.fail(what)
	}
	x := new(big.Int).SetBytes(abs)
	if h&1 == 1 {
		x.Neg(x)
	}
	return x
}

func (r *binReader) code(what string, list []string) string {
	c := r.fixed(what, 1)[0]
	switch {
	case r.err != nil:
		return ""
	case c == 0:
		// Code 0 carries a string the list does not hold; a listed one
		// written out is not what the writer makes.
		s := r.str(what)
		if slices.Contains(list, s) {
			r.fail(what)
			return ""
		}
		return s
	case int(c) > len(list):
		r.fail(what)
		return ""
	}
	return list[c-1]
}

// bits reads a bit set of optional fields; one outside all is damage.
func (r *binReader) bits(what string, all uint64) uint64 {
	b := r.uvarint(what)
	if b&^all != 0 {
		r.fail(what)
	}
	return b
}

// end requires the record to end here.
func (r *binReader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("length: trailing bytes")
	}
	return r.err
}

// encodePaymentBinary is p's binary record, or errNotBinary.
func encodePaymentBinary(p Payment) ([]byte, error) {
	var bits uint64
	set := func(bit uint64, on bool) {
		if on {
			bits |= bit
		}
	}
	d := p.Delivery
	// An UpdatedAt the same time as AcceptedAt, zone included (the
	// binary form holds UTC only; any other is written as JSON).
	updatedAccepted := !p.UpdatedAt.IsZero() && p.UpdatedAt.Round(0) == p.AcceptedAt.Round(0)
	set(payRequestID16, isRequestID16(p.RequestID))
	set(payAcceptedAt, !p.AcceptedAt.IsZero())
	set(payUpdatedAt, !p.UpdatedAt.IsZero() && !updatedAccepted)
	set(payUpdatedAccepted, updatedAccepted)
	set(payDelivery, d != (Delivery{}))
	set(payLastEvent, p.LastEvent != 0)
	set(payRaw, p.Raw != nil)
	set(payReason, p.Reason != "")
	set(payAuth, p.Authorization != nil)
	w := &binWriter{b: make([]byte, 0, 96+len(p.Raw)+len(p.RequestID))}
	w.b = append(w.b, binVersion)
	w.uvarint(bits)
	source := string(p.Source)
	if source == "" {
		source = string(SourceHandover) // as the JSON form reads it
	}
	w.code(source, paymentSources)
	w.code(string(p.State), paymentStates)
	if bits&payRequestID16 != 0 {
		id, _ := hex.DecodeString(p.RequestID) // isRequestID16 checked it
		w.fixed(id)
	} else {
		w.str(p.RequestID)
	}
	w.fixed(p.From[:])
	w.uvarint(p.Nonce)
	w.str(p.Asset)
	w.bigInt(p.Amount)
	w.uvarint(p.Seq)
	w.uvarint(p.ChainID)
	if bits&payAcceptedAt != 0 {
		w.time(p.AcceptedAt)
	}
	if bits&payUpdatedAt != 0 {
		w.time(p.UpdatedAt)
	}
	if bits&payDelivery != 0 {
		encodeDelivery(w, d)
	}
	if bits&payLastEvent != 0 {
		w.uvarint(p.LastEvent)
	}
	if bits&payRaw != 0 {
		w.bytes(p.Raw)
	}
	if bits&payReason != 0 {
		w.str(p.Reason)
	}
	if a := p.Authorization; a != nil {
		w.fixed(a.Token[:])
		w.fixed(a.To[:])
		w.bigInt(a.ValidAfter)
		w.bigInt(a.ValidBefore)
		w.fixed(a.Nonce[:])
		w.fixed(a.Signature[:])
		if a.Settlement == (common.Hash{}) {
			w.b = append(w.b, 0)
		} else {
			w.b = append(w.b, 1)
			w.fixed(a.Settlement[:])
		}
	}
	return w.b, w.err
}

// isRequestID16 reports whether id is 32 lowercase hex digits, the form
// request.New makes: such an ID is written as the 16 bytes it spells.
func isRequestID16(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := range len(id) {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func encodeDelivery(w *binWriter, d Delivery) {
	var bits uint64
	set := func(bit uint64, on bool) {
		if on {
			bits |= bit
		}
	}
	set(delAttempts, d.Attempts != 0)
	set(delNextAttempt, !d.NextAttempt.IsZero())
	set(delLastError, d.LastError != "")
	set(delSentAt, !d.SentAt.IsZero())
	set(delBlock, d.Block != 0)
	set(delBlockHash, d.BlockHash != (common.Hash{}))
	set(delReorgs, d.Reorgs != 0)
	set(delReorgNote, d.ReorgNote != "")
	set(delRetrying, !d.Retrying.IsZero())
	w.uvarint(bits)
	if bits&delAttempts != 0 {
		w.count(d.Attempts)
	}
	if bits&delNextAttempt != 0 {
		w.time(d.NextAttempt)
	}
	if bits&delLastError != 0 {
		w.str(d.LastError)
	}
	if bits&delSentAt != 0 {
		w.time(d.SentAt)
	}
	if bits&delBlock != 0 {
		w.uvarint(d.Block)
	}
	if bits&delBlockHash != 0 {
		w.fixed(d.BlockHash[:])
	}
	if bits&delReorgs != 0 {
		w.count(d.Reorgs)
	}
	if bits&delReorgNote != 0 {
		w.str(d.ReorgNote)
	}
	if bits&delRetrying != 0 {
		w.time(d.Retrying)
	}
}

// decodePaymentBinary reads a binary payment record stored under hash.
func decodePaymentBinary(hash, b []byte) (Payment, error) {
	if len(hash) != common.HashLength {
		return Payment{}, fmt.Errorf("payment key %x: %w", hash, ErrCorrupt)
	}
	r := &binReader{b: b[1:]}
	bits := r.bits("fields", payAll)
	p := Payment{TxHash: common.BytesToHash(hash)}
	p.Source = PaymentSource(r.code("source", paymentSources))
	if p.Source == "" && r.err == nil {
		r.fail("source") // the writer stores no source as handover
	}
	p.State = PaymentState(r.code("state", paymentStates))
	if bits&payRequestID16 != 0 {
		p.RequestID = hex.EncodeToString(r.fixed("request id", 16))
	} else if p.RequestID = r.str("request id"); isRequestID16(p.RequestID) {
		r.fail("request id: 32 lowercase hex digits written as text")
	}
	p.From = common.BytesToAddress(r.fixed("from", common.AddressLength))
	p.Nonce = r.uvarint("nonce")
	p.Asset = r.str("asset")
	p.Amount = r.bigInt("amount")
	p.Seq = r.uvarint("seq")
	p.ChainID = r.uvarint("chain id")
	if bits&payAcceptedAt != 0 {
		p.AcceptedAt = r.time("accepted at")
	}
	switch {
	case bits&payUpdatedAccepted != 0:
		// Said only of an AcceptedAt written and no UpdatedAt.
		if bits&(payAcceptedAt|payUpdatedAt) != payAcceptedAt {
			r.fail("fields: updated when accepted")
		}
		p.UpdatedAt = p.AcceptedAt
	case bits&payUpdatedAt != 0:
		p.UpdatedAt = r.time("updated at")
		if bits&payAcceptedAt != 0 && p.UpdatedAt == p.AcceptedAt {
			r.fail("updated at: written equal to accepted at")
		}
	}
	// An optional field's bit is set only for a value that is not zero.
	if bits&payDelivery != 0 {
		if p.Delivery = decodeDelivery(r); p.Delivery == (Delivery{}) {
			r.fail("delivery: empty")
		}
	}
	if bits&payLastEvent != 0 {
		if p.LastEvent = r.uvarint("last event"); p.LastEvent == 0 {
			r.fail("last event: 0")
		}
	}
	if bits&payRaw != 0 {
		p.Raw = r.bytes("raw")
	}
	if bits&payReason != 0 {
		if p.Reason = r.str("reason"); p.Reason == "" {
			r.fail("reason: empty")
		}
	}
	if bits&payAuth != 0 {
		a := &Authorization{}
		a.Token = common.BytesToAddress(r.fixed("token", common.AddressLength))
		a.To = common.BytesToAddress(r.fixed("to", common.AddressLength))
		a.ValidAfter = r.bigInt("valid after")
		a.ValidBefore = r.bigInt("valid before")
		a.Nonce = common.BytesToHash(r.fixed("authorization nonce", common.HashLength))
		copy(a.Signature[:], r.fixed("signature", crypto.SignatureLength))
		switch r.fixed("settlement", 1)[0] {
		case 0:
		case 1:
			if a.Settlement = common.BytesToHash(r.fixed("settlement", common.HashLength)); a.Settlement == (common.Hash{}) {
				r.fail("settlement: zero")
			}
		default:
			r.fail("settlement")
		}
		p.Authorization = a
	}
	if err := r.end(); err != nil {
		return Payment{}, fmt.Errorf("decode payment %s: %w", p.TxHash, err)
	}
	return p, nil
}

func decodeDelivery(r *binReader) Delivery {
	var d Delivery
	bits := r.bits("delivery fields", delAll)
	// A field's bit is set only for a value that is not zero (a time
	// read is never zero).
	nonzero := func(what string, zero bool) {
		if zero {
			r.fail(what + ": zero")
		}
	}
	if bits&delAttempts != 0 {
		d.Attempts = r.count("attempts")
		nonzero("attempts", d.Attempts == 0)
	}
	if bits&delNextAttempt != 0 {
		d.NextAttempt = r.time("next attempt")
	}
	if bits&delLastError != 0 {
		d.LastError = r.str("last error")
		nonzero("last error", d.LastError == "")
	}
	if bits&delSentAt != 0 {
		d.SentAt = r.time("sent at")
	}
	if bits&delBlock != 0 {
		d.Block = r.uvarint("block")
		nonzero("block", d.Block == 0)
	}
	if bits&delBlockHash != 0 {
		d.BlockHash = common.BytesToHash(r.fixed("block hash", common.HashLength))
		nonzero("block hash", d.BlockHash == (common.Hash{}))
	}
	if bits&delReorgs != 0 {
		d.Reorgs = r.count("reorgs")
		nonzero("reorgs", d.Reorgs == 0)
	}
	if bits&delReorgNote != 0 {
		d.ReorgNote = r.str("reorg note")
		nonzero("reorg note", d.ReorgNote == "")
	}
	if bits&delRetrying != 0 {
		d.Retrying = r.time("retrying")
	}
	return d
}

// requestHoldBinary reads only the status and expiry of a binary request
// record: what the amounts index needs of a request (reservedBy), without
// copying its document.
func requestHoldBinary(b []byte) (RequestStatus, time.Time, error) {
	r := &binReader{b: b[1:]}
	bits := r.bits("fields", reqAll)
	status := RequestStatus(r.code("status", requestStatuses))
	r.skip("asset")
	if h := r.uvarint("amount"); r.err == nil {
		r.fixed("amount", int(min(h>>1, uint64(len(r.b)+1))))
	}
	if bits&reqCreatedAt != 0 {
		r.fixed("created at", 8)
	}
	var expires time.Time
	if bits&reqExpiresAt != 0 {
		expires = r.time("expires at")
	}
	if r.err != nil {
		return "", time.Time{}, fmt.Errorf("decode request: %w", r.err)
	}
	return status, expires, nil
}

// encodeRequestBinary is r's binary record (its ID is its key), or
// errNotBinary.
func encodeRequestBinary(q Request) ([]byte, error) {
	var bits uint64
	set := func(bit uint64, on bool) {
		if on {
			bits |= bit
		}
	}
	set(reqCreatedAt, !q.CreatedAt.IsZero())
	set(reqExpiresAt, !q.ExpiresAt.IsZero())
	set(reqPaidTx, q.PaidTx != (common.Hash{}))
	set(reqDoc, q.Doc != nil)
	set(reqLastEvent, q.LastEvent != 0)
	set(reqChains, len(q.Chains) > 0)
	set(reqShared, q.shared != 0)
	w := &binWriter{b: make([]byte, 0, 64+len(q.Doc))}
	w.b = append(w.b, binVersion)
	w.uvarint(bits)
	w.code(string(q.Status), requestStatuses)
	w.str(q.Asset)
	w.bigInt(q.Amount)
	if bits&reqCreatedAt != 0 {
		w.time(q.CreatedAt)
	}
	if bits&reqExpiresAt != 0 {
		w.time(q.ExpiresAt)
	}
	if bits&reqPaidTx != 0 {
		w.fixed(q.PaidTx[:])
	}
	if bits&reqDoc != 0 {
		w.bytes(q.Doc)
	}
	if bits&reqLastEvent != 0 {
		w.uvarint(q.LastEvent)
	}
	if bits&reqChains != 0 {
		w.uvarint(uint64(len(q.Chains)))
		for _, c := range q.Chains {
			w.uvarint(c)
		}
	}
	if bits&reqShared != 0 {
		w.uvarint(q.shared)
	}
	return w.b, w.err
}

// decodeRequestBinary reads a binary request record stored under id.
func decodeRequestBinary(id, b []byte) (Request, error) {
	r := &binReader{b: b[1:]}
	bits := r.bits("fields", reqAll)
	q := Request{ID: string(id)}
	q.Status = RequestStatus(r.code("status", requestStatuses))
	q.Asset = r.str("asset")
	q.Amount = r.bigInt("amount")
	if bits&reqCreatedAt != 0 {
		q.CreatedAt = r.time("created at")
	}
	if bits&reqExpiresAt != 0 {
		q.ExpiresAt = r.time("expires at")
	}
	// One encoding, as a payment's: an optional field's bit comes with a
	// value the writer would write (it leaves the bit clear for none).
	if bits&reqPaidTx != 0 {
		if q.PaidTx = common.BytesToHash(r.fixed("paid tx", common.HashLength)); q.PaidTx == (common.Hash{}) {
			r.fail("paid tx")
		}
	}
	if bits&reqDoc != 0 {
		q.Doc = r.bytes("doc")
	}
	if bits&reqLastEvent != 0 {
		if q.LastEvent = r.uvarint("last event"); q.LastEvent == 0 {
			r.fail("last event")
		}
	}
	if bits&reqChains != 0 {
		n := r.uvarint("chains")
		if n == 0 || n > maxChains || n > uint64(len(r.b)) {
			r.fail("chains")
		}
		for i := uint64(0); i < n && r.err == nil; i++ {
			q.Chains = append(q.Chains, r.uvarint("chain"))
		}
		if r.err == nil && validChains(q.Chains) != nil {
			r.fail("chains") // 0, or one twice: PutRequest takes neither
		}
	}
	if bits&reqShared != 0 {
		if q.shared = r.uvarint("shared part"); q.shared == 0 || bits&reqDoc == 0 {
			r.fail("shared part") // none, or a part with no doc to join
		}
	}
	if err := r.end(); err != nil {
		return Request{}, fmt.Errorf("decode request %q: %w", id, err)
	}
	return q, nil
}

// jsonOrBinary is the binary record enc makes, or, where it cannot say
// the record exactly, the JSON one.
func jsonOrBinary(bin []byte, err error, asJSON func() ([]byte, error)) ([]byte, error) {
	if errors.Is(err, errNotBinary) {
		return asJSON()
	}
	return bin, err
}
