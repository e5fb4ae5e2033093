package request

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
	return r.OptionURI(Option{ChainID: r.ChainID, Token: r.Asset.Token}, requestURL)
}
