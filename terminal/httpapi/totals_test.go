package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"showpos/terminal/httpapi"
	"showpos/terminal/store"
	"showpos/tools/paytx"
)

// pay accepts a payment of amount through the payer API and moves it to
// state.
func (tm *terminal) pay(amount, symbol string, state store.PaymentState) {
	tm.t.Helper()
	r := tm.request(amount, symbol)
	tx := sign(tm.t, r, newKey(tm.t), paytx.Options{})
	if a := tm.broadcast(r.ID, tx); a.status != 202 {
		tm.t.Fatalf("pay %s %s: %d %v", amount, symbol, a.status, a.body)
	}
	if state == store.PaymentQueued {
		return
	}
	reason := ""
	if state == store.PaymentFailed {
		reason = "reverted"
	}
	if _, err := tm.store.SetPaymentState(context.Background(), tx.Hash(), state, reason, tm.clock.Now()); err != nil {
		tm.t.Fatal(err)
	}
}

// A terminal thirteen hours east of UTC, so that its days are not UTC's:
// at 12:00Z it is already 01:00 the next day.
var plus13 = time.FixedZone("UTC+13", 13*60*60)

const totalsDayCSV = `from,to,asset,decimals,state,count,amount,amount_display,network
2026-11-24T00:00:00+13:00,2026-11-25T00:00:00+13:00,ETH,18,taken,4,700000000000000000,0.7,chain-1337
2026-11-24T00:00:00+13:00,2026-11-25T00:00:00+13:00,ETH,18,confirmed,2,350000000000000000,0.35,chain-1337
2026-11-24T00:00:00+13:00,2026-11-25T00:00:00+13:00,ETH,18,pending,2,350000000000000000,0.35,chain-1337
2026-11-24T00:00:00+13:00,2026-11-25T00:00:00+13:00,ETH,18,failed,1,200000000000000000,0.2,chain-1337
2026-11-24T00:00:00+13:00,2026-11-25T00:00:00+13:00,ETH,18,unmatched,0,0,0,chain-1337
2026-11-24T00:00:00+13:00,2026-11-25T00:00:00+13:00,TUSD,6,taken,2,15500000,15.5,chain-1337
2026-11-24T00:00:00+13:00,2026-11-25T00:00:00+13:00,TUSD,6,confirmed,1,12500000,12.5,chain-1337
2026-11-24T00:00:00+13:00,2026-11-25T00:00:00+13:00,TUSD,6,pending,1,3000000,3,chain-1337
2026-11-24T00:00:00+13:00,2026-11-25T00:00:00+13:00,TUSD,6,failed,1,1250000,1.25,chain-1337
2026-11-24T00:00:00+13:00,2026-11-25T00:00:00+13:00,TUSD,6,unmatched,0,0,0,chain-1337
`

func TestTotalsPerAssetAndState(t *testing.T) {
	tm := newTerminal(t) // 2026-11-23T12:00Z: 2026-11-24 01:00 at the terminal
	op := operatorServer(t, tm, httpapi.OperatorOptions{Location: plus13})

	tm.clock.Advance(-time.Hour - time.Second) // 23:59:59 the day before, local
	tm.pay("0.01", "ETH", store.PaymentQueued)
	tm.clock.Advance(time.Hour + time.Second)

	tm.pay("0.1", "ETH", store.PaymentConfirmed)
	tm.pay("0.25", "ETH", store.PaymentConfirmed)
	tm.pay("0.05", "ETH", store.PaymentQueued)
	tm.pay("0.3", "ETH", store.PaymentBroadcast)
	tm.pay("0.2", "ETH", store.PaymentFailed)
	tm.pay("12.5", "TUSD", store.PaymentConfirmed)
	tm.pay("3", "TUSD", store.PaymentQueued)
	tm.pay("1.25", "TUSD", store.PaymentFailed)

	tm.clock.Advance(24 * time.Hour) // the next local day
	tm.pay("7", "TUSD", store.PaymentQueued)

	a := call(t, "GET", op.URL+"/v1/totals?day=2026-11-24", "")
	want := `{"assets":[` +
		`{"asset":"ETH","chainId":1337,"confirmed":{"amount":"350000000000000000","amountDisplay":"0.35","count":2},"decimals":18,` +
		`"failed":{"amount":"200000000000000000","amountDisplay":"0.2","count":1},` +
		`"network":"chain-1337","pending":{"amount":"350000000000000000","amountDisplay":"0.35","count":2},` +
		`"taken":{"amount":"700000000000000000","amountDisplay":"0.7","count":4},` +
		`"unmatched":{"amount":"0","amountDisplay":"0","count":0}},` +
		`{"asset":"TUSD","chainId":1337,"confirmed":{"amount":"12500000","amountDisplay":"12.5","count":1},"decimals":6,` +
		`"failed":{"amount":"1250000","amountDisplay":"1.25","count":1},` +
		`"network":"chain-1337","pending":{"amount":"3000000","amountDisplay":"3","count":1},` +
		`"taken":{"amount":"15500000","amountDisplay":"15.5","count":2},` +
		`"unmatched":{"amount":"0","amountDisplay":"0","count":0}}],` +
		`"from":"2026-11-24T00:00:00+13:00","to":"2026-11-25T00:00:00+13:00"}`
	if a.status != 200 || fmtJSON(a.body) != want {
		t.Errorf("day 2026-11-24: %d\n%s\nwant\n%s", a.status, fmtJSON(a.body), want)
	}

	for _, c := range []struct{ name, query, accept string }{
		{"format=csv", "?day=2026-11-24&format=csv", ""},
		{"Accept: text/csv", "?day=2026-11-24", "application/json;q=0.5, text/csv"},
	} {
		req, _ := http.NewRequest("GET", op.URL+"/v1/totals"+c.query, nil)
		if c.accept != "" {
			req.Header.Set("Accept", c.accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			strings.ReplaceAll(string(b), "\r\n", "\n") != totalsDayCSV {
			t.Errorf("%s: %d %s\n%s", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}

	days := []struct{ name, query, want string }{
		{"today by default", "", `{"assets":[{"asset":"TUSD","chainId":1337,"confirmed":{"amount":"0","amountDisplay":"0","count":0},"decimals":6,` +
			`"failed":{"amount":"0","amountDisplay":"0","count":0},"network":"chain-1337","pending":{"amount":"7000000","amountDisplay":"7","count":1},` +
			`"taken":{"amount":"7000000","amountDisplay":"7","count":1},"unmatched":{"amount":"0","amountDisplay":"0","count":0}}],"from":"2026-11-25T00:00:00+13:00","to":"2026-11-26T00:00:00+13:00"}`},
		{"the day before", "?day=2026-11-23", `{"assets":[{"asset":"ETH","chainId":1337,"confirmed":{"amount":"0","amountDisplay":"0","count":0},"decimals":18,` +
			`"failed":{"amount":"0","amountDisplay":"0","count":0},"network":"chain-1337","pending":{"amount":"10000000000000000","amountDisplay":"0.01","count":1},` +
			`"taken":{"amount":"10000000000000000","amountDisplay":"0.01","count":1},"unmatched":{"amount":"0","amountDisplay":"0","count":0}}],"from":"2026-11-23T00:00:00+13:00","to":"2026-11-24T00:00:00+13:00"}`},
		{"a day with nothing", "?day=2026-01-01", `{"assets":[],"from":"2026-01-01T00:00:00+13:00","to":"2026-01-02T00:00:00+13:00"}`},
	}
	for _, d := range days {
		if a := call(t, "GET", op.URL+"/v1/totals"+d.query, ""); a.status != 200 || fmtJSON(a.body) != d.want {
			t.Errorf("%s: %d\n%s\nwant\n%s", d.name, a.status, fmtJSON(a.body), d.want)
		}
	}
	// from and to: the last second of the 23rd and the whole 24th, local.
	q := url.Values{"from": {"2026-11-23T10:59:59Z"}, "to": {"2026-11-24T11:00:00Z"}}
	a = call(t, "GET", op.URL+"/v1/totals?"+q.Encode(), "")
	eth := a.body["assets"].([]any)[0].(map[string]any)
	if a.status != 200 || fmtJSON(eth["taken"]) != `{"amount":"710000000000000000","amountDisplay":"0.71","count":5}` {
		t.Errorf("from/to: %d %v", a.status, a.body)
	}
}

func TestTotalsRefusesBadPeriods(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	for _, q := range []string{
		"day=24.11.2026", "day=2026-02-30", "day=2026-11-24&from=2026-11-24T00:00:00Z",
		"from=2026-11-24T00:00:00Z", "to=2026-11-24T00:00:00Z", "from=yesterday&to=2026-11-24T00:00:00Z",
		"from=2026-11-24T00:00:00Z&to=2026-11-24T00:00:00Z", "format=xml",
	} {
		if a := call(t, "GET", op.URL+"/v1/totals?"+q, ""); a.status != 400 || a.code() != "bad_request" {
			t.Errorf("%s: %d %v", q, a.status, a.body)
		}
	}
}
