package screen_test

import (
	"fmt"
	"time"

	"showpos/terminal/screen"
)

func Example() {
	r, err := screen.New(screen.Size{W: 128, H: 64, Mono: true})
	if err != nil {
		panic(err)
	}
	img := r.Request(screen.Request{
		URI:       "ethereum:0x70997970C51812dc3A010C7d01b50e0d17dc79C8@31337?value=10000000000000000&req=http%3A%2F%2F10.0.0.5%3A8080%2Fapi%2Fshowpos%2FgetPaymentRequest%3Fid%3D00112233445566778899aabbccddeeff",
		ShortURI:  "HTTP://10.0.0.5:8080/R/008J4CT4",
		Amount:    "0.01",
		Asset:     "ETH",
		Remaining: 5 * time.Minute,
	})
	// display.Draw(display.Bounds(), img, image.Point{})
	fmt.Println(img.Bounds())
	// Output: (0,0)-(128,64)
}
