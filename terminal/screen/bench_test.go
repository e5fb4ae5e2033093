package screen

import (
	"fmt"
	"strconv"
	"testing"
)

// BenchmarkRequest draws a request screen for a new request each time: the
// QR code is encoded, laid out and drawn.
func BenchmarkRequest(b *testing.B) {
	for _, s := range sizes {
		b.Run(fmt.Sprintf("%dx%d", s.W, s.H), func(b *testing.B) {
			r := mustNew(b, s)
			v := erc20Request
			i := 0
			for b.Loop() {
				i++
				id := strconv.Itoa(i)
				v.URI, v.ShortURI = erc20URI+id, erc20Short+id // defeat the QR cache
				r.Request(v)
			}
		})
	}
}

// BenchmarkRequestTick redraws the same request, as the countdown does
// every second: the QR code comes from the cache.
func BenchmarkRequestTick(b *testing.B) {
	for _, s := range sizes {
		b.Run(fmt.Sprintf("%dx%d", s.W, s.H), func(b *testing.B) {
			r := mustNew(b, s)
			for b.Loop() {
				r.Request(erc20Request)
			}
		})
	}
}
