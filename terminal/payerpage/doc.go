// Package payerpage serves the payer page: the web page a wallet's in-app
// browser opens at /pay/{id} (or /pay/ for the request on screen) to pay
// a request with any EIP-1193 wallet.
//
// The page is self-contained: its HTML, style and script are embedded here,
// with the pinned, vendored builds of @noble/secp256k1, @noble/ed25519 and
// five files of @noble/hashes (under assets/vendor, byte for byte as npm
// ships them; versions and licenses in assets/vendor/VENDOR.md, a test
// compares them with tools/js/node_modules). It loads nothing from
// anywhere but the terminal, and every answer carries a
// Content-Security-Policy that forbids anything else, so it works with the
// terminal cut off from the internet and no third party can put script on
// it.
//
// What the page promises the payer, all checked in the page's own script
// (the payer must not take the terminal's word for its own signature):
// it reads the request from the payer API, hashes its EIP-712 typed data
// and recovers the signer with secp256k1, and shows whether that is the
// request's signer; amount, asset, merchant address, memo and expiry it
// shows and pays are those of the signed message, never the unsigned JSON
// beside it, and so is the price in the shop's currency shown beside the
// amount ("= EUR 4.95 (tip EUR 0.45), at 2500.00 EUR per ETH") when the
// request carries one. Every text goes on the page as text (textContent), never as
// markup. The merchant's display name is not signed: the handler renders
// it, escaped, from the terminal's config, and the page says so.
//
// Paying: the wallet is found through EIP-6963 (announceProvider) or
// window.ethereum (EIP-1193), switched to the request's chain
// (wallet_switchEthereumChain), then asked to eth_signTransaction; the raw
// transaction goes to the payer API's broadcastTx, so a payment works with
// the terminal offline. A wallet without eth_signTransaction (most: the
// method is unsupported, 4200 or -32601) is asked to eth_sendTransaction
// instead and broadcasts itself; the terminal's chain watcher sees the
// transfer. The page then follows the payment (broadcastTx again, which
// answers the payment's state) or the request (getPaymentRequest) until
// PAID, or shows REJECTED with the terminal's code and message. A wallet
// prompt the payer declines (4001) is said plainly and Pay works again.
//
// Open in wallet app: a phone's camera opens the short link or the NFC
// tag's link in a plain browser, where no wallet is injected. The page
// then offers first (and otherwise last) a link whose href is the
// request's EIP-681 URI, which the phone hands to the wallet app that
// claims ethereum: (EIP-681 is the standard; no vendor's deep link is
// used). The URI is the document's uri, not signed, so the page takes it
// only when it is byte for byte the one the signed terms give (addresses
// in EIP-55 case, the req link query-escaped as the terminal does), as
// request.Document.Verify does; else it says so and offers no link. The
// link is navigation, not a fetch: the CSP, which lets nothing load from
// elsewhere, does not govern it (navigate-to never shipped; form-action
// is about forms). The wallet app sends the transfer itself, so it pays
// by a transaction, with gas, even for a token that takes authorizations
// (the page says so); the page then follows the request until the
// terminal's chain watcher sees the transfer.
//
// Several networks: a request payable on several (issue 18) signs every
// network it offers in its typed data (options: PaymentOption[], chain id
// and token, its own first) and serves each one's name, EIP-681 URI and
// x402 requirements beside it (the JSON's options). The page offers a
// button per signed network, named as served (unsigned: shown as text),
// its own chosen first; a network the JSON serves that the signature
// does not name is not offered. The choice is the network everything
// below pays on: the terms are the signed ones with that network's chain
// and token, Open in wallet app links that network's URI only when it is
// the one those terms give, Sign to pay uses that network's x402
// requirements only when they agree with them, and Pay switches the
// wallet to that chain and sends that token.
//
// Signing to pay: a request whose asset takes EIP-3009 authorizations
// carries x402 requirements, which the terminal does not sign. The page
// offers "Sign to pay (no gas)" first only when they agree with the signed
// request (scheme exact, network the signed chain, amount, token and
// merchant the signed ones, a token domain, a bounded maxTimeoutSeconds);
// else it says which term disagrees and offers the transaction alone. The
// wallet signs a TransferWithAuthorization built from the signed terms
// (eth_signTypedData_v4; validBefore now + maxTimeoutSeconds, a random
// 32-byte nonce); the page recovers the signature over what it built, and
// hands the terminal an x402 v2 PaymentPayload through broadcastTx.
package payerpage
