package screen

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"showpos/terminal/locale"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the rendered screens")

// The display sizes the terminal ships with.
var sizes = []Size{{128, 64, true}, {240, 240, false}, {320, 240, false}}

const (
	nativeURI = "ethereum:0x70997970C51812dc3A010C7d01b50e0d17dc79C8@31337?value=10000000000000000" +
		"&req=http%3A%2F%2F10.0.0.5%3A8080%2Fapi%2Fshowpos%2FgetPaymentRequest%3Fid%3D00112233445566778899aabbccddeeff"
	// The short link checkout.ShortLink makes of both: public_url
	// http://10.0.0.5:8080, the first 40 bits of that id in base32 (an id
	// from before ids were UUIDv7s: 128 random bits).
	nativeShort = "HTTP://10.0.0.5:8080/R/008J4CT4"
	erc20URI    = "ethereum:0x5FbDB2315678afecb367f032d93F642f64180aa3@31337/transfer?address=0x70997970C51812dc3A010C7d01b50e0d17dc79C8&uint256=12500000" +
		"&req=http%3A%2F%2F10.0.0.5%3A8080%2Fapi%2Fshowpos%2FgetPaymentRequest%3Fid%3D00112233445566778899aabbccddeeff"
	erc20Short = nativeShort
)

var (
	nativeRequest = Request{URI: nativeURI, ShortURI: nativeShort, Amount: "0.01", Asset: "ETH", Remaining: 4*time.Minute + 59*time.Second}
	erc20Request  = Request{URI: erc20URI, ShortURI: erc20Short, Amount: "12.50", Asset: "USDC", Remaining: 25 * time.Second}
)

// screens are the golden cases: every one is drawn at every size.
var screens = []struct {
	name string
	draw func(*Renderer) image.Image
}{
	{"idle_online", func(r *Renderer) image.Image {
		return r.Idle(Idle{Merchant: "Café Lumière", Online: true})
	}},
	{"idle_welcome", func(r *Renderer) image.Image {
		return r.Idle(Idle{Merchant: "Café Lumière", Welcome: "Scan or tap to pay", Queued: 1})
	}},
	{"idle_relayer_low", func(r *Renderer) image.Image {
		return r.Idle(Idle{Merchant: "Café Lumière", Online: true, Queued: 2, RelayerLow: true})
	}},
	{"idle_offline_notice", func(r *Renderer) image.Image {
		return r.Idle(Idle{Merchant: "Café Lumière", Queued: 3, Notice: "PAYMENT FAILED: conflict — press OK"})
	}},
	{"idle_failures", func(r *Renderer) image.Image {
		return r.Idle(Idle{Merchant: "Café Lumière", Online: true, Failures: 2})
	}},
	{"idle_notice_and_failure", func(r *Renderer) image.Image {
		return r.Idle(Idle{Merchant: "Café Lumière", Queued: 1, Notice: "PAID PAYMENT UNDONE: block lost", Failures: 1})
	}},
	{"idle_store_damaged", func(r *Renderer) image.Image {
		return r.Idle(Idle{Merchant: "Café Lumière", Online: true, Queued: 3, StoreDamaged: true})
	}},
	{"amount", func(r *Renderer) image.Image {
		return r.Amount(Amount{Entry: "12.5", Asset: "USDC", Hint: "OK to charge, F1 asset"})
	}},
	{"amount_fiat", func(r *Renderer) image.Image {
		return r.Amount(Amount{Entry: "4.50", Asset: "EUR", Quote: "≈ 0.0018 ETH", Hint: "OK to charge, F3 ETH"})
	}},
	{"amount_no_rate", func(r *Renderer) image.Image {
		return r.Amount(Amount{Entry: "0.0018", Asset: "ETH", Quote: "no rate: key ETH", Hint: "OK to charge, F1 asset"})
	}},
	{"tip", func(r *Renderer) image.Image {
		return r.Tip(Tip{Amount: "EUR 4.50", Options: []TipOption{{10, "0.45"}, {15, "0.68"}, {20, "0.90"}}, Hint: "Cancel back"})
	}},
	{"request_native", func(r *Renderer) image.Image { return r.Request(nativeRequest) }},
	{"request_erc20", func(r *Renderer) image.Image { return r.Request(erc20Request) }},
	{"request_two_networks", func(r *Renderer) image.Image {
		v := erc20Request
		v.Network, v.Offer, v.Offers = "arbitrum", 2, 2
		return r.Request(v)
	}},
	{"idle_one_network_offline", func(r *Renderer) image.Image {
		return r.Idle(Idle{Merchant: "Café Lumière", Online: true, Offline: []string{"arbitrum"}, Queued: 1})
	}},
	{"result_paid", func(r *Renderer) image.Image { return r.Result(Result{Kind: ResultPaid}) }},
	{"result_accepted", func(r *Renderer) image.Image { return r.Result(Result{Kind: ResultAccepted}) }},
	{"result_rejected", func(r *Renderer) image.Image {
		return r.Result(Result{Kind: ResultRejected, Reason: "underpaid by 0.50 USDC: the payer sent 12.00, not 12.50"})
	}},
	{"menu", func(r *Renderer) image.Image {
		return r.Menu(Menu{Title: "Last payments", Hint: "F1 back  F2 totals", Lines: []string{
			"14:02 0.01 ETH  PAID",
			"13:57 12.50 USDC QUEUED",
			"13:40 3.00 USDC REJECTED",
			"13:12 0.2 ETH   PAID",
			"12:58 7.25 USDC PAID",
			"12:30 1.00 USDC PAID",
			"11:05 0.05 ETH  PAID",
			"10:45 2.00 USDC PAID",
			"10:02 9.99 USDC PAID",
		}})
	}},
}

// germanScreens are golden cases drawn in German (terminal.locale = "de"):
// the screens' own words from the catalog, the caller's (hints, quotes,
// reasons, amounts with a decimal comma) as the cashier passes them.
var germanScreens = []struct {
	name string
	draw func(*Renderer) image.Image
}{
	{"de_idle_offline", func(r *Renderer) image.Image {
		return r.Idle(Idle{Merchant: "Café Lumière", Queued: 2})
	}},
	{"de_idle_failures", func(r *Renderer) image.Image {
		return r.Idle(Idle{Merchant: "Café Lumière", Online: true, Failures: 2})
	}},
	{"de_amount_fiat", func(r *Renderer) image.Image {
		de := mustLocale("de")
		return r.Amount(Amount{Entry: de.Amount("1234.50"), Asset: "EUR", Quote: "≈ " + de.Amount("0.4938") + " ETH",
			Hint: de.T(locale.HintCharge) + de.T(locale.HintOtherUnit, "ETH")})
	}},
	{"de_tip", func(r *Renderer) image.Image {
		de := mustLocale("de")
		return r.Tip(Tip{Amount: "EUR " + de.Amount("4.50"), Options: []TipOption{{10, de.Amount("0.45")}, {15, de.Amount("0.68")}, {20, de.Amount("0.90")}},
			Hint: de.T(locale.HintTipBack)})
	}},
	{"de_request", func(r *Renderer) image.Image {
		v := erc20Request
		v.Amount = mustLocale("de").Amount(v.Amount)
		return r.Request(v)
	}},
	{"de_request_two_networks", func(r *Renderer) image.Image {
		v := erc20Request
		v.Amount = mustLocale("de").Amount(v.Amount)
		v.Network, v.Offer, v.Offers = "base", 1, 2
		return r.Request(v)
	}},
	{"de_idle_one_network_offline", func(r *Renderer) image.Image {
		return r.Idle(Idle{Merchant: "Café Lumière", Online: true, Offline: []string{"arbitrum"}})
	}},
	{"de_result_paid", func(r *Renderer) image.Image { return r.Result(Result{Kind: ResultPaid}) }},
	{"de_result_accepted", func(r *Renderer) image.Image { return r.Result(Result{Kind: ResultAccepted}) }},
	{"de_result_rejected", func(r *Renderer) image.Image {
		return r.Result(Result{Kind: ResultRejected, Reason: mustLocale("de").T(locale.ReasonUnderpaid)})
	}},
}

func mustLocale(tag string) locale.Locale {
	l, err := locale.Parse(tag)
	if err != nil {
		panic(err)
	}
	return l
}

func goldenPath(name string, s Size) string {
	return filepath.Join("testdata", "golden", fmt.Sprintf("%s_%dx%d.png", name, s.W, s.H))
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGolden compares every screen at every size with its picture in
// testdata/golden, pixel by pixel. -update rewrites the pictures: look at
// them before committing.
func TestGolden(t *testing.T) {
	for _, s := range sizes {
		r := mustNew(t, s)
		de := mustNew(t, s)
		de.SetLocale(mustLocale("de"))
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, s.W, s.H), func(t *testing.T) { golden(t, sc.name, s, sc.draw(r)) })
		}
		for _, sc := range germanScreens {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, s.W, s.H), func(t *testing.T) { golden(t, sc.name, s, sc.draw(de)) })
		}
	}
}

// golden compares got with the picture of name at size s, or writes it
// with -update.
func golden(t *testing.T, name string, s Size, got image.Image) {
	t.Helper()
	path := goldenPath(name, s)
	if *update {
		if err := os.WriteFile(path, encodePNG(t, got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if n, at := diff(got, want); n > 0 {
		out := filepath.Join(t.TempDir(), filepath.Base(path))
		os.WriteFile(out, encodePNG(t, got), 0o644)
		t.Errorf("%d pixels differ from %s, first at %v; got is in %s", n, path, at, out)
	}
}

// diff counts the pixels of a and b that differ by more than 2 in a
// channel (anti-aliasing may round differently on another CPU), and
// where the first is.
func diff(a, b image.Image) (n int, first image.Point) {
	if a.Bounds() != b.Bounds() {
		return a.Bounds().Dx()*a.Bounds().Dy() + 1, a.Bounds().Max
	}
	near := func(x, y uint32) bool { return x>>8 <= y>>8+2 && y>>8 <= x>>8+2 }
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if !near(r1, r2) || !near(g1, g2) || !near(b1, b2) || !near(a1, a2) {
				if n == 0 {
					first = image.Pt(x, y)
				}
				n++
			}
		}
	}
	return n, first
}

func mustNew(t testing.TB, s Size) *Renderer {
	t.Helper()
	r, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
