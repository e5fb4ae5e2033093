package report

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"showpos/device"
)

// timeLayout is how a report prints times: to the second, in the zone the
// report was taken in.
const timeLayout = "2006-01-02 15:04:05"

// Title is the report's heading: "X REPORT" or "Z REPORT 3".
func (r Report) Title() string {
	if r.Kind == KindZ {
		return fmt.Sprintf("Z REPORT %d", r.Number)
	}
	return "X REPORT"
}

// Job lays the report out for a receipt printer of columns characters a
// line (32 on 58 mm paper, 48 on 80 mm; at least 16): its title, period,
// each asset's sums (count and amount: taken, of it confirmed and pending;
// failed; unmatched receipts; tips), the sums of requests keyed in the
// shop's currency (taken, tips), then each failure of the period. No line is
// wider than columns.
func (r Report) Job(columns int) device.PrintJob {
	columns = max(columns, 16)
	var j device.PrintJob
	add := func(l device.PrintLine) { j.Lines = append(j.Lines, l) }
	two := func(left, right string) {
		add(device.PrintLine{Text: cut(left, columns-utf8.RuneCountInString(right)-1), Right: right})
	}
	add(device.PrintLine{Text: r.Title(), Align: device.AlignCenter, Bold: true})
	if r.Terminal != "" {
		add(device.PrintLine{Text: cut("terminal "+r.Terminal, columns), Align: device.AlignCenter})
	}
	from := "start"
	if !r.From.IsZero() {
		from = r.From.Format(timeLayout)
	}
	two("from", from)
	two("to", r.To.Format(timeLayout))
	add(device.PrintLine{Rule: true})
	if len(r.Assets) == 0 {
		add(device.PrintLine{Text: "no payments"})
	}
	for _, a := range r.Assets {
		add(device.PrintLine{Text: cut(a.Asset, columns), Bold: true})
		two(fmt.Sprintf("taken %d", a.Taken.Count), a.Taken.AmountDisplay)
		two(fmt.Sprintf(" confirmed %d", a.Confirmed.Count), a.Confirmed.AmountDisplay)
		two(fmt.Sprintf(" pending %d", a.Pending.Count), a.Pending.AmountDisplay)
		two(fmt.Sprintf("failed %d", a.Failed.Count), a.Failed.AmountDisplay)
		two(fmt.Sprintf("unmatched %d", a.Unmatched.Count), a.Unmatched.AmountDisplay)
		if a.Tips != nil && a.Tips.Count > 0 {
			two(fmt.Sprintf(" tips %d", a.Tips.Count), a.Tips.AmountDisplay)
		}
	}
	for _, f := range r.Fiat {
		add(device.PrintLine{Text: cut(f.Currency+" (keyed in it)", columns), Bold: true})
		two(fmt.Sprintf("taken %d", f.Taken.Count), f.Taken.Amount)
		if f.Tips.Count > 0 {
			two(fmt.Sprintf(" tips %d", f.Tips.Count), f.Tips.Amount)
		}
	}
	add(device.PrintLine{Rule: true})
	add(device.PrintLine{Text: fmt.Sprintf("FAILURES %d", len(r.Failures)), Bold: true})
	for _, f := range r.Failures {
		two(fmt.Sprintf("#%d %s", f.ID, f.FailedAt.Format("01-02 15:04")), f.AmountDisplay+" "+f.Asset)
		add(device.PrintLine{Text: cut("  "+f.Reason, columns)})
	}
	add(device.PrintLine{Rule: true})
	two("taken", r.TakenAt.Format(timeLayout))
	return j
}

// cut shortens s to at most n runes, marking a cut with "…".
func cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	return string(rs[:n-1]) + "…"
}

// Text renders a print job as plain text of columns characters a line, the
// way a printer lays it out: a rule is a line of '-', a two-column line has
// its right part flush right, a centred line is centred; QR lines show as
// "[QR payload]". Bold and large are not shown.
func Text(j device.PrintJob, columns int) string {
	var b strings.Builder
	for _, l := range j.Lines {
		switch {
		case l.Rule:
			b.WriteString(strings.Repeat("-", columns))
		case l.QR != "":
			b.WriteString(cut("[QR "+l.QR+"]", columns))
		case l.Right != "":
			left := cut(l.Text, columns-utf8.RuneCountInString(l.Right)-1)
			pad := max(columns-utf8.RuneCountInString(left)-utf8.RuneCountInString(l.Right), 1)
			b.WriteString(left + strings.Repeat(" ", pad) + l.Right)
		case l.Align == device.AlignCenter:
			t := cut(l.Text, columns)
			b.WriteString(strings.Repeat(" ", (columns-utf8.RuneCountInString(t))/2) + t)
		case l.Align == device.AlignRight:
			t := cut(l.Text, columns)
			b.WriteString(strings.Repeat(" ", columns-utf8.RuneCountInString(t)) + t)
		default:
			b.WriteString(cut(l.Text, columns))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
