package qrread

import (
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"net/url"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"showpos/terminal/request"
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
				// No short link: the screen then shows the full URI, the
				// version-9 code whose data the detector mistakes, also on
				// the 240×240, which shows a short link when it has one.
				uri, _ := requestURI(rng)
				img := r.Request(screen.Request{URI: uri, Amount: "0.25", Asset: "ETH", Remaining: 4*time.Minute + 39*time.Second})
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

// A clean code alone (the payer API's qr.png, posctl request qr) reads
// at every module size, for a fixed sample of ids and ports in which the
// upright picture alone misses some; a picture with no code is
// ErrNotFound.
func TestReadsCleanCodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 1))
	missedUpright := 0
	n := 300
	for i := range n {
		uri, _ := requestURI(rng)
		img, err := request.QR(uri, 1+i%4)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := upright(img); err != nil || got != uri {
			missedUpright++
		}
		if got, err := Read(img); err != nil || got != uri {
			t.Errorf("module %d: Read = %q, %v; want %s", 1+i%4, got, err, uri)
		}
	}
	t.Logf("%d clean codes read; the upright picture alone missed %d", n, missedUpright)
	if missedUpright == 0 {
		t.Errorf("the sample has no code the upright picture misses: it no longer tests the clean read")
	}
	if _, err := Read(image.NewGray(image.Rect(0, 0, 64, 48))); !errors.Is(err, ErrNotFound) {
		t.Errorf("blank picture: %v, want ErrNotFound", err)
	}
}
