package cashier

import (
	"strings"

	"showpos/device"
)

// maxEntry bounds the keyed amount: twelve characters is more money than
// a till takes, and fits every screen.
const maxEntry = 12

// entry is the amount being keyed, as the cashier typed it.
type entry struct {
	text     string
	decimals uint8 // of the asset: more decimal places are refused
}

// press applies one key and reports whether it was taken. A refused key
// changes nothing (the terminal beeps).
func (e *entry) press(k device.Key) bool {
	switch {
	case k == device.KeyBackspace:
		if e.text == "" {
			return false
		}
		e.text = e.text[:len(e.text)-1]
		return true
	case k == device.KeyClear:
		e.text = ""
		return true
	case k == device.KeyDot:
		if strings.Contains(e.text, ".") || e.decimals == 0 || len(e.text) >= maxEntry {
			return false
		}
		if e.text == "" {
			e.text = "0"
		}
		e.text += "."
		return true
	}
	d, ok := k.Digit()
	if !ok || len(e.text) >= maxEntry {
		return false
	}
	if i := strings.IndexByte(e.text, '.'); i >= 0 && len(e.text)-i-1 >= int(e.decimals) {
		return false // more decimals than the asset has
	}
	if e.text == "0" && d == 0 {
		return false // no leading zeros
	}
	if e.text == "0" {
		e.text = ""
	}
	e.text += string(rune('0' + d))
	return true
}

// amount is the entry as ParseAmount takes it ("12." becomes "12").
func (e *entry) amount() string { return strings.TrimSuffix(e.text, ".") }

// empty reports whether nothing worth charging was keyed.
func (e *entry) empty() bool {
	return strings.Trim(e.amount(), "0.") == ""
}
