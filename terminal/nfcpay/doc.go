// Package nfcpay is the showpos tap protocol: how the terminal hands a
// payment request to a phone held to its NFC reader and takes back the
// payer's signed Ethereum transaction. Pay is the terminal side, over any
// device.Tap; Phone is the phone side, for simulators, tests, and as the
// reference for the app's developers.
//
// For phones without the app, the package also has the terminal's tag:
// TagMessage is the NDEF message that a reader which can act as a tag
// (device.NFCTag) holds: a URI record of the request's link, which a
// phone opens, then for a request on several networks a URI record of
// each network's EIP-681 URI, as many as the tag's 1 KiB holds (URIMessage
// is the link alone, a request on one network's message), and Roles
// alternates the chip between the reader role and that tag role while a
// request is on screen (see DefaultTiming for how long each lasts, and
// Roles for the trade-off).
//
// The phone runs the payer's app in Host Card Emulation (Android
// HostApduService, or iOS HCE where available) registered for the
// proprietary AID F0 53 48 4F 57 50 4F 53 ("F0" + "SHOWPOS"). All APDUs are
// short (ISO/IEC 7816-4), at most 245 bytes in and 242 out, so each fits in
// one reader frame with no chaining.
//
// # The exchange
//
//	terminal                                phone
//	SELECT AID                         →    01 90 00          (protocol version 1)
//	PUT-REQUEST-CHUNK 0 … n-1 (last)   →    90 00 each        (signs after the last)
//	GET-TX-INFO                        →    69 85             (still signing: ask again)
//	GET-TX-INFO                        →    LL LL LL LL 90 00 (length of the raw tx)
//	GET-TX-CHUNK 0 … m-1               →    ≤ 240 bytes 90 00 each
//	(release the target)
//
// # Commands
//
//	Name               CLA INS P1 P2        Lc   Data               Le  Response data         SW
//	SELECT             00  A4  04 00        08   F0 53 48 4F 57     00  01 (version)          90 00; 6A 82 no app
//	                                             50 4F 53
//	PUT-REQUEST-CHUNK  80  D0  index|last   1-F0 chunk of request   -   none                  90 00
//	GET-TX-INFO        80  D2  00 00        -    -                  04  tx length, 4 bytes BE 90 00; 69 85 not yet; 69 82 declined
//	GET-TX-CHUNK       80  D4  index        -    -                  00  chunk (≤ 240 bytes)   90 00
//
// PUT-REQUEST-CHUNK: P1P2 is the chunk index, big-endian, 0 to 0x7FFF, in
// order from 0; bit 7 of P1 (0x80) marks the last chunk. Every chunk but
// the last carries exactly 240 bytes. The request document is the signed
// payment request as JSON (UTF-8), at most MaxRequest bytes. Once the last
// chunk is in, the app shows the payment to the payer and signs.
//
// GET-TX-INFO answers 69 85 until the transaction is signed (the terminal
// asks again every ReadyPoll, up to ReadyTimeout or the tap's deadline),
// then the raw transaction's length as 4 bytes big-endian (1 to MaxTx).
//
// GET-TX-CHUNK: P1P2 is the chunk index, big-endian; chunk i is bytes
// [240·i, 240·i+240) of the raw transaction (the last one shorter). The raw
// transaction is what eth_sendRawTransaction takes: the binary encoding of
// a signed transaction (RLP for legacy, type byte + RLP for typed ones).
// An app paying by an EIP-3009 authorization sends instead the payer API's
// handover JSON, {"requestId", "payment": <x402 PaymentPayload>}, which
// starts with '{' (no transaction does): the cashier reads it as the payer
// API does (checkout.ParseHandover).
//
// Status words:
//
//	90 00  done
//	6A 82  SELECT: the app is not installed (Android answers this itself)
//	69 85  GET-TX-INFO: not signed yet, ask again; other commands: out of sequence (no SELECT, request already complete)
//	69 82  the payer declined, or the app could not sign this request
//	6A 86  chunk index out of order, or past the end of the transaction
//	67 00  wrong length (Lc, or a PUT with no data or over 240 bytes)
//	6A 84  request document too long for the app
//	6D 00  unknown INS;  6E 00  unknown CLA
//
// # Repeats
//
// A reader that loses an answer sends the same command again, so every
// command is idempotent: the same PUT-REQUEST-CHUNK again (same index,
// flag and data as the last one accepted) answers 90 00 and changes
// nothing; GET-TX-INFO and GET-TX-CHUNK only read. A new SELECT starts a
// new transaction.
//
// # Limits the terminal enforces
//
// Pay refuses a request over MaxRequest and a transaction over MaxTx
// (device.ErrTooLarge, before fetching any of it), an answer of the wrong
// length or a chunk of the wrong size (ErrMalformed), and any status word
// the table does not list for that step (*SWError). A phone that leaves the
// field mid-way is device.ErrGone; the terminal then waits for the next
// tap and starts over from SELECT.
package nfcpay
