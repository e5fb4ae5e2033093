package request

import (
	"crypto/rand"
	"errors"
	"math/big"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/asset"
)

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Params)
		err    error
	}{
		{"zero amount", func(p *Params) { p.Amount = big.NewInt(0) }, ErrAmount},
		{"negative amount", func(p *Params) { p.Amount = big.NewInt(-1) }, ErrAmount},
		{"missing amount", func(p *Params) { p.Amount = nil }, ErrAmount},
		{"amount beyond uint256", func(p *Params) { p.Amount = new(big.Int).Lsh(big.NewInt(1), 256) }, ErrAmount},
		{"zero TTL", func(p *Params) { p.TTL = 0 }, ErrTTL},
		{"negative TTL", func(p *Params) { p.TTL = -time.Minute }, ErrTTL},
		{"sub-second TTL", func(p *Params) { p.TTL = 999 * time.Millisecond }, ErrTTL},
		{"TTL over a week", func(p *Params) { p.TTL = MaxTTL + time.Second }, ErrTTL},
		{"memo too long", func(p *Params) { p.Memo = strings.Repeat("a", MaxMemoLength+1) }, ErrMemo},
		{"memo multibyte too long", func(p *Params) { p.Memo = strings.Repeat("€", 47) }, ErrMemo}, // 141 bytes
		{"memo invalid UTF-8", func(p *Params) { p.Memo = "caf\xe9" }, ErrMemo},
		{"memo newline", func(p *Params) { p.Memo = "line1\nline2" }, ErrMemo},
		{"memo NUL", func(p *Params) { p.Memo = "a\x00b" }, ErrMemo},
		{"memo escape sequence", func(p *Params) { p.Memo = "\x1b[2J" }, ErrMemo},
		{"memo C1 control", func(p *Params) { p.Memo = "a\u0085b" }, ErrMemo},
		{"memo right-to-left override", func(p *Params) { p.Memo = "pay \u202e01.0" }, ErrMemo},
		{"memo bidi isolate", func(p *Params) { p.Memo = "\u2067x\u2069" }, ErrMemo},
		{"zero merchant", func(p *Params) { p.Merchant = common.Address{} }, ErrMerchant},
		{"zero chain id", func(p *Params) { p.ChainID = 0 }, ErrChainID},
		{"chain id beyond 2^53-1", func(p *Params) { p.ChainID = MaxChainID + 1 }, ErrChainID},
		{"empty terminal id", func(p *Params) { p.TerminalID = "" }, ErrTerminalID},
		{"long terminal id", func(p *Params) { p.TerminalID = strings.Repeat("t", MaxTerminalIDLength+1) }, ErrTerminalID},
		{"terminal id with control", func(p *Params) { p.TerminalID = "till\t1" }, ErrTerminalID},
		{"invalid asset", func(p *Params) { p.Asset = asset.Asset{Decimals: 6} }, asset.ErrAsset},
		{"clock at 1970", func(p *Params) { p.Now = time.Unix(42, 0) }, ErrClock},
		{"zero clock", func(p *Params) { p.Now = time.Time{} }, ErrClock},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := goodParams()
			tc.change(&p)
			r, err := New(p, fixedRandom())
			if !errors.Is(err, tc.err) {
				t.Fatalf("New = %v, want %v", err, tc.err)
			}
			if r != nil {
				t.Error("New returned a request with its error")
			}
		})
	}
}

func TestNewAccepts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Params)
	}{
		{"defaults", func(*Params) {}},
		{"native coin", func(p *Params) { p.Asset = eth() }},
		{"empty memo", func(p *Params) { p.Memo = "" }},
		{"memo at limit", func(p *Params) { p.Memo = strings.Repeat("a", MaxMemoLength) }},
		{"emoji with joiner", func(p *Params) { p.Memo = "👩‍🍳 tip" }},
		{"one base unit", func(p *Params) { p.Amount = big.NewInt(1) }},
		{"max uint256", func(p *Params) { p.Amount = bigString(maxUint256) }},
		{"max chain id", func(p *Params) { p.ChainID = MaxChainID }},
		{"one second TTL", func(p *Params) { p.TTL = time.Second }},
		{"local time zone", func(p *Params) { p.Now = testNow().In(time.FixedZone("CET", 3600)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := goodParams()
			tc.change(&p)
			if _, err := New(p, nil); err != nil {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

const maxUint256 = "115792089237316195423570985008687907853269984665640564039457584007913129639935"

func TestNewFields(t *testing.T) {
	p := goodParams()
	p.TTL = 90*time.Second + 700*time.Millisecond
	p.Now = p.Now.Add(123 * time.Millisecond)
	r, err := New(p, fixedRandom())
	if err != nil {
		t.Fatal(err)
	}
	// RFC 9562's UUIDv7: Unix ms 0x01959533fa87+123, version 7, 12 bits
	// from the random 0011, variant 10, 62 bits from 2233445566778899.
	if want := "01959533fb027011a233445566778899"; r.ID != want {
		t.Errorf("ID = %q, want %s: a UUIDv7 of Now and the random bytes", r.ID, want)
	}
	if want := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC); !r.CreatedAt.Equal(want) || r.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v (UTC, whole seconds)", r.CreatedAt, want)
	}
	if got := r.ExpiresAt.Sub(r.CreatedAt); got != 90*time.Second {
		t.Errorf("ExpiresAt - CreatedAt = %v, want the TTL in whole seconds (90s)", got)
	}
	p.Amount.SetInt64(1) // the caller reuses its big.Int
	if r.Amount.Int64() != 12_500_000 {
		t.Errorf("request amount changed with the caller's big.Int: %s", r.Amount)
	}
}

func TestNewIDsAreUniqueHex(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		r, err := New(goodParams(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if !validID(r.ID) {
			t.Fatalf("ID %q is not 32 lowercase hex digits", r.ID)
		}
		if seen[r.ID] {
			t.Fatalf("ID %s repeated", r.ID)
		}
		seen[r.ID] = true
	}
}

// Ids made later sort later, whatever their random bits: the store keys
// requests by id and fills its pages only when they come in order.
func TestNewIDsSortByTime(t *testing.T) {
	p := goodParams()
	prev := ""
	for i := range 2000 {
		p.Now = testNow().Add(time.Duration(i) * time.Millisecond)
		r, err := New(p, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if r.ID <= prev {
			t.Fatalf("id %s at +%dms sorts before or equal to %s, made a millisecond earlier", r.ID, i, prev)
		}
		if r.ID[12] != '7' || !strings.ContainsRune("89ab", rune(r.ID[16])) {
			t.Fatalf("id %s: version digit %c, variant digit %c; want 7 and one of 89ab (RFC 9562)", r.ID, r.ID[12], r.ID[16])
		}
		prev = r.ID
	}
}

// TimeOrdered tells New's ids (UUIDv7s of a time New takes) from the
// random ones made before: the short code and the pruner read an id's
// first digits as a time only when it is one.
func TestTimeOrdered(t *testing.T) {
	r, err := New(goodParams(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id   string
		want bool
	}{
		{r.ID, true},
		{"01959533fa877011a233445566778899", true},
		{"00112233445566778899aabbccddeeff", false}, // version digit 5
		{"01959533fa877011c233445566778899", false}, // variant digit c
		{"0011223344557abc9899aabbccddeeff", false}, // the digits, but a time in 1972
		{"ffff223344557abc9899aabbccddeeff", false}, // the digits, but a time in 10889
		{"01959533fa877011a2334455667788", false},   // short
		{"01959533FA877011A233445566778899", false}, // not lower case
	} {
		if got := TimeOrdered(c.id); got != c.want {
			t.Errorf("TimeOrdered(%s) = %v, want %v", c.id, got, c.want)
		}
	}
}

func TestNewReportsRandomFailure(t *testing.T) {
	for _, src := range []struct {
		name string
		r    interface{ Read([]byte) (int, error) }
	}{
		{"error", iotest.ErrReader(errors.New("entropy pool on fire"))},
		{"short", strings.NewReader("short")},
	} {
		if _, err := New(goodParams(), src.r); !errors.Is(err, ErrRandom) {
			t.Errorf("%s source: New = %v, want ErrRandom", src.name, err)
		}
	}
}

func TestValidateRefusesHandMadeRequests(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Request)
		err    error
	}{
		{"uppercase id", func(r *Request) { r.ID = strings.ToUpper(r.ID) }, ErrID},
		{"short id", func(r *Request) { r.ID = r.ID[:31] }, ErrID},
		{"local time", func(r *Request) { r.CreatedAt = r.CreatedAt.In(time.FixedZone("X", 60)) }, ErrTime},
		{"fractional second", func(r *Request) { r.ExpiresAt = r.ExpiresAt.Add(time.Millisecond) }, ErrTime},
		{"expires at creation", func(r *Request) { r.ExpiresAt = r.CreatedAt }, ErrTime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustNew(t, goodParams())
			tc.change(r)
			if err := r.Validate(); !errors.Is(err, tc.err) {
				t.Fatalf("Validate = %v, want %v", err, tc.err)
			}
			if _, err := Sign(r, testKey(t)); !errors.Is(err, tc.err) {
				t.Fatalf("Sign = %v, want %v", err, tc.err)
			}
		})
	}
}
