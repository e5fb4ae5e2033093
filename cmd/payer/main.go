// Command payer plays a payer's phone against a showpos terminal: it reads
// the payment request the terminal shows (from the payer API, or by decoding
// the QR code in a PNG), checks the terminal's EIP-712 signature, signs a
// payment with a dev-chain payer key and hands it back over HTTP or through
// the terminal's QR scanner port.
//
//	payer [-terminal http://127.0.0.1:8080] [-id ID] [-payer N | -key 0xHEX]
//	      [-via http|scanner|nfc|chain|authorization] [-scanner /dev/pts/N] [-nonce auto|N]
//	      [-rpc http://127.0.0.1:8545] [-network NAME|CHAINID] [-qr screen.png | -from-screen http://127.0.0.1:8081/sim/screen.png]
//	      [-wrong underpaid|overpaid|wrong-chain|reused|wrong-recipient|expired-fee]
//	      [-signer 0xTERMINAL] [-fleet-key HEX] [-type legacy|2930|1559] [-fee-cap-gwei 50] [-tip-gwei 1]
//	      [-state DIR] [-json]
//
// The payer refuses to pay (exit 1) when the document does not verify, when
// -signer is given and another key signed it, when the QR code's URI is not
// the document's, or when the request is expired or no longer pending. A
// request carrying a terminal certificate (the fleet's signature over the
// terminal id, its signer, the merchant and an expiry; terminal/fleet) is
// checked: against -fleet-key when given, which then requires one, else
// against the key it names (whole, but not pinned); one that does not check
// is refused.
//
// Networks: a request signed for several networks is paid on the one
// -network names (the terminal's name for it, or its chain id), else on
// the network of the QR code read (the terminal's keypad switches it),
// else on the request's own. The chosen option is rebuilt from the signed
// options (chain id and token; its URI from the signed terms, refused if
// the document serves another), and -rpc must be that chain's: -nonce auto
// and -via chain check its chain id. A network the request is not signed
// for is refused, naming those it is.
//
// Nonces: -nonce auto asks -rpc for the payer's pending nonce; when the
// chain cannot be reached (an offline demo) it uses a counter kept per payer
// address in DIR/<address>.json, where DIR is -state, by default
// os.UserCacheDir()/showpos-payer (~/.cache/showpos-payer on Linux). The
// same file remembers the last payment handed over, which -wrong reused
// sends again. Delete the file after restarting the dev chain offline.
//
// -wrong builds a payment the terminal must refuse and sends it over HTTP:
// underpaid (one base unit short), overpaid (one more), wrong-chain (signed
// for chain id + 1), reused (the last payment again, for this request:
// create a request of the same amount), wrong-recipient (paid to the payer
// itself), expired-fee (fee cap and tip of 0 wei, under any fee floor).
// It exits 0 when the terminal refuses with the matching code (underpaid,
// overpaid, wrong_chain, tx_reused, wrong_recipient, fee_too_low) and 1
// otherwise, so scripts can assert refusals.
//
// -via authorization pays a request whose asset takes EIP-3009
// authorizations (its JSON carries "x402" requirements): it signs a
// transferWithAuthorization over the token's advertised EIP-712 domain as
// an x402 client does (validAfter 0, validBefore now + maxTimeoutSeconds, a
// random nonce; no gas, no chain nonce) and posts {"requestId","payment":
// <x402 v2 PaymentPayload>}. Its -wrong variants: underpaid, overpaid,
// wrong-chain (network eip155:<id+1>), wrong-recipient, reused (the last
// authorization's nonce again), expires-soon (valid for 300 s) and
// bad-signature; the codes they must draw are underpaid, overpaid,
// wrong_chain, wrong_recipient, authorization_reused,
// authorization_expires_too_soon and bad_authorization.
//
// Exit status: 0 done (or refused as expected), 1 refused or failed, 2 usage.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// usageError is a bad command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }
