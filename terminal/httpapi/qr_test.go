package httpapi_test

import (
	"context"
	"fmt"
	"image/png"
	"net/http"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"showpos/terminal/httpapi"
	"showpos/terminal/request"
)

// getQR fetches path from the payer API and reads the QR code in it.
func (tm *terminal) getQR(path string) (text string, side int) {
	tm.t.Helper()
	resp, err := http.Get(tm.srv.URL + path)
	if err != nil {
		tm.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		tm.t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	img, err := png.Decode(resp.Body)
	if err != nil {
		tm.t.Fatal(err)
	}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		tm.t.Fatalf("%s: %v", path, err)
	}
	return res.GetText(), img.Bounds().Dx()
}

// TestQRModuleSizeIsBounded: the module size is 1 to request.MaxModuleSize
// pixels; anything else (the old cap, 64, among them) is 400 bad_request
// before any paint, and the largest size is a readable code of exactly
// that many pixels a module.
func TestQRModuleSizeIsBounded(t *testing.T) {
	tm := newTerminal(t)
	doc, err := tm.till.NewRequest(context.Background(), "0.03", "TUSD", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, module := range []string{"0", "-1", fmt.Sprint(request.MaxModuleSize + 1), "64", "100000", "x"} {
		if a := tm.get(httpapi.QRPath + "?module=" + module); a.status != http.StatusBadRequest || a.code() != "bad_request" {
			t.Errorf("module=%s: %d %s, want 400 bad_request", module, a.status, a.code())
		}
	}
	text, side := tm.getQR(fmt.Sprintf("%s?module=%d", httpapi.QRPath, request.MaxModuleSize))
	if text != doc.URI {
		t.Errorf("QR reads %q, want %q", text, doc.URI)
	}
	if side%request.MaxModuleSize != 0 {
		t.Errorf("%d pixels wide: not a whole number of %d-pixel modules", side, request.MaxModuleSize)
	}
}

// TestQRServesEachRequestItsOwnPicture: pictures are kept for repeats,
// and yet the one on screen (no id) is always the current request's, and
// each id gets its own request's, however they were asked for before.
func TestQRServesEachRequestItsOwnPicture(t *testing.T) {
	tm := newTerminal(t)
	var docs []*request.Document
	for _, amount := range []string{"0.01", "0.02", "0.03"} {
		doc, err := tm.till.NewRequest(context.Background(), amount, "TUSD", "")
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc)
		for range 2 {
			if text, _ := tm.getQR(httpapi.QRPath + "?module=6"); text != doc.URI {
				t.Fatalf("on screen %s: QR reads %q, want %q", doc.ID, text, doc.URI)
			}
		}
	}
	for _, doc := range docs {
		if text, _ := tm.getQR(httpapi.QRPath + "?module=6&id=" + doc.ID); text != doc.URI {
			t.Errorf("id %s: QR reads %q, want %q", doc.ID, text, doc.URI)
		}
	}
}
