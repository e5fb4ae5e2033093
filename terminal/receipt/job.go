package receipt

import (
	"strings"
	"unicode/utf8"

	"showpos/device"
	"showpos/terminal/asset"
	"showpos/terminal/locale"
)

// stateWords gives each state in large letters, then a second line in
// normal ones: a 58 mm printer fits 16 large characters.
var stateWords = map[State][2]locale.Key{
	StatePaid:     {locale.ReceiptPaid, -1},
	StateAccepted: {locale.ReceiptAccepted, locale.ReceiptWillSettle},
	StateRejected: {locale.ReceiptRejected, -1},
	StateUnpaid:   {locale.ReceiptNotPaid, -1},
}

// MinColumns is the narrowest paper Job lays out for; narrower is laid out
// as this.
const MinColumns = 24

// Job is JobIn in English.
func Job(s Signed, columns int) device.PrintJob { return JobIn(locale.English, s, columns) }

// JobIn lays s out, in l's words, amounts and times, for a receipt printer of the given columns (32 on 58 mm
// paper, 48 on 80 mm): the merchant and terminal, the time, the amounts in
// two columns, the state large and bold, the payment's identity (hashes
// wrapped to the width), the request id, a QR of the digital receipt's link
// and a footer with the signer. Every line fits columns characters (Large
// lines count double). Only the words change with l: what was signed (the
// reason kept in English, say) is printed in l where the catalog has it.
func JobIn(l locale.Locale, s Signed, columns int) device.PrintJob {
	columns = max(columns, MinColumns)
	amt := l.Amount
	r := s.Receipt
	var j jobBuilder
	j.cols = columns
	j.wrapped(r.MerchantName, device.AlignCenter, true)
	j.wrapped(l.T(locale.ReceiptTerminal)+" "+r.TerminalID, device.AlignCenter, false)
	j.line(device.PrintLine{Text: l.Stamp(r.Time.UTC()) + " UTC", Align: device.AlignCenter})
	j.rule()

	sym := r.Asset.Symbol
	if r.Currency != "" {
		j.pair(l.T(locale.ReceiptTotal), amt(r.FiatAmount)+" "+r.Currency)
	}
	if r.Tip != nil && r.Tip.Sign() > 0 {
		j.pair(l.T(locale.ReceiptTip), amt(asset.FormatAmount(r.Tip, r.Asset.Decimals))+" "+sym)
	}
	j.pair(l.T(locale.ReceiptAmount), amt(asset.FormatAmount(r.Amount, r.Asset.Decimals))+" "+sym)
	if r.Currency != "" && r.Rate != "" {
		j.pair(l.T(locale.ReceiptRate), "1 "+sym+" = "+amt(r.Rate)+" "+r.Currency)
	}
	j.rule()

	var st [2]string
	if k, ok := stateWords[r.State]; ok {
		st[0] = l.T(k[0])
		if k[1] >= 0 {
			st[1] = l.T(k[1])
		}
	} else {
		st[0] = strings.ToUpper(string(r.State))
	}
	j.line(device.PrintLine{Text: st[0], Align: device.AlignCenter, Bold: true, Large: true})
	if st[1] != "" {
		j.line(device.PrintLine{Text: st[1], Align: device.AlignCenter, Bold: true})
	}
	if r.Reason != "" {
		j.wrapped(l.Reason(r.Reason), device.AlignCenter, false)
	}
	j.rule()

	j.field(l.T(locale.ReceiptRequest), r.RequestID)
	if r.Memo != "" {
		j.field(l.T(locale.ReceiptMemo), r.Memo)
	}
	if r.From != ([20]byte{}) {
		j.field(l.T(locale.ReceiptPayer), r.From.Hex())
	}
	if r.AuthNonce != ([32]byte{}) {
		j.field(l.T(locale.ReceiptAuthNonce), r.AuthNonce.Hex())
		if r.TxHash != ([32]byte{}) {
			j.field(l.T(locale.ReceiptSettled), r.TxHash.Hex())
		}
	} else if r.TxHash != ([32]byte{}) {
		j.field(l.T(locale.ReceiptTx), r.TxHash.Hex())
	}
	if r.Link != "" {
		j.rule()
		j.line(device.PrintLine{QR: r.Link})
		j.wrapped(r.Link, device.AlignCenter, false)
		j.wrapped(l.T(locale.ReceiptCheck), device.AlignCenter, false)
	}
	j.rule()
	j.field(l.T(locale.ReceiptSignedBy), s.Signer.Hex())
	j.line(device.PrintLine{Text: l.T(locale.ReceiptThanks), Align: device.AlignCenter, Bold: true})
	return device.PrintJob{Lines: j.lines}
}

type jobBuilder struct {
	cols  int
	lines []device.PrintLine
}

func (j *jobBuilder) line(l device.PrintLine) { j.lines = append(j.lines, l) }

func (j *jobBuilder) rule() { j.line(device.PrintLine{Rule: true}) }

// wrapped adds text broken into lines of the width, at spaces where it can.
func (j *jobBuilder) wrapped(text string, a device.Align, bold bool) {
	for _, l := range wrap(text, j.cols) {
		j.line(device.PrintLine{Text: l, Align: a, Bold: bold})
	}
}

// pair adds label flush left and value flush right on one line, or, when
// both do not fit with a space between, the label then the value flush
// right on lines of their own.
func (j *jobBuilder) pair(label, value string) {
	if width(label)+1+width(value) <= j.cols {
		j.line(device.PrintLine{Text: label, Right: value})
		return
	}
	j.line(device.PrintLine{Text: label})
	for _, l := range wrap(value, j.cols) {
		j.line(device.PrintLine{Text: l, Align: device.AlignRight})
	}
}

// field adds a label and a long value (a hash, an address, an id): on one
// line when it fits, else the label then the value wrapped to the width.
func (j *jobBuilder) field(label, value string) {
	if width(label)+1+width(value) <= j.cols {
		j.line(device.PrintLine{Text: label, Right: value})
		return
	}
	j.line(device.PrintLine{Text: label + ":"})
	for _, l := range wrap(value, j.cols) {
		j.line(device.PrintLine{Text: l})
	}
}

func width(s string) int { return utf8.RuneCountInString(s) }

// wrap breaks s into lines of at most cols characters, at spaces where it
// can and inside a word longer than a line (in pieces of even length).
func wrap(s string, cols int) []string {
	var out []string
	cur := ""
	for _, w := range strings.FieldsFunc(s, isBreak) {
		if n := width(w); n > cols {
			// A hash, an address, a link: cut in pieces of even length
			// (66 characters on 32 columns are 3 lines of 22, not 32, 32
			// and 2), the last one carried on like a word.
			if cur != "" {
				out, cur = append(out, cur), ""
			}
			rs := []rune(w)
			pieces := (n + cols - 1) / cols
			size := (n + pieces - 1) / pieces
			for len(rs) > size {
				out, rs = append(out, string(rs[:size])), rs[size:]
			}
			w = string(rs)
		}
		switch {
		case cur == "":
			cur = w
		case width(cur)+1+width(w) <= cols:
			cur += " " + w
		default:
			out, cur = append(out, cur), w
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// isBreak reports whether a line may break at r: at a space, but not at a
// no-break space (U+00A0, which French amounts group with).
func isBreak(r rune) bool { return r == ' ' }
