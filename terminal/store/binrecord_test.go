package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
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
		q.Chains = append(q.Chains, r.Uint64()>>r.IntN(64))
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
// reads it writes back the same.
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
