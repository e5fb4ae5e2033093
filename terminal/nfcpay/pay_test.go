package nfcpay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"showpos/device"
)

// memTap is a device.Tap wired straight to a responder: the reader and the
// RF link with nothing in between. It checks the APDU size limit the PN532
// driver enforces and records what was sent.
type memTap struct {
	t         *testing.T
	respond   func(apdu []byte) []byte
	goneAfter int // the phone leaves after this many exchanges; 0 = never
	sent      [][]byte
	released  int
}

func (m *memTap) ID() []byte { return []byte{0x08, 0x01, 0x02, 0x03} }

func (m *memTap) Exchange(ctx context.Context, apdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if m.released > 0 {
		m.t.Errorf("Exchange after Release")
	}
	if len(apdu) > 254 {
		m.t.Errorf("APDU of %d bytes: over the reader's 254", len(apdu))
	}
	if m.goneAfter > 0 && len(m.sent) >= m.goneAfter {
		return nil, fmt.Errorf("memtap: %w", device.ErrGone)
	}
	m.sent = append(m.sent, append([]byte(nil), apdu...))
	r := m.respond(apdu)
	if len(r) > 258 {
		m.t.Errorf("response APDU of %d bytes", len(r))
	}
	return r, nil
}

func (m *memTap) Release() error { m.released++; return nil }

// count returns how many APDUs with ins were sent.
func (m *memTap) count(ins byte) int {
	n := 0
	for _, a := range m.sent {
		if a[1] == ins {
			n++
		}
	}
	return n
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7) + byte(i>>8)
	}
	return b
}

// signer returns a Sign that checks it got want and answers tx.
func signer(t *testing.T, want, tx []byte) func([]byte) ([]byte, error) {
	return func(req []byte) ([]byte, error) {
		if !bytes.Equal(req, want) {
			t.Errorf("phone got a request of %d bytes, want the %d sent", len(req), len(want))
		}
		return tx, nil
	}
}

func TestPayTransfersBothWaysInChunks(t *testing.T) {
	for _, tc := range []struct {
		name           string
		req, tx        int
		puts, txChunks int
	}{
		{"2 KiB request, 5 KiB tx", 2048, 5120, 9, 22},
		{"tiny", 1, 1, 1, 1},
		{"exact chunk multiples", 480, 240, 2, 1},
		{"one over a chunk", 241, 241, 2, 2},
		{"largest tx", 100, MaxTx, 1, (MaxTx + ChunkSize - 1) / ChunkSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, tx := pattern(tc.req, 1), pattern(tc.tx, 9)
			ph := &Phone{Sign: signer(t, req, tx)}
			tap := &memTap{t: t, respond: ph.Respond}
			got, err := Pay(context.Background(), tap, req)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tx) {
				t.Fatalf("got %d bytes of tx, not the %d the phone signed", len(got), len(tx))
			}
			if !bytes.Equal(tap.sent[0], SelectAPDU()) {
				t.Errorf("first APDU % X, want SELECT", tap.sent[0])
			}
			if n := tap.count(InsPutRequestChunk); n != tc.puts {
				t.Errorf("%d PUT-REQUEST-CHUNKs, want %d", n, tc.puts)
			}
			if n := tap.count(InsGetTxChunk); n != tc.txChunks {
				t.Errorf("%d GET-TX-CHUNKs, want %d", n, tc.txChunks)
			}
			lastPut := tap.sent[tc.puts]
			if lastPut[2]&LastChunk == 0 {
				t.Errorf("last PUT % X has no last flag", lastPut[:5])
			}
			for _, a := range tap.sent[1:tc.puts] {
				if a[2]&LastChunk != 0 || a[4] != ChunkSize {
					t.Errorf("PUT % X before the last: want 240 bytes, no last flag", a[:5])
				}
			}
			if tap.released != 1 {
				t.Errorf("released %d times, want 1", tap.released)
			}
		})
	}
}

// wire checks the APDUs byte for byte for a small exchange: what a phone
// app developer implements against.
func TestPayAPDUsOnTheWire(t *testing.T) {
	ph := &Phone{Sign: func([]byte) ([]byte, error) { return []byte{0x02, 0xF8}, nil }}
	var answers [][]byte
	tap := &memTap{t: t, respond: func(a []byte) []byte { r := ph.Respond(a); answers = append(answers, r); return r }}
	if _, err := Pay(context.Background(), tap, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	want := []struct{ c, r string }{
		{"00A4040008F053484F57504F5300", "019000"},
		{"80D08000027B7D", "9000"},
		{"80D2000004", "000000029000"},
		{"80D4000000", "02F89000"},
	}
	if len(tap.sent) != len(want) {
		t.Fatalf("%d APDUs, want %d", len(tap.sent), len(want))
	}
	for i, w := range want {
		if c := fmt.Sprintf("%X", tap.sent[i]); c != w.c {
			t.Errorf("C-APDU %d = %s, want %s", i, c, w.c)
		}
		if r := fmt.Sprintf("%X", answers[i]); r != w.r {
			t.Errorf("R-APDU %d = %s, want %s", i, r, w.r)
		}
	}
}

// override answers sw to the n-th (0-based) APDU with INS ins, and lets
// the phone answer everything else.
func override(ph *Phone, ins byte, n int, answer []byte) func([]byte) []byte {
	seen := 0
	return func(a []byte) []byte {
		r := ph.Respond(a)
		if a[1] == ins {
			seen++
			if seen-1 == n {
				return answer
			}
		}
		return r
	}
}

func TestPayFailures(t *testing.T) {
	req, tx := pattern(2048, 3), pattern(5120, 4)
	good := func(t *testing.T) *Phone { return &Phone{Sign: signer(t, req, tx)} }
	for _, tc := range []struct {
		name   string
		tap    func(t *testing.T) *memTap
		req    []byte
		is     error  // errors.Is target
		sw     uint16 // *SWError's SW when is == nil
		inErr  string // text the error must name
		noneOf byte   // an INS that must not have been sent
	}{
		{name: "app not installed", is: ErrNotInstalled, inErr: "SELECT AID",
			tap: func(t *testing.T) *memTap {
				return &memTap{t: t, respond: func([]byte) []byte { return []byte{0x6A, 0x82} }}
			}},
		{name: "phone gone mid-request", is: device.ErrGone, inErr: "PUT-REQUEST-CHUNK 5/9",
			tap: func(t *testing.T) *memTap { return &memTap{t: t, respond: good(t).Respond, goneAfter: 5} }},
		{name: "phone gone mid-tx", is: device.ErrGone, inErr: "GET-TX-CHUNK 3/22",
			tap: func(t *testing.T) *memTap { return &memTap{t: t, respond: good(t).Respond, goneAfter: 1 + 9 + 1 + 2} }},
		{name: "bad status word on a chunk", sw: 0x6F00, inErr: "GET-TX-CHUNK 3/22",
			tap: func(t *testing.T) *memTap {
				return &memTap{t: t, respond: override(good(t), InsGetTxChunk, 2, []byte{0x6F, 0x00})}
			}},
		{name: "bad status word on a PUT", sw: 0x6A86, inErr: "PUT-REQUEST-CHUNK 2/9",
			tap: func(t *testing.T) *memTap {
				return &memTap{t: t, respond: override(good(t), InsPutRequestChunk, 1, []byte{0x6A, 0x86})}
			}},
		{name: "oversize tx refused before fetching", is: device.ErrTooLarge, inErr: "GET-TX-INFO", noneOf: InsGetTxChunk,
			tap: func(t *testing.T) *memTap {
				ph := &Phone{Sign: func([]byte) ([]byte, error) { return make([]byte, MaxTx+1), nil }}
				return &memTap{t: t, respond: ph.Respond}
			}},
		{name: "oversize request refused before sending", is: device.ErrTooLarge, req: make([]byte, MaxRequest+1), noneOf: 0xA4,
			tap: func(t *testing.T) *memTap { return &memTap{t: t, respond: good(t).Respond} }},
		{name: "declined", is: ErrDeclined, inErr: "GET-TX-INFO", noneOf: InsGetTxChunk,
			tap: func(t *testing.T) *memTap {
				ph := &Phone{Sign: func([]byte) ([]byte, error) { return nil, errors.New("payer said no") }}
				return &memTap{t: t, respond: ph.Respond}
			}},
		{name: "short chunk", is: ErrMalformed, inErr: "GET-TX-CHUNK 2/22",
			tap: func(t *testing.T) *memTap {
				return &memTap{t: t, respond: override(good(t), InsGetTxChunk, 1, withSW(make([]byte, 100), SWOK))}
			}},
		{name: "long chunk", is: ErrMalformed, inErr: "GET-TX-CHUNK 22/22",
			tap: func(t *testing.T) *memTap {
				return &memTap{t: t, respond: override(good(t), InsGetTxChunk, 21, withSW(make([]byte, 240), SWOK))}
			}},
		{name: "no status word", is: ErrMalformed, inErr: "GET-TX-INFO",
			tap: func(t *testing.T) *memTap {
				return &memTap{t: t, respond: override(good(t), InsGetTxInfo, 0, []byte{0x90})}
			}},
		{name: "unknown protocol version", is: ErrMalformed, inErr: "SELECT AID",
			tap: func(t *testing.T) *memTap {
				return &memTap{t: t, respond: func([]byte) []byte { return []byte{0x02, 0x90, 0x00} }}
			}},
		{name: "empty tx", is: ErrMalformed, inErr: "GET-TX-INFO",
			tap: func(t *testing.T) *memTap {
				return &memTap{t: t, respond: override(good(t), InsGetTxInfo, 0, []byte{0, 0, 0, 0, 0x90, 0x00})}
			}},
		{name: "data where none belongs", is: ErrMalformed, inErr: "PUT-REQUEST-CHUNK 1/9",
			tap: func(t *testing.T) *memTap {
				return &memTap{t: t, respond: override(good(t), InsPutRequestChunk, 0, []byte{0x01, 0x90, 0x00})}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tap := tc.tap(t)
			r := req
			if tc.req != nil {
				r = tc.req
			}
			got, err := Pay(context.Background(), tap, r)
			if err == nil {
				t.Fatalf("Pay = %d bytes, nil; want an error", len(got))
			}
			t.Log(err)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %q", err, tc.is)
			}
			var swe *SWError
			if tc.is == nil && (!errors.As(err, &swe) || swe.SW != tc.sw) {
				t.Errorf("error %q: want an SWError with %04X", err, tc.sw)
			}
			if tc.inErr != "" && !bytes.Contains([]byte(err.Error()), []byte(tc.inErr)) {
				t.Errorf("error %q does not name %q", err, tc.inErr)
			}
			if tc.noneOf != 0 && tap.count(tc.noneOf) != 0 {
				t.Errorf("sent INS %02X, should have stopped before", tc.noneOf)
			}
			if tap.released != 1 {
				t.Errorf("released %d times, want 1", tap.released)
			}
		})
	}
}

func TestPayWaitsWhileThePhoneSigns(t *testing.T) {
	req, tx := []byte("request"), pattern(300, 5)
	ph := &Phone{Sign: signer(t, req, tx)}
	notYet := 0
	tap := &memTap{t: t, respond: func(a []byte) []byte {
		if a[1] == InsGetTxInfo && notYet < 3 {
			notYet++
			return []byte{0x69, 0x85}
		}
		return ph.Respond(a)
	}}
	start := time.Now()
	got, err := Pay(context.Background(), tap, req)
	if err != nil || !bytes.Equal(got, tx) {
		t.Fatalf("Pay = %d bytes, %v", len(got), err)
	}
	if n := tap.count(InsGetTxInfo); n != 4 {
		t.Errorf("%d GET-TX-INFO, want 4", n)
	}
	if d := time.Since(start); d < 3*ReadyPoll {
		t.Errorf("took %v: did not pause between polls", d)
	}
}

func TestPayNotReadyEndsWithTheContext(t *testing.T) {
	ph := &Phone{Sign: signer(t, []byte("r"), []byte("t"))}
	tap := &memTap{t: t, respond: func(a []byte) []byte {
		if a[1] == InsGetTxInfo {
			return []byte{0x69, 0x85}
		}
		return ph.Respond(a)
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
	defer cancel()
	_, err := Pay(ctx, tap, []byte("r"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if tap.released != 1 {
		t.Errorf("released %d times", tap.released)
	}
}

func TestPayEmptyRequest(t *testing.T) {
	tap := &memTap{t: t, respond: (&Phone{}).Respond}
	if _, err := Pay(context.Background(), tap, nil); err == nil || len(tap.sent) != 0 {
		t.Fatalf("err = %v after %d APDUs; want a refusal before any", err, len(tap.sent))
	}
}
