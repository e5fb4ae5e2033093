package asset

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
)

// MaxDecimals is the largest number of decimals an asset may declare: with
// 78 decimals not even one whole unit would fit in a uint256.
const MaxDecimals = 77

// MaxSymbolLength bounds an asset's symbol, in bytes.
const MaxSymbolLength = 32

// Asset is what a payment is made in.
type Asset struct {
	Symbol   string         // shown to people: "ETH", "TUSD"
	Decimals uint8          // 18 for ETH; an ERC-20's decimals()
	Token    common.Address // zero address: the chain's native coin
}

// Native reports whether a is the chain's native coin rather than a token.
func (a Asset) Native() bool {
	return a.Token == (common.Address{})
}

// String returns the symbol, with the token address for a token.
func (a Asset) String() string {
	if a.Native() {
		return a.Symbol
	}
	return a.Symbol + " (" + a.Token.Hex() + ")"
}

// Validate checks that a can be shown and signed: a symbol of 1 to
// MaxSymbolLength bytes of UTF-8 without spaces or control characters, and at
// most MaxDecimals decimals. It wraps ErrAsset.
func (a Asset) Validate() error {
	switch {
	case a.Symbol == "":
		return fmt.Errorf("%w: empty symbol", ErrAsset)
	case len(a.Symbol) > MaxSymbolLength:
		return fmt.Errorf("%w: symbol is %d bytes, at most %d", ErrAsset, len(a.Symbol), MaxSymbolLength)
	case !utf8.ValidString(a.Symbol):
		return fmt.Errorf("%w: symbol %q is not valid UTF-8", ErrAsset, a.Symbol)
	case a.Decimals > MaxDecimals:
		return fmt.Errorf("%w: %s has %d decimals, at most %d", ErrAsset, a.Symbol, a.Decimals, MaxDecimals)
	}
	for _, r := range a.Symbol {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("%w: symbol %q contains %U", ErrAsset, a.Symbol, r)
		}
	}
	return nil
}
