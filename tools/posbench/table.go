package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// row is one figure of the table.
type row struct {
	What  string // what is measured
	Value string // the figure
	Peer  string // the floor, ceiling or peer it is set against; "—" if none
	Ratio string // Value against Peer, as a number with ×; "—" if none
	How   string // how it was measured
}

// failed is the row of a figure that could not be measured.
func failed(what string, err error) row {
	return row{What: what, Value: "not measured", Peer: "—", Ratio: "—", How: "error: " + err.Error()}
}

// writeTable writes the machine line, the table and the run's footnote.
func writeTable(w io.Writer, m machine, rows []row, took time.Duration, settings string) {
	fmt.Fprintf(w, "Machine: %s\n\n", m)
	fmt.Fprintln(w, "| # | figure | value | floor / ceiling / peer | ratio | how measured |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for i, r := range rows {
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s |\n", i+1,
			cell(r.What), cell(r.Value), cell(orDash(r.Peer)), cell(orDash(r.Ratio)), cell(r.How))
	}
	fmt.Fprintf(w, "\nposbench %s; the whole run took %s.\n", settings, took.Round(time.Second))
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// cell keeps a table cell on one line and its pipes literal.
func cell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// ratio formats a/b as "1.23×"; "—" when b is zero.
func ratio(a, b float64) string {
	if b == 0 {
		return "—"
	}
	r := a / b
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f×", r)
	case r >= 10:
		return fmt.Sprintf("%.1f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

// ms formats a duration in milliseconds with sensible precision.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	case v >= 1:
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

// rate formats a per-second figure.
func rate(v float64, unit string) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%s %s/s", thousands(int64(v+0.5)), unit)
	case v >= 10:
		return fmt.Sprintf("%.0f %s/s", v, unit)
	}
	return fmt.Sprintf("%.1f %s/s", v, unit)
}

// thousands writes n with commas: 12,345.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// mib formats bytes as MiB.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
