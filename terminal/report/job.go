package report

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"showpos/device"
	"showpos/terminal/locale"
)

// Title is the report's heading: "X REPORT" or "Z REPORT 3".
func (r Report) Title() string { return r.TitleIn(locale.English) }

// TitleIn is the report's heading in l: "Z-BERICHT 3" in German.
func (r Report) TitleIn(l locale.Locale) string {
	if r.Kind == KindZ {
		return l.T(locale.ZReport, r.Number)
	}
	return l.T(locale.XReport)
}

// Job is JobIn in English.
func (r Report) Job(columns int) device.PrintJob { return r.JobIn(locale.English, columns) }

// JobIn lays the report out, in l's words, amounts and times, for a
// receipt printer of columns characters a line (32 on 58 mm paper, 48 on 80 mm; at least 16): its title, period,
// each asset's sums on each network (the network named beside the asset;
// count and amount: taken, of it confirmed and pending;
// failed; unmatched receipts; tips), the sums of requests keyed in the
// shop's currency (taken, tips), then each failure of the period (its
// reason as kept, in English unless the catalog has it). Times are to the
// second, in the zone the report was taken in. No line is wider than
// columns.
func (r Report) JobIn(l locale.Locale, columns int) device.PrintJob {
	columns = max(columns, 16)
	var j device.PrintJob
	add := func(l device.PrintLine) { j.Lines = append(j.Lines, l) }
	two := func(left, right string) {
		add(device.PrintLine{Text: cut(left, columns-utf8.RuneCountInString(right)-1), Right: right})
	}
	amt := l.Amount
	add(device.PrintLine{Text: r.TitleIn(l), Align: device.AlignCenter, Bold: true})
	if r.Terminal != "" {
		add(device.PrintLine{Text: cut(l.T(locale.ReportTerminal, r.Terminal), columns), Align: device.AlignCenter})
	}
	from := l.T(locale.ReportStart)
	if !r.From.IsZero() {
		from = l.Stamp(r.From)
	}
	two(l.T(locale.ReportFrom), from)
	two(l.T(locale.ReportTo), l.Stamp(r.To))
	add(device.PrintLine{Rule: true})
	if len(r.Assets) == 0 {
		add(device.PrintLine{Text: l.T(locale.NoPayments)})
	}
	for _, a := range r.Assets {
		// The asset and, flush right, the network it was taken on (none
		// in a Z stored before networks).
		add(device.PrintLine{Text: cut(a.Asset, columns-utf8.RuneCountInString(a.Network)-1), Right: a.Network, Bold: true})
		two(l.T(locale.ReportTaken, a.Taken.Count), amt(a.Taken.AmountDisplay))
		two(l.T(locale.ReportConfirmed, a.Confirmed.Count), amt(a.Confirmed.AmountDisplay))
		two(l.T(locale.ReportPending, a.Pending.Count), amt(a.Pending.AmountDisplay))
		two(l.T(locale.ReportFailed, a.Failed.Count), amt(a.Failed.AmountDisplay))
		two(l.T(locale.ReportUnmatched, a.Unmatched.Count), amt(a.Unmatched.AmountDisplay))
		if a.Tips != nil && a.Tips.Count > 0 {
			two(l.T(locale.ReportTips, a.Tips.Count), amt(a.Tips.AmountDisplay))
		}
	}
	for _, f := range r.Fiat {
		add(device.PrintLine{Text: cut(l.T(locale.ReportKeyedIn, f.Currency), columns), Bold: true})
		two(l.T(locale.ReportTaken, f.Taken.Count), amt(f.Taken.Amount))
		if f.Tips.Count > 0 {
			two(l.T(locale.ReportTips, f.Tips.Count), amt(f.Tips.Amount))
		}
	}
	add(device.PrintLine{Rule: true})
	add(device.PrintLine{Text: l.T(locale.ReportFailures, len(r.Failures)), Bold: true})
	for _, f := range r.Failures {
		two(fmt.Sprintf("#%d %s", f.ID, l.Short(f.FailedAt)), amt(f.AmountDisplay)+" "+f.Asset)
		add(device.PrintLine{Text: cut("  "+l.Reason(f.Reason), columns)})
	}
	add(device.PrintLine{Rule: true})
	two(l.T(locale.ReportTakenAt), l.Stamp(r.TakenAt))
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
