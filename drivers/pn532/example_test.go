package pn532_test

import (
	"context"
	"fmt"

	"showpos/device"
	"showpos/drivers/pn532"
	"showpos/terminal/nfcpay"
)

// The board's main opens the reader on its UART; the terminal waits for a
// phone and runs one payment tap.
func Example() {
	dev, err := pn532.New("/dev/ttyS1", &pn532.DefaultOpts)
	if err != nil {
		fmt.Println(err) // names the port: wiring, HSU mode, baud rate
		return
	}
	defer dev.Halt()

	var reader device.NFCReader = dev
	tap, err := reader.WaitTap(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), device.DefaultTapTimeout)
	defer cancel()
	tx, err := nfcpay.Pay(ctx, tap, []byte(`{"request":"…"}`)) // releases the tap
	fmt.Println(len(tx), err)
}
