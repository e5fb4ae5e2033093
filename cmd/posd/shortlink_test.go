package main

import (
	"image"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"showpos/terminal/request"
	"showpos/tools/devchain"
	"showpos/tools/qrread"
)

// oledBoard is simBoard with the simulator's display a 128×64 OLED.
func oledBoard(sim string) string {
	return strings.Replace(strings.Replace(simBoard(sim), "width = 320", "width = 128", 1),
		"height = 240", "height = 64\nmono = true", 1)
}

// On a 128×64 OLED posd shows the request's short link, and the link
// posd serves sends a browser to the request's payer page and an app to
// its EIP-681 URI: the whole path a payer's phone takes, through the real
// daemon.
func TestOLEDShowsAShortLinkThatLeadsToTheRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon with a dev chain")
	}
	_, addr, doc, link := oledRequest(t, "0.5")
	if want := "HTTP://" + strings.ToUpper(addr) + "/R/"; !strings.HasPrefix(link, want) || len(link) != len(want)+8 {
		t.Fatalf("the OLED shows %q, want %s and an 8-character code", link, want)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(c *http.Client, accept string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("GET", link, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", accept)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if r := get(noFollow, "application/json"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != doc.URI {
		t.Errorf("an app is sent (%d) to %q, want %s", r.StatusCode, r.Header.Get("Location"), doc.URI)
	}
	if r := get(http.DefaultClient, "text/html"); r.StatusCode != http.StatusOK || r.Request.URL.Path != "/pay/"+doc.ID {
		t.Errorf("a browser ends (%d) at %s, want the payer page /pay/%s", r.StatusCode, r.Request.URL, doc.ID)
	}
}

// upscale draws img k times larger, pixel for pixel: a 128×64 screen's
// two-pixel modules are small for a decoder's finder search.
func upscale(img image.Image, k int) image.Image {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx()*k+16*k, b.Dy()*k+16*k))
	for i := range out.Pix {
		out.Pix[i] = 0xff
	}
	for y := range b.Dy() * k {
		for x := range b.Dx() * k {
			out.Set(8*k+x, 8*k+y, img.At(b.Min.X+x/k, b.Min.Y+y/k))
		}
	}
	return out
}

// oledRequest runs posd on a dev chain with a 128×64 OLED, makes a request
// for amount ETH on its operator socket and reads the QR code off the
// simulated screen as a phone would. It returns the chain, the payer API
// address, the request and what the QR says.
func oledRequest(t *testing.T, amount string) (*devchain.Chain, string, *request.Document, string) {
	t.Helper()
	node, dir, addr := startChainTerminal(t, oledBoard(anyPort))
	op := unixClient(filepath.Join(dir, "data", "posd.sock"))
	resp, err := op.Post("http://posd/v1/requests", "application/json", strings.NewReader(`{"amount":"`+amount+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	doc, err := request.ParseDocument(body)
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	sim := simPage(t, dir)
	var link string
	for deadline := time.Now().Add(20 * time.Second); link == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		link, _ = qrread.Read(upscale(screenPNG(t, sim), 4))
	}
	return node, addr, doc, link
}
