package qrread

import (
	"fmt"
	"image"
	"math/rand/v2"
	"net/url"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	goqr "github.com/skip2/go-qrcode"

	"showpos/terminal/screen"
)

// requestURI is a request's EIP-681 URI as the terminal puts it on
// screen, with the id and the port drawn from rng (the parts that change
// from one request to the next).
func requestURI(rng *rand.Rand) (uri, short string) {
	short = "ethereum:0x000000000000000000000000000000000000dEaD@1337?value=250000000000000000"
	id := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
	u := fmt.Sprintf("http://127.0.0.1:%d/api/showpos/getPaymentRequest?id=%s", 32768+rng.IntN(28232), id)
	return short + "&req=" + url.QueryEscape(u), short
}

// upright is what the tests read before this package: the picture as it
// is, one try.
func upright(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// Every request screen the terminal draws reads back as its URI, on each
// panel size a request URL fits, for a fixed sample of ids and ports
// (seeded: the same codes every run) in which the upright picture alone
// misses some.
func TestReadsEveryRequestScreen(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 100
	}
	for _, size := range []screen.Size{{W: 320, H: 240}, {W: 240, H: 240}} {
		t.Run(fmt.Sprintf("%dx%d", size.W, size.H), func(t *testing.T) {
			r, err := screen.New(size)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(12, uint64(size.W)))
			missedUpright := 0
			for range n {
				uri, short := requestURI(rng)
				img := r.Request(screen.Request{URI: uri, ShortURI: short, Amount: "0.25", Asset: "ETH", Remaining: 4*time.Minute + 39*time.Second})
				if got, err := upright(img); err != nil || got != uri {
					missedUpright++
				}
				got, err := Read(img)
				if err != nil || got != uri {
					t.Errorf("Read = %q, %v; want %s", got, err, uri)
				}
			}
			t.Logf("%d request screens read; the upright picture alone missed %d", n, missedUpright)
			if missedUpright == 0 && !testing.Short() {
				t.Errorf("the sample has no screen the upright picture misses: it no longer tests the turns")
			}
		})
	}
}

// A clean code alone (the payer API's qr.png) reads, and a picture with
// no code is ErrNotFound.
func TestReadCleanCodeAndNothing(t *testing.T) {
	q, err := goqr.New("ethereum:0x000000000000000000000000000000000000dEaD@1?value=1", goqr.Medium)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Read(q.Image(-4)); err != nil || got != "ethereum:0x000000000000000000000000000000000000dEaD@1?value=1" {
		t.Errorf("clean code: %q, %v", got, err)
	}
	if _, err := Read(image.NewGray(image.Rect(0, 0, 64, 48))); err == nil {
		t.Error("blank picture: no error")
	}
}
