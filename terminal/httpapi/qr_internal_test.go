package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"showpos/terminal/request"
)

// pureQR tells the reader the picture is nothing but a QR code, as the
// API paints it: without the hint, gozxing's search for finder patterns
// misses some codes.
var pureQR = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}

// holdSlots takes every paint slot of p, as paints in progress would,
// until the test ends or the returned func is called.
func holdSlots(t *testing.T, p *qrPainter) (release func()) {
	for range cap(p.slots) {
		p.slots <- struct{}{}
	}
	done := false
	release = func() {
		if !done {
			done = true
			for range cap(p.slots) {
				<-p.slots
			}
		}
	}
	t.Cleanup(release)
	return release
}

func readQR(t *testing.T, b []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	res, err := qrcode.NewQRCodeReader().Decode(bmp, pureQR)
	if err != nil {
		t.Fatal(err)
	}
	return res.GetText()
}

// TestQRPainterRepeatCostsNoPaint: a picture asked for again is served
// while every paint slot is taken (so it was not painted again), and is
// the same PNG; a picture never painted waits for a slot and is refused
// errBusy when none frees in time.
func TestQRPainterRepeatCostsNoPaint(t *testing.T) {
	p := newQRPainter()
	p.wait = 50 * time.Millisecond
	first, err := p.png(context.Background(), "ethereum:0xA", 4)
	if err != nil {
		t.Fatal(err)
	}
	holdSlots(t, p)
	again, err := p.png(context.Background(), "ethereum:0xA", 4)
	if err != nil {
		t.Fatalf("a repeat with every slot taken: %v", err)
	}
	if !bytes.Equal(first, again) {
		t.Error("a repeat served another PNG")
	}
	for _, tc := range []struct {
		name    string
		content string
		module  int
	}{
		{"another size of the same content", "ethereum:0xA", 5},
		{"other content at the same size", "ethereum:0xB", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := p.png(context.Background(), tc.content, tc.module); !errors.Is(err, errBusy) {
				t.Errorf("with every slot taken: %v, want errBusy", err)
			}
		})
	}
}

// TestQRPainterKeepsEachPictureApart: after many pictures of different
// content and sizes (more than the cache holds), each served PNG reads
// as its own content at its own size.
func TestQRPainterKeepsEachPictureApart(t *testing.T) {
	p := newQRPainter()
	for round := range 2 {
		for i := range qrCacheEntries + 4 {
			content := fmt.Sprintf("ethereum:0x%04x@1337?value=%d", i, i)
			module := 1 + i%3
			b, err := p.png(context.Background(), content, module)
			if err != nil {
				t.Fatal(err)
			}
			if got := readQR(t, b); got != content {
				t.Fatalf("round %d: picture %d reads %q, want %q", round, i, got, content)
			}
			img, _ := png.Decode(bytes.NewReader(b))
			fresh, _ := request.QR(content, module)
			if side, want := img.Bounds().Dx(), fresh.Bounds().Dx(); side != want {
				t.Fatalf("round %d: picture %d is %d pixels wide, want %d", round, i, side, want)
			}
		}
	}
	if n := p.cache.Len(); n != qrCacheEntries {
		t.Errorf("cache holds %d pictures, want %d", n, qrCacheEntries)
	}
}

// TestQRBusyAnswer: a QR code that cannot get a paint slot in time is
// answered 503 busy with Retry-After, the stable code the README lists.
func TestQRBusyAnswer(t *testing.T) {
	p := newQRPainter()
	p.wait = 20 * time.Millisecond
	holdSlots(t, p)
	doc := &request.Document{URI: "ethereum:0xC"}
	w := httptest.NewRecorder()
	p.write(w, httptest.NewRequest("GET", "/api/showpos/qr.png?module=3", nil), nil,
		func(string) (*request.Document, error) { return doc, nil }, "")
	var body errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("%d %q: %v", w.Code, w.Body, err)
	}
	if w.Code != http.StatusServiceUnavailable || body.Error.Code != codeBusy || w.Header().Get("Retry-After") != "1" {
		t.Errorf("answer %d %q Retry-After %q, want 503 busy 1", w.Code, body.Error.Code, w.Header().Get("Retry-After"))
	}
}
