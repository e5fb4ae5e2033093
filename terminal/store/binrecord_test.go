package store

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// randomPayment is a payment with every field drawn at random, each
// optional one present or not: what the JSON form holds, the binary must.
func randomPayment(r *rand.Rand) Payment {
	pick := func() bool { return r.IntN(2) == 0 }
	at := func() time.Time {
		if pick() {
			return time.Time{}
		}
		return time.Unix(0, r.Int64N(1<<62)).UTC()
	}
	str := func() string {
		if pick() {
			return ""
		}
		return randText(r, r.IntN(40))
	}
	num := func() *big.Int {
		n := new(big.Int).SetBytes(randBytesFrom(r, r.IntN(33)))
		if r.IntN(8) == 0 {
			n.Neg(n)
		}
		return n
	}
	var h common.Hash
	copy(h[:], randBytesFrom(r, 32))
	p := Payment{
		TxHash: h, Source: []PaymentSource{SourceHandover, SourceChain, "", "other"}[r.IntN(4)],
		RequestID: str(), Nonce: r.Uint64() >> r.IntN(64), Asset: str(), Amount: num(),
		State: PaymentState(paymentStates[r.IntN(len(paymentStates))]), Reason: str(),
		AcceptedAt: at(), UpdatedAt: at(), Seq: r.Uint64() >> r.IntN(64), LastEvent: r.Uint64() >> r.IntN(64),
		ChainID: r.Uint64() >> r.IntN(64),
	}
	copy(p.From[:], randBytesFrom(r, 20))
	switch r.IntN(4) {
	case 0: // request.New's form
		p.RequestID = hex.EncodeToString(randBytesFrom(r, 16))
	case 1: // the same in upper case: not its form
		p.RequestID = strings.ToUpper(hex.EncodeToString(randBytesFrom(r, 16)))
	}
	if pick() {
		p.UpdatedAt = p.AcceptedAt // a payment not changed since it was accepted
	}
	if r.IntN(6) == 0 {
		p.State = "unknown-" + PaymentState(str())
	}
	if pick() {
		p.Raw = randBytesFrom(r, r.IntN(300))
	}
	if pick() {
		p.Delivery = Delivery{Attempts: r.IntN(3) * r.IntN(1000), NextAttempt: at(), LastError: str(), SentAt: at(),
			Block: r.Uint64() >> r.IntN(64), Reorgs: r.IntN(3), ReorgNote: str(), Retrying: at()}
		if pick() {
			copy(p.Delivery.BlockHash[:], randBytesFrom(r, 32))
		}
	}
	if r.IntN(3) == 0 {
		p.Source = SourceAuthorization
		a := &Authorization{ValidAfter: num(), ValidBefore: num()}
		copy(a.Token[:], randBytesFrom(r, 20))
		copy(a.To[:], randBytesFrom(r, 20))
		copy(a.Nonce[:], randBytesFrom(r, 32))
		copy(a.Signature[:], randBytesFrom(r, 65))
		if pick() {
			copy(a.Settlement[:], randBytesFrom(r, 32))
		}
		p.Authorization = a
	}
	return p
}

func randomRequest(r *rand.Rand) Request {
	q := Request{
		ID: randText(r, 1+r.IntN(30)), Asset: randText(r, r.IntN(8)),
		Amount: new(big.Int).SetBytes(randBytesFrom(r, r.IntN(33))),
		Status: RequestStatus(requestStatuses[r.IntN(len(requestStatuses))]), LastEvent: r.Uint64() >> r.IntN(64),
	}
	if r.IntN(2) == 0 {
		q.CreatedAt = time.Unix(0, r.Int64N(1<<62)).UTC()
		q.ExpiresAt = q.CreatedAt.Add(time.Duration(r.IntN(1e6)) * time.Second)
	}
	if r.IntN(2) == 0 {
		copy(q.PaidTx[:], randBytesFrom(r, 32))
	}
	if r.IntN(4) != 0 {
		q.Doc = randBytesFrom(r, r.IntN(600))
	}
	for range r.IntN(4) {
		// Chains PutRequest takes: none 0, none twice.
		if c := 1 + r.Uint64()>>(1+r.IntN(63)); !slices.Contains(q.Chains, c) {
			q.Chains = append(q.Chains, c)
		}
	}
	if r.IntN(8) == 0 {
		q.Status = "odd"
	}
	return q
}

// randText is n runes of text, some beyond ASCII. (JSON replaces
// invalid UTF-8; the binary form keeps every byte: the stored strings are
// text.)
func randText(r *rand.Rand, n int) string {
	const runes = "abcXYZ019-_ é€✓\"\\\n"
	rs := []rune(runes)
	out := make([]rune, n)
	for i := range out {
		out[i] = rs[r.IntN(len(rs))]
	}
	return string(out)
}

// samePayment compares two payments field by field, amounts by value.
func samePayment(a, b Payment) bool {
	if a.Amount.Cmp(b.Amount) != 0 {
		return false
	}
	a.Amount, b.Amount = nil, nil
	if (a.Authorization == nil) != (b.Authorization == nil) {
		return false
	}
	if a.Authorization != nil {
		x, y := *a.Authorization, *b.Authorization
		if x.ValidAfter.Cmp(y.ValidAfter) != 0 || x.ValidBefore.Cmp(y.ValidBefore) != 0 {
			return false
		}
		x.ValidAfter, x.ValidBefore, y.ValidAfter, y.ValidBefore = nil, nil, nil, nil
		if x != y {
			return false
		}
		a.Authorization, b.Authorization = nil, nil
	}
	return reflect.DeepEqual(a, b)
}

func sameRequest(a, b Request) bool {
	if a.Amount.Cmp(b.Amount) != 0 {
		return false
	}
	a.Amount, b.Amount = nil, nil
	return reflect.DeepEqual(a, b)
}

func randBytesFrom(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// Every payment and request reads back from the binary form exactly as
// from the JSON form schema 13 wrote: every field, optional ones present
// or not (Delivery, Authorization, Source, LastEvent, Chains), strings the
// lists do not name included.
func TestBinaryRecordsReadAsTheirJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 14))
	for i := range 5000 {
		p := randomPayment(r)
		js, err := encodePaymentJSON(p)
		if err != nil {
			t.Fatal(err)
		}
		want, jerr := decodePayment(p.TxHash[:], js)
		bin, err := encodePayment(p)
		if err != nil {
			t.Fatalf("payment %d: %v", i, err)
		}
		if bin[0] != binVersion {
			t.Fatalf("payment %d written as %q, want binary", i, bin[:1])
		}
		got, err := decodePayment(p.TxHash[:], bin)
		if (err == nil) != (jerr == nil) || !samePayment(got, want) {
			t.Fatalf("payment %d: binary reads\n%+v (%v)\nJSON reads\n%+v (%v)", i, got, err, want, jerr)
		}
		if len(bin) >= len(js) {
			t.Errorf("payment %d: %d bytes binary, %d as JSON", i, len(bin), len(js))
		}

		q := randomRequest(r)
		jq, err := encodeRequestJSON(q)
		if err != nil {
			t.Fatal(err)
		}
		wantQ, jerr := decodeRequest([]byte(q.ID), jq)
		bq, err := encodeRequest(q)
		if err != nil || bq[0] != binVersion {
			t.Fatalf("request %d: %v, %q", i, err, bq[:1])
		}
		gotQ, err := decodeRequest([]byte(q.ID), bq)
		if (err == nil) != (jerr == nil) || !sameRequest(gotQ, wantQ) {
			t.Fatalf("request %d: binary reads\n%+v (%v)\nJSON reads\n%+v (%v)", i, gotQ, err, wantQ, jerr)
		}
		if status, expires, err := requestHoldBinary(bq); err != nil || status != wantQ.Status || expires != wantQ.ExpiresAt {
			t.Fatalf("request %d: hold reads %s %s (%v), want %s %s", i, status, expires, err, wantQ.Status, wantQ.ExpiresAt)
		}
	}
}

// What the binary form cannot say exactly is written as JSON, as before
// schema 14, and reads back the same.
func TestARecordTheBinaryFormCannotHoldIsWrittenAsJSON(t *testing.T) {
	base := newPayment("r")
	base.AcceptedAt = t0
	for _, tc := range []struct {
		name string
		p    func(Payment) Payment
	}{
		{"a time before 1678", func(p Payment) Payment { p.AcceptedAt = time.Date(1200, 1, 1, 0, 0, 0, 0, time.UTC); return p }},
		{"a time not in UTC", func(p Payment) Payment { p.UpdatedAt = t0.In(time.FixedZone("x", 3600)); return p }},
		{"negative attempts", func(p Payment) Payment { p.Delivery.Attempts = -1; return p }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p(base)
			b, err := encodePayment(p)
			if err != nil || b[0] != '{' {
				t.Fatalf("encodePayment: %q, %v; want JSON", b, err)
			}
			js, _ := encodePaymentJSON(p)
			if !bytes.Equal(b, js) {
				t.Fatalf("written %s, want %s", b, js)
			}
		})
	}
}

// A binary record cut short, with a byte too many, or with a field bit
// no version knows, is refused as damage, never read as something else.
func TestADamagedBinaryRecordIsCorrupt(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	p := randomPayment(r)
	p.Reason = "x"
	b, err := encodePaymentBinary(p)
	if err != nil {
		t.Fatal(err)
	}
	q := randomRequest(r)
	bq, err := encodeRequestBinary(q)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		pay  []byte
		req  []byte
	}{
		{"cut short", b[:len(b)-1], bq[:len(bq)-1]},
		{"a byte too many", append(bytes.Clone(b), 0), append(bytes.Clone(bq), 0)},
		{"an unknown field", binary.AppendUvarint([]byte{binVersion}, 1<<20), binary.AppendUvarint([]byte{binVersion}, 1<<20)},
		{"only the version", []byte{binVersion}, []byte{binVersion}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := decodePayment(p.TxHash[:], tc.pay); !errors.Is(err, ErrCorrupt) {
				t.Errorf("payment: %+v, %v; want ErrCorrupt", got, err)
			}
			if got, err := decodeRequest([]byte(q.ID), tc.req); !errors.Is(err, ErrCorrupt) {
				t.Errorf("request: %+v, %v; want ErrCorrupt", got, err)
			}
		})
	}
}

// FuzzDecodeBinaryPayment: no input makes the decoder panic, and what it
// reads it writes back byte for byte: a payment has one encoding, so a
// record read is the one the writer made of it.
func FuzzDecodeBinaryPayment(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 8 {
		b, _ := encodePaymentBinary(randomPayment(r))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != binVersion {
			return
		}
		h := make([]byte, 32)
		p, err := decodePayment(h, b)
		if err != nil {
			return
		}
		again, err := encodePayment(p)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("read %x as %+v, written back as %x", b, p, again)
		}
		q, err := decodePayment(h, again)
		if err != nil || !samePayment(p, q) {
			t.Fatalf("read back %+v (%v), want %+v", q, err, p)
		}
	})
}

// A code is written one way only: a listed name as its number, and no
// source as handover. A record spelling a listed name out, or holding no
// source, is not one the writer made and reads as damage (CI's fuzz run
// found the empty source read back as handover).
func TestANonCanonicalCodeIsCorrupt(t *testing.T) {
	p := randomPayment(rand.New(rand.NewPCG(5, 6)))
	p.Source = SourceChain
	b, err := encodePaymentBinary(p)
	if err != nil {
		t.Fatal(err)
	}
	_, n := binary.Uvarint(b[1:]) // the field bits; the source's code follows
	at := 1 + n
	if b[at] != 2 {
		t.Fatalf("source code %d, want 2 (chain)", b[at])
	}
	spell := func(s string) []byte {
		out := append(bytes.Clone(b[:at]), 0)
		out = binary.AppendUvarint(out, uint64(len(s)))
		out = append(out, s...)
		return append(out, b[at+1:]...)
	}
	if got, err := decodePayment(p.TxHash[:], spell("bridge")); err != nil || got.Source != "bridge" {
		t.Fatalf("an unlisted source: %q, %v; want it read", got.Source, err)
	}
	for _, s := range []string{"", string(SourceChain), string(SourceHandover)} {
		if got, err := decodePayment(p.TxHash[:], spell(s)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("source %q spelled out: %+v, %v; want ErrCorrupt", s, got.Source, err)
		}
	}
}

// typicalQueuedPayment is a handed-over payment as Accept stores it: a
// request.New ID (32 lowercase hex digits), AcceptedAt == UpdatedAt, a
// real signed EIP-1559 transfer of 0.0123 ETH as Raw, with the seq and
// event of a store 100,000 payments in. Its key is deterministic (so is
// the signature, RFC 6979): the record's size is the same every run.
func typicalQueuedPayment(t testing.TB) Payment {
	t.Helper()
	key, err := crypto.ToECDSA(bytes.Repeat([]byte{0x19}, 32))
	if err != nil {
		t.Fatal(err)
	}
	const chainID = 8453
	to := common.HexToAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
	amount := big.NewInt(12_300_000_000_000_000)
	tx, err := types.SignTx(types.NewTx(&types.DynamicFeeTx{
		ChainID: big.NewInt(chainID), Nonce: 41, GasTipCap: big.NewInt(1_000_000), GasFeeCap: big.NewInt(30_000_000),
		Gas: 21_000, To: &to, Value: amount,
	}), types.LatestSignerForChainID(big.NewInt(chainID)), key)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return Payment{
		TxHash: tx.Hash(), Source: SourceHandover, RequestID: "9f86d081884c7d659a2feaa0c55ad015",
		From: crypto.PubkeyToAddress(key.PublicKey), Nonce: tx.Nonce(), Asset: "ETH", Amount: amount,
		Raw: raw, State: PaymentQueued, AcceptedAt: t0, UpdatedAt: t0, Seq: 100_000, LastEvent: 300_000,
		ChainID: chainID,
	}
}

// A request ID of request.New's form (32 lowercase hex digits) costs its
// 16 bytes, any other its length and text, and an UpdatedAt equal to
// AcceptedAt (a payment not changed since it was accepted) costs nothing;
// each reads back exactly as it was. The bytes are counted against the
// same payment with no request ID and no UpdatedAt.
func TestAPaymentsRequestIDAndUpdatedAtCostOnlyWhatTheyHold(t *testing.T) {
	base := typicalQueuedPayment(t)
	base.RequestID, base.UpdatedAt = "", time.Time{}
	bare, err := encodePaymentBinary(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		p      func(Payment) Payment
		extra  int
		asJSON bool
	}{
		{"a request.New ID: its 16 bytes", func(p Payment) Payment { p.RequestID = "9f86d081884c7d659a2feaa0c55ad015"; return p }, 15, false},
		{"an ID of 32 upper-case hex digits: as text", func(p Payment) Payment { p.RequestID = "9F86D081884C7D659A2FEAA0C55AD015"; return p }, 32, false},
		{"an ID of 31 hex digits: as text", func(p Payment) Payment { p.RequestID = "9f86d081884c7d659a2feaa0c55ad01"; return p }, 31, false},
		{"an ID of 34 hex digits: as text", func(p Payment) Payment { p.RequestID = "9f86d081884c7d659a2feaa0c55ad01500"; return p }, 34, false},
		{"an older ID: as text", func(p Payment) Payment { p.RequestID = "r-1"; return p }, 3, false},
		{"UpdatedAt equal to AcceptedAt: not written", func(p Payment) Payment { p.UpdatedAt = p.AcceptedAt; return p }, 0, false},
		{"UpdatedAt after AcceptedAt: written", func(p Payment) Payment { p.UpdatedAt = p.AcceptedAt.Add(time.Nanosecond); return p }, 8, false},
		{"UpdatedAt with no AcceptedAt: written", func(p Payment) Payment { p.UpdatedAt, p.AcceptedAt = p.AcceptedAt, time.Time{}; return p }, 0, false},
		{"both, as Accept stores them", func(p Payment) Payment {
			p.RequestID, p.UpdatedAt = "00000000000000000000000000000000", p.AcceptedAt
			return p
		}, 15, false},
		{"UpdatedAt the same instant in another zone: JSON, as before", func(p Payment) Payment {
			p.UpdatedAt = p.AcceptedAt.In(time.FixedZone("x", 3600))
			return p
		}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p(base)
			b, err := encodePayment(p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodePayment(p.TxHash[:], b)
			if tc.asJSON {
				// JSON keeps the offset, not the zone's name.
				if b[0] != '{' || err != nil || got.UpdatedAt.Format(time.RFC3339Nano) != p.UpdatedAt.Format(time.RFC3339Nano) {
					t.Fatalf("written as %q, read back %s (%v); want JSON, %s", b[:1], got.UpdatedAt, err, p.UpdatedAt)
				}
				return
			}
			if err != nil || !samePayment(got, p) {
				t.Fatalf("read back\n%+v (%v), want\n%+v", got, err, p)
			}
			if b[0] != binVersion {
				t.Fatalf("written as %q, want binary", b[:1])
			}
			if extra := len(b) - len(bare); extra != tc.extra {
				t.Errorf("%d bytes more than with neither field, want %d", extra, tc.extra)
			}
		})
	}
}

// A payment record is written one way only; the forms the writer never
// makes are damage: a request.New ID written as text, an UpdatedAt
// written that equals AcceptedAt, "updated when accepted" with no
// AcceptedAt or with an UpdatedAt written too, "the ID as bytes" with its
// bytes missing. Each is made from a record the writer did make, changed
// in that one respect.
func TestAPaymentRecordTheWriterWouldNotMakeIsCorrupt(t *testing.T) {
	p := typicalQueuedPayment(t)
	lower := p.RequestID
	upper := strings.ToUpper(lower)
	at := binary.BigEndian.AppendUint64(nil, uint64(p.AcceptedAt.UnixNano()))
	later := binary.BigEndian.AppendUint64(nil, uint64(p.AcceptedAt.UnixNano()+1))
	enc := func(f func(*Payment)) []byte {
		q := p
		f(&q)
		b, err := encodePaymentBinary(q)
		if err != nil {
			t.Fatal(err)
		}
		if b[1] >= 0x80 {
			t.Fatalf("field bits %x take more than a byte", b[1])
		}
		return b
	}
	replace := func(b, old, new []byte) []byte {
		if bytes.Count(b, old) != 1 {
			t.Fatalf("%x is not once in the record", old)
		}
		return bytes.Replace(bytes.Clone(b), old, new, 1)
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"a request.New ID as text", replace(enc(func(q *Payment) { q.RequestID = upper }), []byte(upper), []byte(lower))},
		{"UpdatedAt written equal to AcceptedAt", replace(enc(func(q *Payment) { q.UpdatedAt = q.AcceptedAt.Add(1) }), later, at)},
		{"updated when accepted, with no AcceptedAt", func() []byte {
			b := replace(enc(func(*Payment) {}), at, nil)
			b[1] &^= payAcceptedAt
			return b
		}()},
		{"updated when accepted, and UpdatedAt written", func() []byte {
			b := replace(enc(func(*Payment) {}), at, append(bytes.Clone(at), later...))
			b[1] |= payUpdatedAt
			return b
		}()},
		{"the ID as bytes, with its bytes missing", func() []byte {
			id, _ := hex.DecodeString(lower)
			return replace(enc(func(*Payment) {}), id, nil)
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodePayment(p.TxHash[:], tc.b)
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("read as %+v, %v; want ErrCorrupt", got, err)
			}
			t.Log(err)
		})
	}
	if got, err := decodePayment(p.TxHash[:], enc(func(*Payment) {})); err != nil || !samePayment(got, p) {
		t.Fatalf("the record as written: %+v, %v; want it read", got, err)
	}
}

// A queued handed-over payment's record: its size is pinned so a change
// to the format says what it costs. Schema 14 as first written took 212
// bytes for this payment: 25 more, the request ID as 33 bytes of text and
// UpdatedAt written though equal to AcceptedAt. Of the 187: the signed tx
// 118 (117 and its length), the request ID 16, From 20, AcceptedAt 8,
// the rest (version, field bits, source, state, nonce, asset, amount,
// seq, chain, last event) 25.
func TestAQueuedPaymentsRecordSize(t *testing.T) {
	const want = 187
	p := typicalQueuedPayment(t)
	b, err := encodePayment(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d bytes, raw tx %d", len(b), len(p.Raw))
	if len(b) != want {
		t.Errorf("record is %d bytes, want %d", len(b), want)
	}
}

// The rest of a payment record is written one way only too: a number as
// AppendUvarint writes it, an amount with no leading zero byte and zero
// with no sign, an optional field's bit only for a value that is not
// zero. Each form the writer never makes, made from a record it did make
// changed in that one respect, is damage.
func TestAPaymentsNumbersAndOptionalFieldsHaveOneForm(t *testing.T) {
	p := typicalQueuedPayment(t)
	p.Reason, p.Delivery = "dropped", Delivery{LastError: "nonce too low", Block: 77}
	p.UpdatedAt = p.AcceptedAt.Add(time.Second)
	auth := p
	auth.Source = SourceAuthorization
	auth.Authorization = &Authorization{ValidAfter: big.NewInt(0), ValidBefore: big.NewInt(1 << 40)}
	auth.Authorization.Settlement[31] = 0x5e
	zero := p
	zero.Amount = new(big.Int)
	enc := func(q Payment) []byte {
		b, err := encodePaymentBinary(q)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := decodePayment(q.TxHash[:], b); err != nil || !samePayment(got, q) {
			t.Fatalf("the record as written: %+v, %v; want it read", got, err)
		}
		return b
	}
	replace := func(b, old, new []byte) []byte {
		if bytes.Count(b, old) != 1 {
			t.Fatalf("%x is not once in the record", old)
		}
		return bytes.Replace(bytes.Clone(b), old, new, 1)
	}
	event := binary.AppendUvarint(nil, p.LastEvent)
	overlong := append(bytes.Clone(event), 0)
	overlong[len(event)-1] |= 0x80
	amount := p.Amount.Bytes()
	settlement := append([]byte{1}, auth.Authorization.Settlement[:]...)
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"a number written long", replace(enc(p), event, overlong)},
		{"an amount with a leading zero byte", replace(enc(p),
			append([]byte{byte(len(amount) << 1)}, amount...), append([]byte{byte(len(amount)+1) << 1, 0}, amount...))},
		{"minus zero", replace(enc(zero), []byte("\x03ETH\x00"), []byte("\x03ETH\x01"))},
		{"last event 0", replace(enc(p), event, []byte{0})},
		{"an empty reason", replace(enc(p), []byte("\x07dropped"), []byte{0})},
		{"an empty delivery", replace(enc(p), []byte("\x14\x0dnonce too low\x4d"), []byte{0})},
		{"an empty last error", replace(enc(p), []byte("\x0dnonce too low"), []byte{0})},
		{"block 0", replace(enc(p), []byte("nonce too low\x4d"), []byte("nonce too low\x00"))},
		{"a settlement of zeros", replace(enc(auth), settlement, append([]byte{1}, make([]byte, 32)...))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodePayment(p.TxHash[:], tc.b)
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("read as %+v, %v; want ErrCorrupt", got, err)
			}
			t.Log(err)
		})
	}
}

// A request record the writer would not make is damage: an optional
// field's bit with the value it leaves the bit clear for, chains PutRequest
// refuses, a shared part with no doc.
func TestARequestRecordTheWriterWouldNotMakeIsCorrupt(t *testing.T) {
	base := Request{ID: "r-1", Asset: "ETH", Amount: big.NewInt(5), Status: RequestPending,
		CreatedAt: t0, ExpiresAt: t0.Add(time.Minute), Doc: []byte("doc")}
	enc := func(q Request) []byte {
		t.Helper()
		b, err := encodeRequestBinary(q)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if _, err := decodeRequest([]byte("r-1"), enc(base)); err != nil {
		t.Fatalf("the base record: %v", err)
	}
	for _, tc := range []struct {
		name string
		q    func(Request) Request
	}{
		{"a paid tx of zeros", func(q Request) Request { q.PaidTx[0] = 1; return q }},
		{"last event 0", func(q Request) Request { q.LastEvent = 1; return q }},
		{"chain 0", func(q Request) Request { q.Chains = []uint64{0}; return q }},
		{"a chain twice", func(q Request) Request { q.Chains = []uint64{7, 7}; return q }},
		{"a shared part with no doc", func(q Request) Request { q.Doc, q.shared = nil, 1; return q }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := enc(tc.q(base))
			// Write the value the writer never writes where it would have
			// put the one set above: a zero hash, a zero event, the
			// chains as given.
			switch tc.name {
			case "a paid tx of zeros":
				i := bytes.Index(b, append([]byte{1}, make([]byte, 31)...))
				b[i] = 0
			case "last event 0":
				b[len(b)-1] = 0
			}
			if got, err := decodeRequest([]byte("r-1"), b); !errors.Is(err, ErrCorrupt) {
				t.Errorf("%+v, %v; want ErrCorrupt", got, err)
			}
		})
	}
}

// FuzzDecodeBinaryRequest: no input makes the request decoder panic, and
// what it reads it writes back byte for byte (one encoding).
func FuzzDecodeBinaryRequest(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 8 {
		q := randomRequest(r)
		if r.IntN(2) == 0 && q.Doc != nil {
			q.shared = 1 + r.Uint64N(5)
		}
		if b, err := encodeRequestBinary(q); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != binVersion {
			return
		}
		q, err := decodeRequest([]byte("r-fuzz"), b)
		if err != nil {
			return
		}
		again, err := encodeRequestBinary(q)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", q, err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("read %x, written back %x", b, again)
		}
	})
}
