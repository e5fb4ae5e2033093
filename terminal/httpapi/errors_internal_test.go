package httpapi

import (
	"fmt"
	"net/http"
	"testing"

	"showpos/terminal/check"
	"showpos/terminal/checkout"
)

// Every refusal code check declares has its own HTTP status here: the
// till decides an error's code, this package only how it is answered, so
// a new code without a status would fall through to 422 unnoticed.
func TestEveryRefusalCodeHasItsStatus(t *testing.T) {
	codes := append(check.Codes(), checkout.RequestCodes()...)
	for _, c := range codes {
		t.Run(string(c), func(t *testing.T) {
			want, ok := refusalStatus[c]
			if !ok {
				t.Fatalf("no status for %s", c)
			}
			got := classify(fmt.Errorf("pay r1: %w", check.Refuse(c, "the message")))
			if got.status != want || got.code != string(c) || got.msg != "the message" {
				t.Errorf("answered %d %s %q, want %d %s %q", got.status, got.code, got.msg, want, c, "the message")
			}
			if want < http.StatusBadRequest || want >= http.StatusInternalServerError {
				t.Errorf("a refusal answered %d: not the client's side", want)
			}
		})
	}
	if len(refusalStatus) != len(codes) {
		t.Errorf("%d statuses for %d codes", len(refusalStatus), len(codes))
	}
}
