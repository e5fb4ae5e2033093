package check

// DecodeHex turns a hex-encoded raw transaction, as HTTP bodies and scanners
// carry it, into bytes.
//
// The "0x" (or "0X") prefix is optional: some wallets and scanners drop it.
// Surrounding ASCII whitespace (a scanner's trailing CR LF) is ignored; any
// other non-hex character, an odd number of digits or an empty string is
// refused with CodeInvalidTx. More than 2*MaxTxSize digits is refused with
// CodeTxTooLarge before anything is decoded. The error is always a *Refusal.
func DecodeHex(s string) ([]byte, error) {
	s = trimSpace(s)
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	switch {
	case len(s) > 2*MaxTxSize:
		return nil, Refuse(CodeTxTooLarge, "transaction is %d hex digits, at most %d", len(s), 2*MaxTxSize)
	case len(s) == 0:
		return nil, Refuse(CodeInvalidTx, "empty transaction")
	case len(s)%2 != 0:
		return nil, Refuse(CodeInvalidTx, "odd number of hex digits (%d)", len(s))
	}
	b := make([]byte, len(s)/2)
	for i := range b {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			pos := 2 * i
			if ok1 {
				pos++
			}
			return nil, Refuse(CodeInvalidTx, "not hex: character %q at digit %d", s[pos], pos)
		}
		b[i] = hi<<4 | lo
	}
	return b, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// trimSpace trims ASCII whitespace only, without allocating.
func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
