package cashier

import (
	"fmt"
	"testing"

	"showpos/terminal/check"
	"showpos/terminal/checkout"
)

// Every refusal code check declares has a few words of its own for the
// cashier's screen, read from the refusal the till returns.
func TestEveryRefusalCodeHasWords(t *testing.T) {
	for _, c := range append(check.Codes(), checkout.RequestCodes()...) {
		w, ok := reasons[c]
		if !ok || w == "" {
			t.Errorf("no words for %s", c)
			continue
		}
		if got := shortReason(fmt.Errorf("pay: %w", check.Refuse(c, "m"))); got != w {
			t.Errorf("%s reads %q, want %q", c, got, w)
		}
	}
}
