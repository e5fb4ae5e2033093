package request

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// MaxOptions bounds the networks one request may be paid on: every option
// adds a URI and a set of x402 requirements to the document, and the
// signed typed data grows with them.
const MaxOptions = 8

// Option is one network a request may be paid on: the request's asset (the
// same symbol, decimals and amount) as it exists on that chain. A request
// is always payable on its own ChainID and Asset.Token (its primary
// option); Request.Also names the others.
//
// ChainID and Token are signed: a multi-network request's typed data
// carries every option, primary first, as options: PaymentOption[] with
// PaymentOption(uint256 chainId, address token). Network, the name the
// terminal's config gives the chain ("base"), is for display only and is
// not signed: a payer's wallet names a chain by its id.
type Option struct {
	Network string
	ChainID uint64
	Token   common.Address // zero: the chain's native coin
}

// Offer is one option as a document serves it: with its EIP-681 URI (the
// QR code a payer's wallet scans for that network) and, where the asset
// takes EIP-3009 authorizations, its x402 requirements. URI is derived
// from signed fields and checked by Verify; X402, like Document.X402, is
// the terminal's, filled in by the till.
type Offer struct {
	Option
	URI  string
	X402 *PaymentRequirements
}

// Options returns every option r may be paid on, its primary one first
// (ChainID, Asset.Token, named Network), then Also in order.
func (r *Request) Options() []Option {
	out := make([]Option, 0, 1+len(r.Also))
	out = append(out, Option{Network: r.Network, ChainID: r.ChainID, Token: r.Asset.Token})
	return append(out, r.Also...)
}

// Option returns the option of r on chain id, if r offers it.
func (r *Request) Option(chainID uint64) (Option, bool) {
	for _, o := range r.Options() {
		if o.ChainID == chainID {
			return o, true
		}
	}
	return Option{}, false
}

// MaxNetworkNameLength bounds a network's name in bytes: it is shown to a
// payer ("USDC on arbitrum"), so it is display text, short.
const MaxNetworkNameLength = 32

// multi reports whether r may be paid on more than one network, and so is
// signed with the options field (see types).
func (r *Request) multi() bool { return len(r.Also) > 0 }

// validateOptions checks r's networks: at most MaxOptions in all, every
// chain id 1 to MaxChainID and none twice (the primary's included), every
// name short display text. The primary's chain id is Validate's.
func (r *Request) validateOptions() error {
	if n := 1 + len(r.Also); n > MaxOptions {
		return fmt.Errorf("%w: %d networks, at most %d", ErrOptions, n, MaxOptions)
	}
	if err := checkText(r.Network, MaxNetworkNameLength); err != nil {
		return fmt.Errorf("%w: network name %q: %w", ErrOptions, clip(r.Network), err)
	}
	for i, o := range r.Also {
		if o.ChainID == 0 || o.ChainID > MaxChainID {
			return fmt.Errorf("%w: option %d (%s): chain id %d, want 1 to %d", ErrOptions, i+1, clip(o.Network), o.ChainID, uint64(MaxChainID))
		}
		if o.ChainID == r.ChainID {
			return fmt.Errorf("%w: option %d (%s): chain id %d is the request's own", ErrOptions, i+1, clip(o.Network), o.ChainID)
		}
		for _, p := range r.Also[:i] {
			if p.ChainID == o.ChainID {
				return fmt.Errorf("%w: option %d (%s): chain id %d offered twice", ErrOptions, i+1, clip(o.Network), o.ChainID)
			}
		}
		if err := checkText(o.Network, MaxNetworkNameLength); err != nil {
			return fmt.Errorf("%w: option %d: network name %q: %w", ErrOptions, i+1, clip(o.Network), err)
		}
	}
	return nil
}

// OptionURI returns the EIP-681 URI that pays r on option o: r's URI with
// o's chain id and token (o's zero token: the chain's native coin, paid to
// the merchant with value=). The amount, merchant and req are r's, so a
// wallet pays the same on every network. For r's primary option it is
// r.URI(requestURL).
func (r *Request) OptionURI(o Option, requestURL string) string {
	var b strings.Builder
	b.WriteString("ethereum:")
	amount := "0"
	if r.Amount != nil {
		amount = r.Amount.String()
	}
	chain := strconv.FormatUint(o.ChainID, 10)
	if o.Token == (common.Address{}) {
		b.WriteString(r.Merchant.Hex())
		b.WriteString("@" + chain)
		b.WriteString("?value=" + amount)
	} else {
		b.WriteString(o.Token.Hex())
		b.WriteString("@" + chain + "/transfer")
		b.WriteString("?address=" + r.Merchant.Hex())
		b.WriteString("&uint256=" + amount)
	}
	if requestURL != "" {
		b.WriteString("&req=" + url.QueryEscape(requestURL))
	}
	return b.String()
}

// offers returns the offers of a document of r served at requestURL: every
// option with its URI, X402 left to the till. A one-network request's one
// offer is unnamed, as its document is (see Document.Network).
func (r *Request) offers(requestURL string) []Offer {
	out := make([]Offer, 1+len(r.Also))
	for i := range out {
		o := r.option(i)
		out[i] = Offer{Option: o, URI: r.OptionURI(o, requestURL)}
	}
	return out
}

// option returns r's option i as its document names it (0: the primary,
// unnamed on a one-network request; then Also), without building the list
// Options returns.
func (r *Request) option(i int) Option {
	if i > 0 {
		return r.Also[i-1]
	}
	return Option{Network: r.documentNetwork(), ChainID: r.ChainID, Token: r.Asset.Token}
}

// cloneOptions copies os; an empty list is nil (no other network).
func cloneOptions(os []Option) []Option {
	if len(os) == 0 {
		return nil
	}
	return slices.Clone(os)
}

// optionTypeName is the EIP-712 type of one option; optionTypes are its
// fields, and optionField the field a multi-network request's
// PaymentRequest ends with.
const optionTypeName = "PaymentOption"

var (
	optionTypes = []apitypes.Type{{Name: "chainId", Type: "uint256"}, {Name: "token", Type: "address"}}
	optionField = apitypes.Type{Name: "options", Type: optionTypeName + "[]"}
)

// optionsMessage returns the value of the options field as TypedData
// writes it, and as a JSON decoder reads it back: a list of objects, every
// integer a decimal string and every address EIP-55.
func (r *Request) optionsMessage() []any {
	opts := r.Options()
	out := make([]any, len(opts))
	for i, o := range opts {
		out[i] = map[string]any{"chainId": strconv.FormatUint(o.ChainID, 10), "token": o.Token.Hex()}
	}
	return out
}

// isOptionsMessage reports whether v is exactly r.optionsMessage().
func (r *Request) isOptionsMessage(v any) bool {
	list, ok := v.([]any)
	opts := r.Options()
	if !ok || len(list) != len(opts) {
		return false
	}
	for i, o := range opts {
		m, ok := list[i].(map[string]any)
		if !ok || len(m) != 2 || !isString(m["chainId"], strconv.FormatUint(o.ChainID, 10)) || !isString(m["token"], o.Token.Hex()) {
			return false
		}
	}
	return true
}

// optionsShaped reports whether the options value of a document's typed
// data is a list of objects: what go-ethereum's encoder takes without
// panicking (it panics on a null element), checked before hashing a
// stranger's typed data.
func optionsShaped(v any) bool {
	list, ok := v.([]any)
	if !ok {
		return false
	}
	for _, e := range list {
		if _, ok := e.(map[string]any); !ok {
			return false
		}
	}
	return true
}
