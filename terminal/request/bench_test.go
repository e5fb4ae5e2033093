package request

import (
	"encoding/json"
	"testing"
)

// BenchmarkSignedStoredRequest is the request-building part of the till's
// NewRequest: make a request, sign it, make its document, encode what is
// stored. "Sign+NewDocument+JSON" is how the till did it before the compact
// form (the typed data hashed twice, the signer recovered, the whole JSON
// document stored); "Signer.Document+Compact" is how it does it now. stored-B
// is the size of the stored value.
func BenchmarkSignedStoredRequest(b *testing.B) {
	key := testKey(b)
	signer := mustSigner(b, key)
	p := goodParams()
	for _, bc := range []struct {
		name  string
		build func(r *Request, reqURL string) ([]byte, error)
	}{
		{"Sign+NewDocument+JSON", func(r *Request, reqURL string) ([]byte, error) {
			sig, err := Sign(r, key)
			if err != nil {
				return nil, err
			}
			d, err := NewDocument(r, sig, reqURL, testBcastURL)
			if err != nil {
				return nil, err
			}
			return json.Marshal(d)
		}},
		{"Signer.Document+Compact", func(r *Request, reqURL string) ([]byte, error) {
			d, err := signer.Document(r, reqURL, testBcastURL)
			if err != nil {
				return nil, err
			}
			return d.Compact()
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var stored []byte
			b.ReportAllocs()
			for b.Loop() {
				r, err := New(p, nil)
				if err != nil {
					b.Fatal(err)
				}
				if stored, err = bc.build(r, testPublicURL+"/api/showpos/getPaymentRequest?id="+r.ID); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(stored)), "stored-B")
		})
	}
}

// testPublicURL is the till's public URL in benchmarks.
const testPublicURL = "http://127.0.0.1:8080"

// BenchmarkParseStored reads a stored request back, as the till does to
// serve it or to judge a payment after a restart: the full JSON document
// that earlier builds stored, and the compact form.
func BenchmarkParseStored(b *testing.B) {
	d, err := mustSigner(b, testKey(b)).Document(mustNew(b, goodParams()), testReqURL, testBcastURL)
	if err != nil {
		b.Fatal(err)
	}
	full, err := json.Marshal(d)
	if err != nil {
		b.Fatal(err)
	}
	compact, err := d.Compact()
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		stored []byte
	}{{"JSON", full}, {"compact", compact}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseStored(bc.stored); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
