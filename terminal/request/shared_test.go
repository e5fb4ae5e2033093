package request

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Every compact case splits into its own part and the shared part, and the
// two join back into the same document; a request URL that does not end
// with the id shares nothing.
func TestCompactPartsRoundTrip(t *testing.T) {
	for i, tc := range compactCases {
		t.Run(tc.name, func(t *testing.T) {
			d := compactCaseDocument(t, i)
			whole := mustCompact(t, d)
			own, shared, err := d.CompactParts()
			if err != nil {
				t.Fatalf("CompactParts: %v", err)
			}
			if !strings.HasSuffix(d.RequestURL, d.ID) {
				if shared != nil || !bytes.Equal(own, whole) {
					t.Fatalf("request URL %q without the id: own %x, shared %x; want the whole form and no shared part", d.RequestURL, own, shared)
				}
				return
			}
			if shared == nil {
				t.Fatal("no shared part for a request URL ending with the id")
			}
			// What the split saves: the terminal id, merchant, signer and URLs.
			if saved := len(whole) - len(own); saved < len(d.TerminalID)+40 {
				t.Errorf("own part %d bytes, the whole form %d: saves %d", len(own), len(whole), saved)
			}
			back, err := ParseStoredParts(own, shared)
			if err != nil {
				t.Fatalf("ParseStoredParts: %v", err)
			}
			if got, want := mustJSON(t, back), mustJSON(t, d); !bytes.Equal(got, want) {
				t.Errorf("JSON after a split round trip:\n%s\nwant\n%s", got, want)
			}
			if !reflect.DeepEqual(back, d) {
				t.Errorf("document after a split round trip:\n%+v\nwant\n%+v", back, d)
			}
			own2, shared2, err := back.CompactParts()
			if err != nil || !bytes.Equal(own2, own) || !bytes.Equal(shared2, shared) {
				t.Errorf("re-split = %x, %x, %v; want %x, %x", own2, shared2, err, own, shared)
			}
			if addr, err := back.Verify(); err != nil || addr.Hex() != testSigner {
				t.Errorf("Verify = %s, %v; want %s", addr.Hex(), err, testSigner)
			}
			// Read alone, the own part is refused: it is not a whole request.
			if got, err := ParseStored(own); !errors.Is(err, ErrSharedMissing) || !errors.Is(err, ErrDocument) || got != nil {
				t.Errorf("ParseStored(own) = %v, %v; want ErrSharedMissing and ErrDocument", got, err)
			}
			// A whole form given a shared part is not what the store keeps.
			if got, err := ParseStoredParts(whole, shared); !errors.Is(err, ErrDocument) || got != nil {
				t.Errorf("ParseStoredParts(whole, shared) = %v, %v; want ErrDocument", got, err)
			}
		})
	}
}

// Two requests of one terminal share the same bytes (the store keeps them
// once); another terminal id or broadcast URL is another shared part.
func TestRequestsOfOneTerminalShareOnePart(t *testing.T) {
	split := func(p Params, random *bytes.Reader, reqURL, bcURL string) []byte {
		t.Helper()
		r, err := New(p, random)
		if err != nil {
			t.Fatal(err)
		}
		d, err := mustSigner(t, testKey(t)).Document(r, reqURL+r.ID, bcURL)
		if err != nil {
			t.Fatal(err)
		}
		_, shared, err := d.CompactParts()
		if err != nil || shared == nil {
			t.Fatalf("CompactParts: %x, %v", shared, err)
		}
		return shared
	}
	base := "https://till-1.shop.example/api/showpos/getPaymentRequest?id="
	p := goodParams()
	a := split(p, bytes.NewReader(bytes.Repeat([]byte{1}, 16)), base, testBcastURL)
	q := goodParams()
	q.Amount, q.Memo, q.Asset = bigString("10000000000000000"), "", eth()
	b := split(q, bytes.NewReader(bytes.Repeat([]byte{2}, 16)), base, testBcastURL)
	if !bytes.Equal(a, b) {
		t.Errorf("two requests of one terminal: shared parts %x and %x", a, b)
	}
	q.TerminalID = "till-2"
	if c := split(q, bytes.NewReader(bytes.Repeat([]byte{3}, 16)), base, testBcastURL); bytes.Equal(a, c) {
		t.Error("another terminal id, the same shared part")
	}
	if c := split(p, bytes.NewReader(bytes.Repeat([]byte{4}, 16)), base, "https://relay.example/tx"); bytes.Equal(a, c) {
		t.Error("another broadcast URL, the same shared part")
	}
	s, err := ParseShared(a)
	if err != nil || s.TerminalID != "till-1" || s.RequestURLBase != base || s.BroadcastURL != testBcastURL {
		t.Errorf("ParseShared = %+v, %v", s, err)
	}
}

// A damaged shared part is refused, never read as other parts.
func TestParseSharedRefuses(t *testing.T) {
	d := compactCaseDocument(t, 0)
	_, good, err := d.CompactParts()
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(good) {
		if s, err := ParseShared(good[:n]); !errors.Is(err, ErrDocument) {
			t.Errorf("cut to %d bytes: %+v, %v; want ErrDocument", n, s, err)
		}
	}
	longer := Shared{RequestURLBase: "http://h/a", BroadcastURL: "http://h/b"}.Marshal()
	short := bytes.Clone(longer)
	// The broadcast URL's shared prefix written one byte short: "http://h/"
	// shares 9 bytes, written as 8 and "/b".
	i := bytes.LastIndexByte(short, 9)
	short = append(append(short[:i:i], 8, 2), "/b"...)
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"another version", append([]byte{SharedVersion + 1}, good[1:]...)},
		{"a byte too many", append(bytes.Clone(good), 0)},
		{"a shared prefix not the longest", short},
		{"a shared prefix longer than the base", append(bytes.Clone(longer[:i]), 100, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := ParseShared(tc.b); !errors.Is(err, ErrDocument) {
				t.Errorf("%+v, %v; want ErrDocument", s, err)
			}
		})
	}
	if s, err := ParseShared(longer); err != nil || s.BroadcastURL != "http://h/b" {
		t.Errorf("the longest prefix: %+v, %v", s, err)
	}
	// A shared part whose fields break a request's rules is caught when
	// the request is joined.
	own, _, _ := d.CompactParts()
	bad := Shared{TerminalID: d.TerminalID, Merchant: d.Merchant, Signer: d.Signer, RequestURLBase: "ftp://x/", BroadcastURL: d.BroadcastURL}.Marshal()
	if got, err := ParseStoredParts(own, bad); !errors.Is(err, ErrDocument) || got != nil {
		t.Errorf("joined with an ftp request URL: %v, %v; want ErrDocument", got, err)
	}
}

// FuzzParseStoredParts: no pair of inputs makes the split reader panic,
// and a pair it reads is the one split of its document.
func FuzzParseStoredParts(f *testing.F) {
	for i := range compactCases {
		own, shared, err := compactCaseDocument(f, i).CompactParts()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(own, shared)
	}
	f.Fuzz(func(t *testing.T, own, shared []byte) {
		if shared == nil {
			shared = []byte{} // the fuzzer's empty slice is not "no shared part"
		}
		d, err := ParseStoredParts(own, shared)
		if err != nil {
			if !errors.Is(err, ErrDocument) {
				t.Fatalf("error does not wrap ErrDocument: %v", err)
			}
			return
		}
		o2, s2, err := d.CompactParts()
		if err != nil || !bytes.Equal(o2, own) || !bytes.Equal(s2, shared) {
			t.Fatalf("re-split = %x, %x, %v; want %x, %x", o2, s2, err, own, shared)
		}
	})
}
