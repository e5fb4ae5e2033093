package auth_test

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"showpos/terminal/auth"
)

// The worked example of doc.go: a register creating a payment request.
func Example() {
	secret := []byte("example-service-key-0123456789ab")
	body := []byte(`{"asset":"ETH","amount":"1000000000000000"}`)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	nonce := "Zq3v9Xc1Lr7sTm2P"

	req, _ := http.NewRequest("POST", "http://pos.local:8080/v1/requests?ref=till-4&dry_run=1", bytes.NewReader(body))
	auth.Sign(req, body, "sn_00a1b2c3d4e5f607", secret, now, nonce)

	fmt.Printf("%q\n", auth.StringToSign("POST", "/v1/requests?ref=till-4&dry_run=1", now.Unix(), nonce, body))
	for _, h := range []string{auth.HeaderClient, auth.HeaderTimestamp, auth.HeaderNonce, auth.HeaderSignature} {
		fmt.Printf("%s: %s\n", h, req.Header.Get(h))
	}
	// Output:
	// "POST\n/v1/requests?ref=till-4&dry_run=1\n1740830400\nZq3v9Xc1Lr7sTm2P\nd1a3dd2347ed84a2c209e90fbdd19751fe0a2decc6b054ae728cff1d70164a9b"
	// X-Showpos-Client: sn_00a1b2c3d4e5f607
	// X-Showpos-Timestamp: 1740830400
	// X-Showpos-Nonce: Zq3v9Xc1Lr7sTm2P
	// X-Showpos-Signature: d3d16f2ef5d70f687d45d0fe959172c3f3440933e045d4225527a8f17e0a5499
}
