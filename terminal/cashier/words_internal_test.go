package cashier

import (
	"fmt"
	"testing"

	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/locale"
)

// Every refusal code check and checkout declare has a few words of its own
// in every language for the cashier's screen, read from the refusal the
// till returns.
func TestEveryRefusalCodeHasWords(t *testing.T) {
	for _, l := range locale.All() {
		for _, c := range append(check.Codes(), checkout.RequestCodes()...) {
			k, ok := reasons[c]
			if !ok || l.Text(k) == "" {
				t.Errorf("%s: no words for %s", l, c)
				continue
			}
			if got := shortReason(l, fmt.Errorf("pay: %w", check.Refuse(c, "m"))); got != l.Text(k) {
				t.Errorf("%s: %s reads %q, want %q", l, c, got, l.Text(k))
			}
		}
	}
}
