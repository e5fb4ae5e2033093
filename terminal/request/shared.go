package request

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

// SharedVersion is the first byte of a shared part's encoding
// (Shared.Marshal).
const SharedVersion byte = 0x01

// Shared is what a terminal's requests have in common while its config
// does not change: its id, the merchant, the signer and the two URLs. The
// store keeps it once for all of them (issue 19: about 115 of a request's
// 260 stored bytes on a dev terminal, more with a real host name), and
// each request's compact form leaves it out (Document.CompactParts).
type Shared struct {
	TerminalID     string
	Merchant       common.Address
	Signer         common.Address
	RequestURLBase string // the request URL without the trailing request id
	BroadcastURL   string
}

// Marshal is s's one encoding (integers are unsigned LEB128 varints in
// their shortest form; a string is a varint byte length and the bytes):
//
//	0x01                 SharedVersion
//	terminalId           string
//	merchant             20 bytes
//	signer               20 bytes
//	request URL base     string: the request URL without the id
//	broadcast URL        varint n, then string: the first n bytes of the
//	                     request URL base and this string, n being the
//	                     longest prefix the two share
//
// Equal parts give equal bytes, so the bytes may key a table of them.
func (s Shared) Marshal() []byte {
	b := append(make([]byte, 0, 64+len(s.RequestURLBase)+len(s.BroadcastURL)), SharedVersion)
	b = appendString(b, s.TerminalID)
	b = append(b, s.Merchant[:]...)
	b = append(b, s.Signer[:]...)
	b = appendString(b, s.RequestURLBase)
	n := commonPrefix(s.RequestURLBase, s.BroadcastURL)
	b = binary.AppendUvarint(b, uint64(n))
	return appendString(b, s.BroadcastURL[n:])
}

// ParseShared reads what Marshal writes, strictly: another version, a
// truncated field, trailing bytes, a varint not in its shortest form or a
// broadcast URL not split at the longest shared prefix is refused with an
// error wrapping ErrDocument. The fields' own rules (a terminal id, URLs)
// are checked when a request is rebuilt with it (ParseStoredParts).
func ParseShared(b []byte) (Shared, error) {
	c := compactReader{b: b}
	if v := c.byte("shared version"); c.err == nil && v != SharedVersion {
		return Shared{}, fmt.Errorf("parse shared part: %w: version %d; this build reads %d", ErrDocument, v, SharedVersion)
	}
	s := Shared{
		TerminalID: c.string(MaxTerminalIDLength, "terminalId"),
		Merchant:   common.Address(c.fixed(common.AddressLength, "merchant")),
		Signer:     common.Address(c.fixed(common.AddressLength, "signer")),
	}
	s.RequestURLBase = c.string(MaxURLLength, "request URL base")
	n := c.uvarint("broadcast URL prefix")
	rest := c.string(MaxURLLength, "broadcast URL")
	if c.err == nil && len(c.b) > 0 {
		c.fail("shared part", "%d bytes after the broadcast URL", len(c.b))
	}
	if c.err != nil {
		return Shared{}, fmt.Errorf("parse shared part: %w", c.err)
	}
	var err error
	if s.BroadcastURL, err = joinShared(s.RequestURLBase, n, rest); err != nil {
		return Shared{}, fmt.Errorf("parse shared part: %w", err)
	}
	return s, nil
}

// CompactParts is Compact's form split in two: own, the request's own
// part (the compact form without the terminal id, merchant, signer and
// URLs), and shared, Shared.Marshal of the parts it leaves out, which the
// store keeps once for every request that has them. ParseStoredParts
// joins them back into the same document. A request URL that does not
// end with the request id shares nothing: own is then Compact's whole
// form and shared is nil. It refuses what Compact refuses.
func (d *Document) CompactParts() (own, shared []byte, err error) {
	whole, err := d.Compact() // every check Compact makes
	if err != nil {
		return nil, nil, err
	}
	base, ok := strings.CutSuffix(d.RequestURL, d.ID)
	if !ok {
		return whole, nil, nil
	}
	sh := Shared{TerminalID: d.TerminalID, Merchant: d.Merchant, Signer: d.Signer, RequestURLBase: base, BroadcastURL: d.BroadcastURL}
	own = appendCompact(make([]byte, 0, 200), d.Request(), d.Signature, d.Signer, d.RequestURL, d.BroadcastURL, true)
	return own, sh.Marshal(), nil
}

// ParseStoredParts reads a request the store keeps in two parts (own and
// shared, as CompactParts wrote them), or in one (shared nil: a form
// ParseStored reads). A split own part with no shared part, or a whole
// one given a shared part, is refused with ErrDocument, as are both
// parts' damage and a joined request Compact would refuse.
func ParseStoredParts(own, shared []byte) (*Document, error) {
	if shared == nil {
		return ParseStored(own)
	}
	sh, err := ParseShared(shared)
	if err != nil {
		return nil, err
	}
	if len(own) == 0 || own[0] < CompactVersion || own[0] > CompactNetworksVersion {
		return nil, fmt.Errorf("parse stored document: %w: a shared part given with a value that is not a compact form", ErrDocument)
	}
	d, err := parseCompact(own, &sh)
	if err != nil {
		return nil, fmt.Errorf("parse compact document: %w", err)
	}
	return d, nil
}
