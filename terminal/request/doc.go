// Package request makes the payment requests a showpos terminal shows, signs
// them so that a payer can tell they came from this terminal, and draws them
// as QR codes.
//
// A cashier keys 12.50; the terminal calls [New] with the merchant address,
// chain, asset, amount in base units, a memo and a time to live, and gets a
// [Request] with a random 128-bit id. [Sign] signs its EIP-712 typed data
// (https://eips.ethereum.org/EIPS/eip-712) with the terminal's own key
// (package termkey):
//
//	domain      {name: "showpos", version: "1", chainId}
//	PaymentRequest(string id, string terminalId, address merchant, address token,
//	               string asset, uint8 decimals, uint256 amount, string memo,
//	               uint64 createdAt, uint64 expiresAt)
//
// token is the zero address for the chain's native coin; createdAt and
// expiresAt are Unix seconds.
//
// A request with a tip or a price in the shop's currency ([Fiat]) is signed
// with seven more fields after expiresAt, all signed like the rest:
//
//	uint256 tip, string fiatCurrency, string fiatAmount, string fiatTip,
//	string rate, string rateSource, uint64 rateAt
//
// amount stays the total the payer pays in base units and tip is the part
// of it that is a tip; fiatAmount is the total in the currency ("4.95",
// exactly its minor digits) and fiatTip its tip part; rate is the price of
// one whole unit of the asset in the currency, written exactly
// (Answer / 10^Decimals of a Chainlink answer, every decimal kept); rateAt
// is the rate's time in Unix seconds. Without a fiat price the strings are
// empty and rateAt 0; without a tip, tip is 0. Validate ties them together:
// tip = fiat.ToBase(fiatTip) and fiat.ToBase(fiatAmount) ≤ amount <
// fiat.ToBase(fiatAmount) + [MaxFiatSlack] (the till's uniqueness tail),
// so a payer checks the conversion, rounded up by less than one base unit,
// from the signed data alone. A request without tip or fiat price is
// signed with the ten fields only, exactly as before prices existed.
//
// A request may be payable on several networks (USDC on Base and on
// Arbitrum, say): Request.Also lists the others, each an [Option] (chain
// id and the asset's token there; amount, symbol, decimals, merchant and
// memo are the request's on every network), at most [MaxOptions] in all,
// no chain twice. Such a request is signed with one more field after all
// the others, listing every option, its own chain id and token first:
//
//	PaymentOption[] options    with PaymentOption(uint256 chainId, address token)
//
// The domain's chainId stays the primary option's. A request on one
// network is signed without it, exactly as before networks existed. A
// network's name (Request.Network, Option.Network) is for display and not
// signed. The document lists every option as an [Offer] with its own
// EIP-681 URI ([Request.OptionURI]: the option's token on the option's
// chain), and Verify holds each to the signed options; the payer's wallet
// picks one, and the terminal takes one payment on any of them.
//
// The signature is 65 bytes r||s||v with v = 27
// or 28, exactly what a wallet's eth_signTypedData_v4 returns, so any EIP-712
// library checks it (the tests check it with ethers v6).
//
// [Request.URI] is the EIP-681 URI (https://eips.ethereum.org/EIPS/eip-681)
// the QR code carries, which any wallet can pay without knowing showpos:
//
//	ethereum:<merchant>@<chainId>?value=<wei>&req=<requestURL>
//	ethereum:<token>@<chainId>/transfer?address=<merchant>&uint256=<units>&req=<requestURL>
//
// req points payer apps that speak the showpos API at the signed request.
// [QR] draws the URI with a whole number of pixels per module.
//
// [Document] is what GET /api/showpos/getPaymentRequest serves: the fields,
// the URI, the typed data exactly as signed, the signature and the signer.
// The terminal makes its own with a [Signer] ([NewSigner] checks its key
// once), which signs and assembles in one go (one typed-data hash, the
// signer taken from the checked key);
// [NewDocument] assembles one from a signature made elsewhere and recovers
// the signer from it. Both make the same document. [ParseDocument] reads the
// JSON back strictly (a payer simulator, a test, the server);
// [Document.Verify] recomputes the EIP-712 digest, checks that typed data,
// fields, URI and display amount all say the same thing, and recovers the
// signer. A payer must still compare the signer with the terminal address it
// trusts.
//
// Rules New enforces (each refusal wraps its own sentinel error): the amount
// is above zero and fits a uint256; the time to live is 1 s to [MaxTTL]; the
// memo is at most [MaxMemoLength] bytes of UTF-8 without control or
// bidirectional-formatting characters (it is shown on the payer's phone, so
// it must display as what it says); the terminal id is 1 to
// [MaxTerminalIDLength] bytes of the same kind of text; the merchant is not
// the zero address; the chain id is 1 to 2^53-1 (so JavaScript reads it
// exactly); the asset passes asset.Asset.Validate; and the clock reads 2024
// or later, because a board without a real-time clock boots in 1970 and
// would sign requests that expired long ago. Times are UTC whole seconds.
//
// # Stored form
//
// The terminal keeps every request it makes in its store, and serves it from
// there for as long as it is payable. It stores the compact form
// ([Document.Compact]), not the JSON: a versioned binary value of about 260
// bytes (the JSON is about 1.9 KB) holding the fields, the 65-byte signature,
// the signer and the request and broadcast URLs, and nothing derivable. Its
// first byte is [CompactVersion] (0x01), [CompactPricedVersion] (0x02)
// for a request with a tip or fiat price, or [CompactNetworksVersion]
// (0x03) for a request on several networks (about 30 bytes a network
// more); the layout is in Compact's documentation. [ParseCompact] rebuilds the typed data, URI and display
// amount with the code that built them first, so the document read back is,
// in JSON, byte for byte the one first served. It reads strictly (one
// encoding per document; anything else wraps [ErrDocument], never a panic)
// and takes the stored signer as it is: it does no elliptic-curve work, the
// store being the terminal's own and checksummed. Builds before the compact
// form stored the JSON document itself, whose first byte is '{';
// [ParseStored] reads either form, so requests pending across an upgrade stay
// servable and payable.
package request
