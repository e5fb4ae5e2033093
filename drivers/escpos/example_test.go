package escpos_test

import (
	"context"
	"errors"
	"fmt"

	"showpos/device"
	"showpos/drivers/escpos"
)

func Example() {
	// An 80 mm printer on its USB printer class device; a 58 mm one on a
	// UART would be escpos.OpenSerial("/dev/ttyS0", 19200, &escpos.Opts{Columns: 32}).
	p, err := escpos.OpenUSB("/dev/usb/lp0", &escpos.Opts{Columns: 48})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Halt()
	err = p.Print(context.Background(), device.PrintJob{Lines: []device.PrintLine{
		{Text: "Café Müller", Align: device.AlignCenter, Bold: true},
		{Rule: true},
		{Text: "Total", Right: "4,50 €"},
		{QR: "https://pos.example/r/7f3a9c"},
	}})
	switch {
	case errors.Is(err, device.ErrPaperOut), errors.Is(err, device.ErrCoverOpen):
		fmt.Println("ask the cashier to fix the printer, then print again")
	case errors.Is(err, device.ErrPrinterGone):
		fmt.Println("no printer answers")
	}
}

func ExampleLayout_Encode() {
	b, _ := escpos.Layout{Columns: 32, CodeTable: 19}.Encode(device.PrintJob{Lines: []device.PrintLine{
		{Text: "Total", Right: "4,50 €"},
	}})
	fmt.Printf("% x\n", b)
	// Output:
	// 1b 40 1b 74 13 54 6f 74 61 6c 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 34 2c 35 30 20 d5 0a 1d 56 42 00
}
