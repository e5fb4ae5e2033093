package virtual_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"strings"

	"showpos/device"
	"showpos/drivers/virtual"
)

func Example() {
	b, err := virtual.New(&virtual.Opts{Width: 128, Height: 64, Mono: true})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	// b.URL() is the page; b.ScannerPath() the scanner's serial port.
	// Here a payload arrives through the page's endpoint and a key as if
	// clicked.
	resp, err := http.Post(b.URL()+"sim/scan", "text/plain", strings.NewReader("0xabc\n"))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	b.Press(device.KeyEnter)

	ctx := context.Background()
	payload, _ := b.Scanner().ReadPayload(ctx)
	key, _ := b.Keypad().ReadKey(ctx)
	fmt.Println(string(payload), key, b.Display())
	// Output: 0xabc enter virtual display 128×64 mono
}

func ExampleBoard_Tap() {
	b, err := virtual.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()

	// The phone: answers SELECT with 90 00.
	go b.Tap(ctx, func(ctx context.Context, apdu []byte) ([]byte, error) {
		return []byte{0x90, 0x00}, nil
	})

	// The terminal.
	tap, err := b.NFC().WaitTap(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer tap.Release()
	resp, err := tap.Exchange(ctx, []byte{0x00, 0xA4, 0x04, 0x00, 0x06, 0xF0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x00})
	fmt.Printf("% X %v\n", resp, err)
	// Output: 90 00 <nil>
}
