// Package receipt makes the terminal's receipts: what it knows of a payment
// request and the payment that paid it, signed by the terminal key so a
// payer or an auditor can check it, served at GET /receipt/{id}
// (terminal/httpapi) and laid out for a receipt printer ([Job]).
//
// A [Receipt] holds the merchant's name and account, the terminal id, the
// time, the asset amount (with the shop-currency amount, rate and tip when
// the request has them), the state, the payment's identity and the request
// id. Its state is one of:
//
//	paid      the payment is on chain (confirmed or final)
//	accepted  accepted and stored; it will settle (queued, broadcast, seen)
//	rejected  refused, or failed after acceptance; Reason says why
//	unpaid    the terminal holds no payment for the request (served only)
//
// The payment is named by its transaction hash (a signed transaction handed
// over, or a transfer the chain watcher saw), or, for an EIP-3009
// authorization, by the authorization's identity: payer (from) and nonce
// on the token, with the relayer's settling transaction as the hash once
// it is known.
//
// # Signature
//
// [Sign] signs the receipt's EIP-712 typed data
// (https://eips.ethereum.org/EIPS/eip-712) with the terminal key, the same
// key and domain as its payment requests (package request):
//
//	domain   {name: "showpos", version: "1", chainId}
//	Receipt(string requestId, string terminalId, string merchantName,
//	        address merchant, string state, string reason, uint64 time,
//	        string asset, address token, uint8 decimals, uint256 amount,
//	        uint256 tip, string fiatAmount, string currency, string rate,
//	        string memo, string method, bytes32 txHash, address from,
//	        bytes32 authNonce)
//
// The primary type keeps receipts and requests apart: a signature over one
// never verifies as the other, since EIP-712 hashes the type's name and
// fields into every digest. time is Unix seconds (when the payment was
// accepted; for an unpaid request, when it was made); method is handover,
// chain, authorization or "" (no payment); tip is in base units of the
// asset and is part of amount; fiatAmount and rate are decimal strings,
// "" with currency "" when the request was keyed in the asset. Zero
// hashes and addresses stand for "none". The signature is 65 bytes r||s||v
// with v = 27 or 28, what eth_signTypedData_v4 returns: ethers'
// verifyTypedData(domain, types, message, signature) gives the terminal's
// address (the tests check it so). The payer compares that address with
// the terminal's, which every signed payment request names as its signer.
//
// Signing is deterministic (RFC 6979): a receipt rebuilt from the same
// stored request and payment, under the same merchant name, has the same
// signature, so nothing is stored for receipts. A receipt for a REJECTED
// result with no payment carries the reason the cashier was shown; the
// terminal keeps no refusals, so the same link served later says what it
// holds: unpaid, with the request's status (pending, expired, cancelled)
// as the reason.
package receipt
