package receipt

import (
	"strings"
	"unicode/utf8"

	"showpos/device"
	"showpos/terminal/asset"
)

// wording is every word printed on receipts, in one place for the
// message catalog.
type wording struct {
	terminal, amount, total, tip, rate string
	request, memo, payer, tx, settled  string
	authNonce, signedBy, check, thanks string
	// states gives each state in large letters, then a second line in
	// normal ones: a 58 mm printer fits 16 large characters.
	states map[State][2]string
}

var words = wording{
	terminal: "Terminal", amount: "Amount", total: "Total", tip: "Tip", rate: "Rate",
	request: "Request", memo: "Memo", payer: "Paid by", tx: "Transaction", settled: "Settlement",
	authNonce: "Authorization nonce", signedBy: "Signed by terminal",
	check:  "Scan to check this receipt's signature (EIP-712)",
	thanks: "Thank you",
	states: map[State][2]string{
		StatePaid:     {"PAID", ""},
		StateAccepted: {"ACCEPTED", "WILL SETTLE"},
		StateRejected: {"REJECTED", ""},
		StateUnpaid:   {"NOT PAID", ""},
	},
}

// MinColumns is the narrowest paper Job lays out for; narrower is laid out
// as this.
const MinColumns = 24

// Job lays s out for a receipt printer of the given columns (32 on 58 mm
// paper, 48 on 80 mm): the merchant and terminal, the time, the amounts in
// two columns, the state large and bold, the payment's identity (hashes
// wrapped to the width), the request id, a QR of the digital receipt's link
// and a footer with the signer. Every line fits columns characters (Large
// lines count double).
func Job(s Signed, columns int) device.PrintJob {
	columns = max(columns, MinColumns)
	r := s.Receipt
	var j jobBuilder
	j.cols = columns
	j.wrapped(r.MerchantName, device.AlignCenter, true)
	j.wrapped(words.terminal+" "+r.TerminalID, device.AlignCenter, false)
	j.line(device.PrintLine{Text: r.Time.UTC().Format("2006-01-02 15:04:05 UTC"), Align: device.AlignCenter})
	j.rule()

	sym := r.Asset.Symbol
	if r.Currency != "" {
		j.pair(words.total, r.FiatAmount+" "+r.Currency)
	}
	if r.Tip != nil && r.Tip.Sign() > 0 {
		j.pair(words.tip, asset.FormatAmount(r.Tip, r.Asset.Decimals)+" "+sym)
	}
	j.pair(words.amount, asset.FormatAmount(r.Amount, r.Asset.Decimals)+" "+sym)
	if r.Currency != "" && r.Rate != "" {
		j.pair(words.rate, "1 "+sym+" = "+r.Rate+" "+r.Currency)
	}
	j.rule()

	st := words.states[r.State]
	if st[0] == "" {
		st[0] = strings.ToUpper(string(r.State))
	}
	j.line(device.PrintLine{Text: st[0], Align: device.AlignCenter, Bold: true, Large: true})
	if st[1] != "" {
		j.line(device.PrintLine{Text: st[1], Align: device.AlignCenter, Bold: true})
	}
	if r.Reason != "" {
		j.wrapped(r.Reason, device.AlignCenter, false)
	}
	j.rule()

	j.field(words.request, r.RequestID)
	if r.Memo != "" {
		j.field(words.memo, r.Memo)
	}
	if r.From != ([20]byte{}) {
		j.field(words.payer, r.From.Hex())
	}
	if r.AuthNonce != ([32]byte{}) {
		j.field(words.authNonce, r.AuthNonce.Hex())
		if r.TxHash != ([32]byte{}) {
			j.field(words.settled, r.TxHash.Hex())
		}
	} else if r.TxHash != ([32]byte{}) {
		j.field(words.tx, r.TxHash.Hex())
	}
	if r.Link != "" {
		j.rule()
		j.line(device.PrintLine{QR: r.Link})
		j.wrapped(r.Link, device.AlignCenter, false)
		j.wrapped(words.check, device.AlignCenter, false)
	}
	j.rule()
	j.field(words.signedBy, s.Signer.Hex())
	j.line(device.PrintLine{Text: words.thanks, Align: device.AlignCenter, Bold: true})
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
	for _, w := range strings.Fields(s) {
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
