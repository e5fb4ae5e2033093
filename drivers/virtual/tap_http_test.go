package virtual_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"showpos/drivers/virtual"
)

// Another process taps by POSTing to /sim/tap: the terminal's WaitTap gets
// a tap answered by the phone the board's TapPhone made of the body.
func TestTapOverHTTP(t *testing.T) {
	b, err := virtual.New(&virtual.Opts{TapPhone: func(body []byte) (virtual.Phone, error) {
		if len(body) == 0 {
			return nil, errors.New("empty")
		}
		answer := append([]byte(nil), body...)
		return func(ctx context.Context, apdu []byte) ([]byte, error) {
			return append(answer, 0x90, 0x00), nil
		}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make(chan []byte, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tap, err := b.NFC().WaitTap(ctx)
		if err != nil {
			got <- nil
			return
		}
		r, _ := tap.Exchange(ctx, []byte{0x00, 0xA4})
		tap.Release()
		got <- r
	}()
	resp, err := http.Post(b.URL()+"sim/tap", "text/plain", bytes.NewReader([]byte("0xfeed")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("tap: %s", resp.Status)
	}
	if r := <-got; string(r) != "0xfeed\x90\x00" {
		t.Errorf("the terminal read %q", r)
	}
	resp, err = http.Post(b.URL()+"sim/tap", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("empty tap: %s", resp.Status)
	}
}
