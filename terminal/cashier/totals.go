package cashier

import (
	"fmt"
	"unicode/utf8"

	"showpos/terminal/checkout"
	"showpos/terminal/locale"
)

// menuColumns is how many characters of the menu's fixed-width face the
// narrowest shipped screen fits on a row (240×240: 22; the 128×64 OLED
// fits 24, 320×240 25). A totals line naming its network is laid out to
// fit it, so that what gives way is chosen here, not cut by the renderer.
const menuColumns = 22

// labelNetworks reports whether totals lines name their network: on a
// terminal with more than one network (by Options.Networks, or, without
// it, rows on more than one chain), where one asset may be taken on
// several and its lines would otherwise read the same.
func (c *Cashier) labelNetworks(rows []checkout.AssetTotal) bool {
	if c.o.Networks != nil && len(c.o.Networks()) > 1 {
		return true
	}
	for _, a := range rows {
		if a.ChainID != rows[0].ChainID {
			return true
		}
	}
	return false
}

// totalsLine is one row of the today and report pages: "12.5 USDC (3)",
// or, labelled, "12.5 USDC base (3)". A labelled line longer than
// menuColumns drops its count, then cuts the network's name with "…";
// the amount and asset are never cut.
func totalsLine(w locale.Locale, a checkout.AssetTotal, label bool) string {
	amount := w.Amount(a.Taken.AmountDisplay)
	if !label {
		return fmt.Sprintf("%s %s (%d)", amount, a.Asset, a.Taken.Count)
	}
	name := a.Network
	if name == "" {
		name = fmt.Sprintf("chain-%d", a.ChainID)
	}
	if s := fmt.Sprintf("%s %s %s (%d)", amount, a.Asset, name, a.Taken.Count); utf8.RuneCountInString(s) <= menuColumns {
		return s
	}
	head := amount + " " + a.Asset + " "
	room := menuColumns - utf8.RuneCountInString(head)
	if n := utf8.RuneCountInString(name); n > room && room >= 2 {
		name = string([]rune(name)[:room-1]) + "…"
	}
	return head + name
}
