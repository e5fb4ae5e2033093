package request

import (
	"github.com/ethereum/go-ethereum/common"
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
