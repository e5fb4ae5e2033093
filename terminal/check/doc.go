// Package check decides, offline, whether a signed Ethereum transaction pays a
// payment request. It is the one place that decision is made: the HTTP API,
// the NFC reader and the scanner all hand their raw bytes to [Checker.Check].
//
// The check needs only the transaction's bytes, the request's [Terms] and the
// terminal's [Policy]; it holds no state and touches no network. In order it
// checks:
//
//  1. size: at most [MaxTxSize] bytes (geth's txpool limit);
//  2. decoding: strict canonical RLP, no trailing bytes;
//  3. type: EIP-155 legacy, EIP-2930 (0x01) or EIP-1559 (0x02); blob (0x03),
//     set-code (0x04), unprotected legacy and unknown types are refused by name;
//  4. chain id, before the signature is recovered;
//  5. sender: the signature must recover (low-s, valid v, r, s);
//  6. recipient, value, data: a native payment goes straight to the merchant
//     with no data; an ERC-20 payment goes to the token contract with value 0
//     and calldata that is exactly transfer(merchant, amount);
//  7. gas: at least the transaction's intrinsic gas (including the EIP-7623
//     calldata floor) and the configured minimum, and at most the network's
//     per-transaction cap (EIP-7825: 2^24, go-ethereum's params.MaxTxGas),
//     above which geth refuses the transaction;
//  8. fees: maxPriorityFeePerGas <= maxFeePerGas, and maxFeePerGas (gasPrice
//     for legacy and 0x01) at least the configured floor;
//  9. the per-payment limit for the asset.
//
// The first failing step decides the answer, a [*Refusal] carrying a stable
// [Code]. The stateful checks (request status, tx hash reuse, sender+nonce
// conflicts, unsettled exposure) are the store's job; their codes are declared
// here too so that the whole refusal vocabulary lives in one file (codes.go),
// and the till (terminal/checkout) turns the store's errors into them.
//
// What an offline check cannot know: whether the sender has the funds, whether
// the nonce is current, whether the token contract will let the transfer
// through. Note also that a tampered signature usually still recovers — to
// some other, unfunded, address; only a signature that recovers nothing is
// refused as bad_signature. Those risks are what the store's exposure limits
// are for.
//
// The same package checks the other way to pay a token request: an EIP-3009
// transferWithAuthorization the payer signed as EIP-712 typed data, in an
// x402 "exact" payment payload (v1 or v2). [ParsePaymentPayload] reads the
// payload strictly and [Checker.CheckAuthorization] decides it, offline
// too: the network and the accepted asset, the signature over the token's
// domain, the recipient, the amount, the validity window against a settle
// window ([Policy.SettleWindow]) and the per-payment limit; its doc lists
// the order. That (token, from, nonce) is new is the store's rule
// (authorization_reused), and again only the chain knows whether the payer
// still holds the funds when the terminal settles.
package check
