package fleet_test

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"showpos/terminal/fleet"
)

// A fleet manager signs a bundle; a terminal pinning the public key opens it.
func Example() {
	pub, priv, _ := ed25519.GenerateKey(nil)
	issued := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	raw, err := fleet.Sign(priv, fleet.Payload{
		Version: 3,
		Issued:  issued,
		Expires: issued.Add(7 * 24 * time.Hour),
		Targets: fleet.Targets{Groups: []string{"cafes"}},
		Config:  "[texts]\nwelcome = \"Tap to pay\"\n",
	})
	if err != nil {
		panic(err)
	}
	p, err := fleet.Open(raw, pub)
	fmt.Println(p.Version, p.Targets.Groups, p.Expires.Format(time.RFC3339), err)

	_, other, _ := ed25519.GenerateKey(nil)
	forged, _ := fleet.Sign(other, p)
	_, err = fleet.Open(forged, pub)
	fmt.Println(err)
	// Output:
	// 3 [cafes] 2025-03-08T12:00:00Z <nil>
	// bad_bundle_signature: signature does not verify with the pinned fleet key
}
