package nfcpay

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"showpos/device"
)

// scriptTap is a phone whose answers are a script: each Exchange takes
// the next response APDU from it, and once it runs out the phone has left
// the field. A "not signed yet" (69 85) to GET-TX-INFO cancels the tap's
// context, so Pay never sleeps its ReadyPoll under the fuzzer.
type scriptTap struct {
	t        *testing.T
	replies  [][]byte
	cancel   context.CancelFunc
	sent     [][]byte
	got      [][]byte // the answers handed out, in order
	released int
}

func (s *scriptTap) ID() []byte { return []byte{0x08, 0x01, 0x02, 0x03} }

func (s *scriptTap) Exchange(ctx context.Context, apdu []byte) ([]byte, error) {
	if s.released > 0 {
		s.t.Fatal("Exchange after Release")
	}
	if len(apdu) > 254 {
		s.t.Fatalf("APDU of %d bytes: over the reader's 254", len(apdu))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.sent = append(s.sent, append([]byte(nil), apdu...))
	if len(s.replies) == 0 {
		return nil, fmt.Errorf("script: %w", device.ErrGone)
	}
	r := s.replies[0]
	s.replies = s.replies[1:]
	s.got = append(s.got, r)
	if len(apdu) > 1 && apdu[1] == InsGetTxInfo && bytes.HasSuffix(r, []byte{0x69, 0x85}) {
		s.cancel()
	}
	return r, nil
}

func (s *scriptTap) Release() error { s.released++; return nil }

// encodeScript and decodeScript turn a list of response APDUs into the
// fuzzer's bytes and back: each is a length byte and that many bytes
// (every response the protocol has fits in 255).
func encodeScript(replies [][]byte) []byte {
	var b []byte
	for _, r := range replies {
		b = append(b, byte(len(r)))
		b = append(b, r...)
	}
	return b
}

func decodeScript(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n := min(int(b[0]), len(b)-1)
		out = append(out, b[1:1+n])
		b = b[1+n:]
	}
	return out
}

// fuzzDoc is the request document Pay sends: its size chooses how many
// PUT-REQUEST-CHUNKs it takes (1 to 3).
func fuzzDoc(sel uint8) []byte {
	return pattern(int(sel%3)*ChunkSize+17, 3)
}

// honestReplies is what a real Phone answers to Pay for doc, signing tx.
func honestReplies(doc []byte, sign func([]byte) ([]byte, error)) [][]byte {
	ph := &Phone{Sign: sign}
	var replies [][]byte
	tap := &memTap{respond: func(a []byte) []byte { r := ph.Respond(a); replies = append(replies, r); return r }}
	_, _ = Pay(context.Background(), tap, doc)
	return replies
}

// FuzzPay runs the terminal's side of a tap against a phone that answers
// anything. Pay must never panic; it releases the tap exactly once and
// talks no more after; every APDU it sends fits the reader; an error
// wraps one of the errors Pay documents; and a transaction it returns is
// exactly the bytes of the GET-TX-CHUNK answers, as long as GET-TX-INFO
// said, after the whole request went out in order.
func FuzzPay(f *testing.F) {
	tx := func(n int) func([]byte) ([]byte, error) {
		return func([]byte) ([]byte, error) { return pattern(n, 9), nil }
	}
	for sel := range uint8(3) {
		doc := fuzzDoc(sel)
		for _, n := range []int{1, 2, ChunkSize, ChunkSize + 1, 600} {
			f.Add(encodeScript(honestReplies(doc, tx(n))), sel)
		}
		f.Add(encodeScript(honestReplies(doc, func([]byte) ([]byte, error) { return nil, errors.New("no") })), sel)
	}
	for _, script := range [][][]byte{
		{{0x6A, 0x82}},                           // no app
		{{0x02, 0x90, 0x00}},                     // another protocol version
		{{0x01, 0x90, 0x00}, {0x67, 0x00}},       // PUT refused
		{{0x01, 0x90, 0x00}, {0x00, 0x90, 0x00}}, // PUT answered with data
		{{0x01, 0x90, 0x00}, {0x90, 0x00}, {0x69, 0x85}},
		{{0x01, 0x90, 0x00}, {0x90, 0x00}, {0x00, 0x02, 0x00, 0x01, 0x90, 0x00}}, // tx over MaxTx
		{{0x01, 0x90, 0x00}, {0x90, 0x00}, {0x00, 0x00, 0x00, 0x00, 0x90, 0x00}}, // empty tx
		{{0x01, 0x90, 0x00}, {0x90, 0x00}, {0x00, 0x00, 0x00, 0x02, 0x90, 0x00}, {0xAA, 0x90, 0x00}},
		{{0x01, 0x90, 0x00}, {0x90, 0x00}, {0x00, 0x00, 0x00, 0x01, 0x90, 0x00}, {0xAA, 0x6A, 0x86}},
		{{0x90}},
	} {
		f.Add(encodeScript(script), uint8(0))
	}
	f.Fuzz(func(t *testing.T, script []byte, docSel uint8) {
		doc := fuzzDoc(docSel)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tap := &scriptTap{t: t, replies: decodeScript(script), cancel: cancel}
		got, err := Pay(ctx, tap, doc)
		if tap.released != 1 {
			t.Fatalf("released %d times", tap.released)
		}
		checkSent(t, tap.sent, doc)
		if err != nil {
			if got != nil {
				t.Fatalf("%d bytes with error %v", len(got), err)
			}
			var swe *SWError
			for _, e := range []error{ErrNotInstalled, ErrDeclined, ErrMalformed, ErrNotReady,
				device.ErrGone, device.ErrTooLarge, context.Canceled} {
				if errors.Is(err, e) {
					return
				}
			}
			if !errors.As(err, &swe) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		// Rebuild the transaction from the answers, apart from Pay.
		size := -1
		var want []byte
		for i, a := range tap.sent {
			r := tap.got[i]
			data, sw := r[:len(r)-2], binary.BigEndian.Uint16(r[len(r)-2:])
			switch a[1] {
			case InsGetTxInfo:
				if sw == SWOK {
					size = int(binary.BigEndian.Uint32(data))
				}
			case InsGetTxChunk:
				want = append(want, data...)
			}
		}
		if len(got) == 0 || len(got) > MaxTx || len(got) != size || !bytes.Equal(got, want) {
			t.Fatalf("got %d bytes; GET-TX-INFO said %d, the chunks carried %d", len(got), size, len(want))
		}
	})
}

// checkSent holds the APDUs Pay sent to the protocol: SELECT, then the
// request's PUT-REQUEST-CHUNKs in order (each the next 240 bytes, the last
// one flagged), then GET-TX-INFO (repeated), then GET-TX-CHUNKs from 0.
func checkSent(t *testing.T, sent [][]byte, doc []byte) {
	t.Helper()
	if len(sent) == 0 {
		t.Fatal("nothing sent")
	}
	if !bytes.Equal(sent[0], SelectAPDU()) {
		t.Fatalf("first APDU % X, not SELECT", sent[0])
	}
	puts := (len(doc) + ChunkSize - 1) / ChunkSize
	chunk, info := 0, false
	for i, a := range sent[1:] {
		switch {
		case i < puts:
			if want := PutRequestChunkAPDU(i, i == puts-1, doc[i*ChunkSize:min((i+1)*ChunkSize, len(doc))]); !bytes.Equal(a, want) {
				t.Fatalf("APDU %d is % X, want PUT-REQUEST-CHUNK % X", i+1, a, want)
			}
		case bytes.Equal(a, GetTxInfoAPDU()) && chunk == 0:
			info = true
		case bytes.Equal(a, GetTxChunkAPDU(chunk)) && info:
			chunk++
		default:
			t.Fatalf("APDU %d is % X", i+1, a)
		}
	}
}
