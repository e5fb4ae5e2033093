package nfcpay

import (
	"encoding/binary"
	"fmt"
	"strings"

	"showpos/device"
)

// MaxLink bounds the link a tag carries: the request URL is at most 256
// bytes (request.MaxURLLength), and a URI record of that fits one
// short record.
const MaxLink = 1000

// MaxTagMessage is the largest NDEF message the terminal's tag holds: the
// message the pn532 driver's Type 4 tag keeps in its NDEF file
// (pn532.MaxNDEF, 1 KiB, five READ BINARY rounds of 240 bytes for a
// phone). terminal/ does not import drivers/, so the number is repeated
// here; a test holds the two equal. A link of MaxLink bytes always fits.
const MaxTagMessage = 1024

// uriPrefixes are the URI identifier codes of the NFC Forum URI Record
// Type Definition (RTD-URI 1.0 §3.2.2): index = code. A record stores the
// code in one byte instead of the prefix's text.
var uriPrefixes = [...]string{
	"", "http://www.", "https://www.", "http://", "https://", "tel:", "mailto:",
	"ftp://anonymous:anonymous@", "ftp://ftp.", "ftps://", "sftp://", "smb://",
	"nfs://", "ftp://", "dav://", "news:", "telnet://", "imap:", "rtsp://", "urn:",
	"pop:", "sip:", "sips:", "tftp:", "btspp://", "btl2cap://", "btgoep://",
	"tcpobex://", "irdaobex://", "file://", "urn:epc:id:", "urn:epc:tag:",
	"urn:epc:pat:", "urn:epc:raw:", "urn:epc:", "urn:nfc:",
}

// URIMessage is the NDEF message a plain phone reads from the terminal's
// tag for a request on one network: one record (MB and ME set), TNF 1
// (NFC Forum well-known type), type "U" (URI), its payload the prefix
// code of the longest matching prefix (0x04 for "https://", 0x03 for
// "http://", 0x00 for none, e.g. "ethereum:") and the rest of link in
// UTF-8. A record whose payload is up to 255 bytes is a short record (SR:
// D1 01 len 55 …); a longer one has a 4-byte length (C1 01 00 00 hi lo
// 55 …). It is TagMessage(link, nil).
//
// link must be 1 to MaxLink bytes of printable ASCII (a URL as
// request.Document carries it: already percent-encoded), so a phone shows
// and opens exactly it; anything else is an error that wraps
// device.ErrTooLarge (too long) or ErrMalformed.
func URIMessage(link string) ([]byte, error) {
	msg, _, err := TagMessage(link, nil)
	return msg, err
}

// TagMessage is the NDEF message of the tag for a request: link's URI
// record first, as URIMessage encodes it, then one URI record per uris,
// in order (a request on several networks gives each network's EIP-681
// URI, Document.Offers' URIs, the primary first). The first record's MB
// flag is set and the last one's ME flag; records are short records where
// their payload allows, as in URIMessage.
//
// The link is first because a phone acts on the first record of a tag's
// message (Android's tag dispatch, ACTION_NDEF_DISCOVERED, opens the first
// record's URI and looks at no other): a phone without the app opens the
// payer page, which offers every network and checks the signature. The
// URIs after it reach only an app that reads the tag's records itself (no
// wallet we know does yet): it gets every network's terms off the tag,
// without a request to the terminal. They cost a phone more READ BINARY
// rounds of 240 bytes (four for 843 bytes instead of one), a few
// milliseconds each, within the driver's bound on a tag session.
//
// The message is at most MaxTagMessage bytes: it holds as many of uris,
// in order, as fit whole, and stops before the first that would not (no
// record is cut, none after it is tried), returning how many it holds.
// How many fit: with a link as posd makes it (public_url +
// "/api/showpos/getPaymentRequest?id=" + 32 hex digits, about 90 bytes,
// an 88-byte record) and a token's URIs of about 245 bytes each (the req=
// parameter is that link, percent-encoded), 3 of request.MaxOptions (8)
// networks' URIs fit, 843 bytes in all; with a link of
// request.MaxURLLength (256 bytes), whose URIs are about 410 bytes, the
// primary's alone does (TestTagOfARequestOnSeveralNetworksIsReadOnTheWire
// reads both off the wire). A link of MaxLink bytes leaves room for none.
//
// link is checked as URIMessage checks it; each of uris must be printable
// ASCII too (an EIP-681 URI as request.Document carries it), else the
// error wraps ErrMalformed and there is no message.
func TagMessage(link string, uris []string) (msg []byte, held int, err error) {
	if link == "" {
		return nil, 0, fmt.Errorf("nfcpay: tag link: empty: %w", ErrMalformed)
	}
	if len(link) > MaxLink {
		return nil, 0, fmt.Errorf("nfcpay: tag link of %d bytes over %d: %w", len(link), MaxLink, device.ErrTooLarge)
	}
	if err := printable(link); err != nil {
		return nil, 0, fmt.Errorf("nfcpay: tag link: %w", err)
	}
	payloads := [][]byte{uriPayload(link)}
	size := recordSize(payloads[0])
	for i, u := range uris {
		if u == "" {
			return nil, 0, fmt.Errorf("nfcpay: tag uri %d: empty: %w", i, ErrMalformed)
		}
		if err := printable(u); err != nil {
			return nil, 0, fmt.Errorf("nfcpay: tag uri %d: %w", i, err)
		}
	}
	for _, u := range uris {
		p := uriPayload(u)
		if size+recordSize(p) > MaxTagMessage {
			break
		}
		payloads = append(payloads, p)
		size += recordSize(p)
	}
	msg = make([]byte, 0, size)
	for i, p := range payloads {
		msg = appendURIRecord(msg, p, i == 0, i == len(payloads)-1)
	}
	return msg, len(payloads) - 1, nil
}

// printable reports a byte of s that is not printable ASCII (a space
// included) as ErrMalformed.
func printable(s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c >= 0x7F {
			return fmt.Errorf("byte %#02x at %d is not printable ASCII: %w", c, i, ErrMalformed)
		}
	}
	return nil
}

// uriPayload is a URI record's payload: the code of uri's longest prefix
// in uriPrefixes (0 for none), then the rest of uri.
func uriPayload(uri string) []byte {
	code := 0
	for i, p := range uriPrefixes {
		if p != "" && strings.HasPrefix(uri, p) && len(p) > len(uriPrefixes[code]) {
			code = i
		}
	}
	return append([]byte{byte(code)}, uri[len(uriPrefixes[code]):]...)
}

// recordSize is the encoded size of a URI record with payload p: the flags
// and type length bytes, a 1-byte (short record) or 4-byte payload length,
// the type "U", and p.
func recordSize(p []byte) int {
	if len(p) <= 0xFF {
		return 3 + 1 + len(p)
	}
	return 6 + 1 + len(p)
}

// appendURIRecord appends a well-known "U" record with payload p, MB set
// when first and ME when last.
func appendURIRecord(msg, p []byte, first, last bool) []byte {
	const tnfWellKnown, mb, me, sr = 0x01, 0x80, 0x40, 0x10
	flags := byte(tnfWellKnown)
	if first {
		flags |= mb
	}
	if last {
		flags |= me
	}
	if len(p) <= 0xFF {
		msg = append(msg, flags|sr, 0x01, byte(len(p)))
	} else {
		msg = append(msg, flags, 0x01)
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(p)))
	}
	msg = append(msg, 'U')
	return append(msg, p...)
}
