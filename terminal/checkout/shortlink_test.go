package checkout_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	qrcode "github.com/skip2/go-qrcode"

	"showpos/device/clock/clocktest"
	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/config/configtest"
	"showpos/terminal/request"
)

// A short code is 40 random bits of the id: a UUIDv7's (request.New's)
// last 40, as its first are the time it was made; an older id's, 128
// random bits, its first 40, the code it was shown with.
func TestShortCodeIs40RandomBitsOfTheIDInCrockfordBase32(t *testing.T) {
	for _, c := range []struct{ id, want string }{
		{"01959533fa877011a233445566778899", "ANK7F24S"}, // UUIDv7: the last 10 digits
		{"01959533fa877011a233440011223344", "008J4CT4"},
		{"00112233445566778899aabbccddeeff", "008J4CT4"}, // version digit 5: the first 10
		{"01959533fa877011c233445566778899", "06ASACZT"}, // variant digit c: not a UUIDv7
		{"0011223344557abc9899aabbccddeeff", "008J4CT4"}, // the digits, a time in 1972: an old random id
		{"ffffffffff", "ZZZZZZZZ"},
		{"0110101010", "0481040G"},
		{"001122334", ""},           // too short
		{"0011223344x", "008J4CT4"}, // only the first 10 digits count
		{"zz11223344", ""},          // not hex
	} {
		if got := checkout.ShortCode(c.id); got != c.want {
			t.Errorf("ShortCode(%q) = %q, want %q", c.id, got, c.want)
		}
	}
}

// Requests made in the same quarter second (their ids' first 40 bits the
// same) have codes of their own, each finding its request.
func TestRequestsMadeAtOnceHaveCodesOfTheirOwn(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	now := clocktest.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	till := newTill(t, withToken, st, now)
	codes := map[string]string{}
	for i := range 20 {
		doc, err := till.NewRequest(ctx, fmt.Sprintf("0.%02d", i+1), "ETH", "")
		if err != nil {
			t.Fatal(err)
		}
		code := checkout.ShortCode(doc.ID)
		if other, ok := codes[code]; ok {
			t.Fatalf("requests %s and %s, made at once, share the code %s", other, doc.ID, code)
		}
		codes[code] = doc.ID
	}
	for code, id := range codes {
		if got, err := till.RequestByCode(code); err != nil || got.ID != id {
			t.Fatalf("RequestByCode(%s) = %v, %v; want %s", code, got, err, id)
		}
	}
}

// The short link is public_url + /R/ + code, upper case where that keeps
// it the same URL (scheme and host; a path is case-sensitive), and an
// upper-case link of a typical public_url is a version-2 QR code at level
// Medium: what lets a 64-pixel OLED show it at two pixels a module.
func TestShortLinkIsUpperCaseWhereItMayBe(t *testing.T) {
	const id = "00112233445566778899aabbccddeeff"
	for _, c := range []struct {
		publicURL, want string
		version         int
	}{
		{"http://192.168.1.20:8080", "HTTP://192.168.1.20:8080/R/008J4CT4", 2},
		{"http://192.168.100.200:8080", "HTTP://192.168.100.200:8080/R/008J4CT4", 2},
		{"https://pos17.cafe-lumiere.example", "HTTPS://POS17.CAFE-LUMIERE.EXAMPLE/R/008J4CT4", 3},
		{"https://shop.example/pos17", "https://shop.example/pos17/R/008J4CT4", 3},
	} {
		doc := &request.Document{ID: id, RequestURL: c.publicURL + checkout.RequestPath + "?id=" + id}
		got := checkout.ShortLink(doc)
		if got != c.want {
			t.Errorf("ShortLink(%s) = %q, want %q", c.publicURL, got, c.want)
		}
		q, err := qrcode.New(got, qrcode.Medium)
		if err != nil || q.VersionNumber != c.version {
			t.Errorf("%q: QR version %d, %v at level M; want %d", got, q.VersionNumber, err, c.version)
		}
	}
	if got := checkout.ShortLink(&request.Document{ID: id, RequestURL: "http://elsewhere/x?id=" + id}); got != "" {
		t.Errorf("a request URL not the terminal's gives %q, want none", got)
	}
}

// sameCode gives the random bits of request ids that differ but share
// their short code (their last 5 bytes).
type sameCode struct{ n byte }

func (p *sameCode) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = 0xab
		if i < len(b)-5 {
			b[i] = p.n
		}
	}
	p.n++
	return len(b), nil
}

func TestRequestByCodeFindsOnlyAPayableRequest(t *testing.T) {
	ctx := context.Background()
	unknown := func(t *testing.T, what string, err error) {
		t.Helper()
		var r *check.Refusal
		if !errors.As(err, &r) || r.Code != check.CodeUnknownRequest {
			t.Errorf("%s: %v, want unknown_request", what, err)
		}
	}
	t.Run("found in any case, with O, I and L read as digits", func(t *testing.T) {
		st, _ := openStore(t)
		now := clocktest.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
		till := newTill(t, withToken, st, now)
		doc, err := till.NewRequest(ctx, "0.01", "ETH", "")
		if err != nil {
			t.Fatal(err)
		}
		code := checkout.ShortCode(doc.ID)
		looks := strings.NewReplacer("0", "O", "1", "l").Replace(strings.ToLower(code))
		for _, c := range []string{code, strings.ToLower(code), looks} {
			got, err := till.RequestByCode(c)
			if err != nil || got.ID != doc.ID || got.URI != doc.URI || got.Status != "pending" {
				t.Fatalf("RequestByCode(%q) = %+v, %v; want %s pending", c, got, err, doc.ID)
			}
		}
		for _, c := range []string{"", "008J4CT", "008J4CT44", "UUUUUUUU", "008J4CT%", strings.Repeat("Z", 200)} {
			_, err := till.RequestByCode(c)
			unknown(t, "malformed "+c, err)
		}
		_, err = till.RequestByCode(checkout.ShortCode("ffffffffff"))
		unknown(t, "no such request", err)
		if _, err := till.Cancel(ctx, doc.ID); err != nil {
			t.Fatal(err)
		}
		_, err = till.RequestByCode(code)
		unknown(t, "cancelled", err)
	})
	t.Run("expired", func(t *testing.T) {
		st, _ := openStore(t)
		now := clocktest.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
		till := newTill(t, withToken, st, now)
		doc, err := till.NewRequest(ctx, "0.01", "ETH", "")
		if err != nil {
			t.Fatal(err)
		}
		now.Set(doc.ExpiresAt)
		_, err = till.RequestByCode(checkout.ShortCode(doc.ID))
		unknown(t, "expired", err)
	})
	t.Run("two payable requests with one code: refused until one is not payable", func(t *testing.T) {
		st, _ := openStore(t)
		now := clocktest.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
		key, _ := crypto.GenerateKey()
		till := checkout.New(checkout.Options{Config: configtest.New(t, withToken), Key: key, Store: st, Clock: now, Random: &sameCode{}})
		a, err := till.NewRequest(ctx, "0.01", "ETH", "")
		if err != nil {
			t.Fatal(err)
		}
		b, err := till.NewRequest(ctx, "0.02", "ETH", "")
		if err != nil {
			t.Fatal(err)
		}
		code := checkout.ShortCode(a.ID)
		if a.ID == b.ID || checkout.ShortCode(b.ID) != code {
			t.Fatalf("ids %s and %s: want two with one code", a.ID, b.ID)
		}
		if _, err := till.RequestByCode(code); !errors.Is(err, checkout.ErrAmbiguousCode) {
			t.Fatalf("two payable: %v, want ErrAmbiguousCode", err)
		}
		if _, err := till.Cancel(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := till.RequestByCode(code); err != nil || got.ID != b.ID {
			t.Fatalf("after cancelling %s: %v, %v; want %s", a.ID, got, err, b.ID)
		}
	})
}
