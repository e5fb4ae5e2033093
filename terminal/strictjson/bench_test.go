package strictjson

import (
	"encoding/json"
	"strings"
	"testing"
)

// payerBody is the shape and size of a broadcastTx body: a request id and
// a signed EIP-1559 ERC-20 transfer (about 110 bytes, 220 hex digits).
type payerBody struct {
	RequestID string `json:"requestId"`
	RawTx     string `json:"rawTx"`
}

var payerJSON = []byte(`{"requestId":"r_7f3a9c2e4b1d8f60a5e3c7b9d2f1e4a8","rawTx":"0x` + strings.Repeat("02f86b", 37) + `"}`)

// The payer API's accept path decodes one such body per payment; its
// budget is microseconds (README "Performance", row 1: ~1.45 ms p50 for
// the whole accept). BenchmarkUnmarshalPayerBody is the peer: encoding/json
// alone, with none of the checks.
func BenchmarkDecodePayerBody(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var v payerBody
		if err := Decode(payerJSON, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalPayerBody(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var v payerBody
		if err := json.Unmarshal(payerJSON, &v); err != nil {
			b.Fatal(err)
		}
	}
}

// A document with every shape of the test type, as a bundle payload is.
var docJSON = []byte(cases[0].in)

func BenchmarkDecodeDocument(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var v doc
		if err := Decode(docJSON, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalDocument(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var v doc
		if err := json.Unmarshal(docJSON, &v); err != nil {
			b.Fatal(err)
		}
	}
}

// The worst body the payer API takes (260 KiB): an array where the request
// id belongs. Decode refuses it at the array's first token (walked to its
// end, it cost about 0.4 s); encoding/json scans it all first.
var hostileJSON = []byte(`{"requestId":[` + strings.Repeat("1,", 130<<10) + `1],"rawTx":"0x"}`)

func BenchmarkDecodeHostilePayerBody(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var v payerBody
		if err := Decode(hostileJSON, &v); err == nil {
			b.Fatal("taken")
		}
	}
}

func BenchmarkUnmarshalHostilePayerBody(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var v payerBody
		if err := json.Unmarshal(hostileJSON, &v); err == nil {
			b.Fatal("taken")
		}
	}
}
