// Package configtest is the terminal config tests start from: one valid
// file (the dev chain's id, a merchant, ETH and the dev chain's first
// token contract as TUSD) and a way for each test to change what it needs
// of it, so a test shows only the values it depends on.
package configtest

import (
	"bytes"
	"testing"

	"github.com/BurntSushi/toml"

	"showpos/terminal/config"
)

// The fixture's values, for tests that compare against them.
const (
	ChainID  = 1337
	Merchant = "0x000000000000000000000000000000000000dEaD"
	Token    = "0x5FbDB2315678afecb367f032d93F642f64180aa3" // TUSD, 6 decimals: the dev chain's first contract
)

// TOML is the fixture file.
const TOML = `
[terminal]
id = "test-till"
[chain]
id = 1337
[merchant]
address = "0x000000000000000000000000000000000000dEaD"
[[assets]]
symbol = "ETH"
[[assets]]
symbol = "TUSD"
token = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
decimals = 6
`

// New returns the fixture with over (TOML) laid over it, parsed by
// config.Parse; it fails the test if either does not decode or the result
// is not a valid config. Tables merge key by key; an [[assets]] entry of
// over merges into the fixture's asset of the same symbol, or is added
// after them; any other value replaces the fixture's, so an inline array
// (assets = [{ symbol = "ETH" }]) replaces the fixture's assets.
func New(tb testing.TB, over string) *config.Config {
	tb.Helper()
	cfg, err := config.Parse([]byte(Text(tb, over)))
	if err != nil {
		tb.Fatalf("configtest: %v", err)
	}
	return cfg
}

// Text is New's file, for tests that write a config file or edit it.
func Text(tb testing.TB, over string) string {
	tb.Helper()
	var base, top map[string]any
	if _, err := toml.Decode(TOML, &base); err != nil {
		tb.Fatalf("configtest: fixture: %v", err)
	}
	if _, err := toml.Decode(over, &top); err != nil {
		tb.Fatalf("configtest: %v", err)
	}
	merge(base, top)
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(base); err != nil {
		tb.Fatalf("configtest: %v", err)
	}
	return buf.String()
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		switch v := v.(type) {
		case map[string]any:
			if d, ok := dst[k].(map[string]any); ok {
				merge(d, v)
				continue
			}
		case []map[string]any: // [[assets]] tables; an inline array is []any and replaces
			if d, ok := dst[k].([]map[string]any); ok && k == "assets" {
				dst[k] = mergeAssets(d, v)
				continue
			}
		}
		dst[k] = v
	}
}

func mergeAssets(dst, src []map[string]any) []map[string]any {
next:
	for _, a := range src {
		for _, d := range dst {
			if d["symbol"] == a["symbol"] {
				merge(d, a)
				continue next
			}
		}
		dst = append(dst, a)
	}
	return dst
}
