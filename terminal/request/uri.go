package request

import (
	"net/url"
	"strconv"
	"strings"
)

// URI returns the EIP-681 payment URI for r, the text of its QR code:
//
//	native coin: ethereum:<merchant>@<chainId>?value=<wei>&req=<requestURL>
//	ERC-20:      ethereum:<token>@<chainId>/transfer?address=<merchant>&uint256=<units>&req=<requestURL>
//
// Addresses are EIP-55 checksummed, amounts are plain integer digits in base
// units (never exponent form), and the chain id is always present. req carries
// the terminal's getPaymentRequest URL, query-escaped, for payer apps that
// speak the showpos API; standard EIP-681 parsers ignore it. An empty
// requestURL leaves req out.
func (r *Request) URI(requestURL string) string {
	var b strings.Builder
	b.WriteString("ethereum:")
	amount := "0"
	if r.Amount != nil {
		amount = r.Amount.String()
	}
	chain := strconv.FormatUint(r.ChainID, 10)
	if r.Asset.Native() {
		b.WriteString(r.Merchant.Hex())
		b.WriteString("@" + chain)
		b.WriteString("?value=" + amount)
	} else {
		b.WriteString(r.Asset.Token.Hex())
		b.WriteString("@" + chain + "/transfer")
		b.WriteString("?address=" + r.Merchant.Hex())
		b.WriteString("&uint256=" + amount)
	}
	if requestURL != "" {
		b.WriteString("&req=" + url.QueryEscape(requestURL))
	}
	return b.String()
}
