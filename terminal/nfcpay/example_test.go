package nfcpay_test

import (
	"context"
	"fmt"

	"showpos/device"
	"showpos/terminal/nfcpay"
)

// phoneInField is a device.Tap with a simulated phone at the other end; a
// real one comes from an NFC reader's WaitTap.
type phoneInField struct{ phone *nfcpay.Phone }

func (p phoneInField) ID() []byte { return []byte{0x08, 0x5A, 0x11, 0x3C} }
func (p phoneInField) Exchange(_ context.Context, apdu []byte) ([]byte, error) {
	return p.phone.Respond(apdu), nil
}
func (p phoneInField) Release() error { return nil }

func ExamplePay() {
	phone := &nfcpay.Phone{Sign: func(req []byte) ([]byte, error) {
		return []byte("signed tx for " + string(req)), nil // a wallet signs here
	}}
	var tap device.Tap = phoneInField{phone}

	ctx, cancel := context.WithTimeout(context.Background(), device.DefaultTapTimeout)
	defer cancel()
	tx, err := nfcpay.Pay(ctx, tap, []byte(`{"amount":"0.01"}`))
	fmt.Printf("%s %v\n", tx, err)
	// Output: signed tx for {"amount":"0.01"} <nil>
}
