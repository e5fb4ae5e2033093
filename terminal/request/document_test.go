package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func TestDocumentJSONGolden(t *testing.T) {
	for _, tc := range []struct {
		file   string
		native bool
	}{{"document-erc20.json", false}, {"document-native.json", true}} {
		t.Run(tc.file, func(t *testing.T) {
			p := goodParams()
			if tc.native {
				p.Asset = eth()
				p.Amount = bigString("10000000000000000")
			}
			d := mustDocument(t, mustNew(t, p))
			d.Status = "pending"
			got, err := json.MarshalIndent(d, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("document JSON changed; the payer API's format is stable. Got:\n%s", got)
			}
		})
	}
}

func TestDocumentJSONShape(t *testing.T) {
	for name, native := range map[string]bool{"ERC-20": false, "native": true} {
		t.Run(name, func(t *testing.T) {
			p := goodParams()
			if native {
				p.Asset = eth()
			}
			b, err := json.Marshal(mustDocument(t, mustNew(t, p)))
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"id", "terminalId", "merchant", "chainId", "asset", "amount", "amountDisplay", "memo",
				"createdAt", "expiresAt", "uri", "requestUrl", "broadcastUrl", "typedData", "signature", "signer"} {
				if _, ok := m[k]; !ok {
					t.Errorf("key %q missing", k)
				}
			}
			for _, k := range []string{"status", "paidTx"} {
				if _, ok := m[k]; ok {
					t.Errorf("empty %q not omitted", k)
				}
			}
			if _, ok := m["asset"].(map[string]any)["token"]; ok == native {
				t.Errorf("asset.token present = %v for native = %v", ok, native)
			}
			if _, ok := m["amount"].(string); !ok {
				t.Errorf("amount is %T, want a decimal string", m["amount"])
			}
			if sig, _ := m["signature"].(string); len(sig) != 132 || !strings.HasPrefix(sig, "0x") {
				t.Errorf("signature %q is not 0x and 130 hex digits", sig)
			}
			td := m["typedData"].(map[string]any)
			if keys := sortedKeys(td["domain"].(map[string]any)); !reflect.DeepEqual(keys, []string{"chainId", "name", "version"}) {
				t.Errorf("typedData.domain keys = %v, want chainId, name, version", keys)
			}
		})
	}
}

func sortedKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

func TestParseDocumentRoundTrip(t *testing.T) {
	d := mustDocument(t, mustNew(t, goodParams()))
	d.Status, d.PaidTx = "paid", "0x"+strings.Repeat("ab", 32)
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseDocument(b)
	if err != nil {
		t.Fatalf("ParseDocument: %v", err)
	}
	again, err := json.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, again) {
		t.Errorf("JSON changed over a round trip:\n%s\n%s", b, again)
	}
	if addr, err := back.Verify(); err != nil || addr.Hex() != testSigner {
		t.Errorf("parsed document Verify = %s, %v; want %s", addr.Hex(), err, testSigner)
	}
}

// edit marshals a good document, lets f change its JSON as a map, and
// returns the new JSON.
func edit(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	b, err := json.Marshal(mustDocument(t, mustNew(t, goodParams())))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseDocumentRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  func(t *testing.T) []byte
		err  error
	}{
		{"too large", func(t *testing.T) []byte { return bytes.Repeat([]byte(" "), MaxDocumentSize+1) }, ErrTooLarge},
		{"empty", func(t *testing.T) []byte { return nil }, ErrDocument},
		{"not an object", func(t *testing.T) []byte { return []byte(`[1,2]`) }, ErrDocument},
		{"trailing data", func(t *testing.T) []byte { return append(edit(t, func(map[string]any) {}), []byte(` {}`)...) }, ErrDocument},
		{"unknown field", func(t *testing.T) []byte { return edit(t, func(m map[string]any) { m["tips"] = "1" }) }, ErrDocument},
		{"unknown asset field", func(t *testing.T) []byte {
			return edit(t, func(m map[string]any) { m["asset"].(map[string]any)["name"] = "x" })
		}, ErrDocument},
		{"unknown domain field", func(t *testing.T) []byte {
			return edit(t, func(m map[string]any) { m["typedData"].(map[string]any)["domain"].(map[string]any)["foo"] = "x" })
		}, ErrDocument},
		{"wrong checksum", func(t *testing.T) []byte {
			return edit(t, func(m map[string]any) { m["merchant"] = strings.Replace(testMerchant, "C", "c", 1) })
		}, ErrDocument},
		{"short address", func(t *testing.T) []byte { return edit(t, func(m map[string]any) { m["signer"] = "0x1234" }) }, ErrDocument},
		{"zero token", func(t *testing.T) []byte {
			return edit(t, func(m map[string]any) {
				m["asset"].(map[string]any)["token"] = "0x0000000000000000000000000000000000000000"
			})
		}, ErrDocument},
		{"amount as number", func(t *testing.T) []byte { return edit(t, func(m map[string]any) { m["amount"] = 12500000 }) }, ErrDocument},
		{"amount with leading zero", func(t *testing.T) []byte { return edit(t, func(m map[string]any) { m["amount"] = "012500000" }) }, ErrDocument},
		{"amount in exponent form", func(t *testing.T) []byte { return edit(t, func(m map[string]any) { m["amount"] = "1.25e7" }) }, ErrDocument},
		{"amount beyond uint256", func(t *testing.T) []byte {
			return edit(t, func(m map[string]any) {
				m["amount"] = "115792089237316195423570985008687907853269984665640564039457584007913129639936"
			})
		}, ErrDocument},
		{"time with offset", func(t *testing.T) []byte {
			return edit(t, func(m map[string]any) { m["createdAt"] = "2025-03-14T16:09:26+01:00" })
		}, ErrDocument},
		{"time with fraction", func(t *testing.T) []byte {
			return edit(t, func(m map[string]any) { m["expiresAt"] = "2025-03-14T15:14:26.5Z" })
		}, ErrDocument},
		{"signature without 0x", func(t *testing.T) []byte {
			return edit(t, func(m map[string]any) { m["signature"] = strings.TrimPrefix(m["signature"].(string), "0x") })
		}, ErrDocument},
		{"negative chain id", func(t *testing.T) []byte { return edit(t, func(m map[string]any) { m["chainId"] = -1 }) }, ErrDocument},
		{"memo with control character", func(t *testing.T) []byte { return edit(t, func(m map[string]any) { m["memo"] = "a\u0007" }) }, ErrMemo},
		{"zero amount", func(t *testing.T) []byte { return edit(t, func(m map[string]any) { m["amount"] = "0" }) }, ErrAmount},
		{"relative broadcast URL", func(t *testing.T) []byte {
			return edit(t, func(m map[string]any) { m["broadcastUrl"] = "/api/showpos/broadcastTx" })
		}, ErrURL},
		{"javascript request URL", func(t *testing.T) []byte {
			return edit(t, func(m map[string]any) { m["requestUrl"] = "javascript:alert(1)" })
		}, ErrURL},
		{"status with markup", func(t *testing.T) []byte { return edit(t, func(m map[string]any) { m["status"] = "<b>paid</b>" }) }, ErrDocument},
		{"short paidTx", func(t *testing.T) []byte { return edit(t, func(m map[string]any) { m["paidTx"] = "0x1234" }) }, ErrDocument},
		{"bad id", func(t *testing.T) []byte { return edit(t, func(m map[string]any) { m["id"] = "../../etc/passwd" }) }, ErrID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDocument(tc.doc(t))
			if !errors.Is(err, tc.err) {
				t.Fatalf("ParseDocument = %v, want %v", err, tc.err)
			}
			if d != nil {
				t.Error("ParseDocument returned a document with its error")
			}
		})
	}
}

func FuzzParseDocument(f *testing.F) {
	for _, file := range []string{"document-erc20.json", "document-native.json", "document-networks.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"typedData":{"types":{"A":[{"name":"a","type":"A"}]},"primaryType":"A","message":{"a":{}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDocument(b)
		if err != nil {
			return
		}
		// Whatever parses re-encodes and parses to the same thing, and
		// Verify never panics on it.
		again, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("Marshal of a parsed document: %v", err)
		}
		d2, err := ParseDocument(again)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, again)
		}
		if _, err1 := d.Verify(); err1 != nil {
			if _, err2 := d2.Verify(); err2 == nil {
				t.Fatalf("Verify differs over a round trip: %v", err1)
			}
		}
	})
}
