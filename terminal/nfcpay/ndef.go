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
// tag: one record (MB and ME set), TNF 1 (NFC Forum well-known type), type
// "U" (URI), its payload the prefix code of the longest matching prefix
// (0x04 for "https://", 0x03 for "http://", 0x00 for none, e.g.
// "ethereum:") and the rest of link in UTF-8. A record whose payload is up
// to 255 bytes is a short record (SR: D1 01 len 55 …); a longer one has a
// 4-byte length (C1 01 00 00 hi lo 55 …).
//
// A request payable on several networks gets the same one record, its
// link: a phone acts on the first record of a tag's message (Android's
// tag dispatch, ACTION_NDEF_DISCOVERED, opens the first record's URI;
// later records reach only an app that reads the tag itself, and no
// wallet reads them for EIP-681 URIs), and the link opens the payer
// page, where the payer chooses the network. A URI record per network
// after it would add about 190 to 250 bytes each, more READ BINARY commands in
// a 400 ms tag window, for nothing a phone uses.
//
// link must be 1 to MaxLink bytes of printable ASCII (a URL as
// request.Document carries it: already percent-encoded), so a phone shows
// and opens exactly it; anything else is an error that wraps
// device.ErrTooLarge (too long) or ErrMalformed.
func URIMessage(link string) ([]byte, error) {
	if link == "" {
		return nil, fmt.Errorf("nfcpay: tag link: empty: %w", ErrMalformed)
	}
	if len(link) > MaxLink {
		return nil, fmt.Errorf("nfcpay: tag link of %d bytes over %d: %w", len(link), MaxLink, device.ErrTooLarge)
	}
	for i := 0; i < len(link); i++ {
		if c := link[i]; c <= 0x20 || c >= 0x7F {
			return nil, fmt.Errorf("nfcpay: tag link: byte %#02x at %d is not printable ASCII: %w", c, i, ErrMalformed)
		}
	}
	code := 0
	for i, p := range uriPrefixes {
		if p != "" && strings.HasPrefix(link, p) && len(p) > len(uriPrefixes[code]) {
			code = i
		}
	}
	payload := append([]byte{byte(code)}, link[len(uriPrefixes[code]):]...)
	const tnfWellKnown, mb, me, sr = 0x01, 0x80, 0x40, 0x10
	var msg []byte
	if len(payload) <= 0xFF {
		msg = []byte{mb | me | sr | tnfWellKnown, 0x01, byte(len(payload))}
	} else {
		msg = []byte{mb | me | tnfWellKnown, 0x01, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(msg[2:], uint32(len(payload)))
	}
	msg = append(msg, 'U')
	return append(msg, payload...), nil
}
