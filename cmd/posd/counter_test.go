package main

import (
	"bytes"
	"encoding/json"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"showpos/drivers/virtual"
	"showpos/terminal/httpapi"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// A day at the counter, as the README walks through it: the cashier keys
// 4.50 in euros on the simulated keypad, the payer picks a 10 % tip, the
// request is priced by the dev chain's ETH / EUR feed (2600.00) and signs
// the price; paid, the receipt comes out of the printer with the euro
// amount, its signed JSON says the same, and the Z report taken at the
// close sums the euros and the tip and is printed too.
func TestADayAtTheCounterInEuros(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon with a dev chain")
	}
	node, dir, addr := startTerminalWith(t, `currency = "EUR"
[tips]
enabled = true`, `assets = [{ symbol = "ETH", price_feed = "`+devchain.FeedETHEUR.Address.Hex()+`", price_heartbeat = "1h" }]`,
		simBoard(anyPort)+`
[board.printer]
driver = "virtual"
columns = 32
`)
	op := unixClient(filepath.Join(dir, "data", "posd.sock"))
	sim := simPage(t, dir)

	// posd reads the feed at start; the cashier keys euros once it has.
	waitUntil(t, "a usable ETH/EUR rate in status", func() bool {
		rates := status(t, op).Rates
		return len(rates) == 1 && rates[0].Usable
	})
	if r := status(t, op).Rates[0]; r.Source != "chainlink:"+devchain.FeedETHEUR.Address.Hex() || r.Price != "2600.00000000" {
		t.Fatalf("rate in status %+v", r)
	}
	press(t, sim, "4", ".", "5", "0", "enter") // EUR 4.50
	press(t, sim, "1")                         // the payer's tip: 10 %
	waitQR(t, sim)
	doc := fetchRequest(t, addr)
	if _, err := doc.Verify(); err != nil {
		t.Fatal(err)
	}
	f := doc.Fiat
	if f == nil || f.Rate.Currency != "EUR" || f.Amount.Int64() != 495 || f.Tip.Int64() != 45 ||
		f.Rate.Answer.Cmp(big.NewInt(2600e8)) != 0 || f.Rate.Decimals != 8 || f.Rate.Source != "chainlink:"+devchain.FeedETHEUR.Address.Hex() {
		t.Fatalf("signed price %+v", f)
	}
	// 4.95 EUR at 2600 EUR/ETH is 1903846153846153.85 wei: rounded up,
	// plus the till's uniqueness tail (under 1000 wei); the tip, 0.45 EUR,
	// is 173076923076923.08 wei, rounded up.
	least := big.NewInt(1903846153846154)
	if doc.Amount.Cmp(least) < 0 || new(big.Int).Sub(doc.Amount, least).Cmp(big.NewInt(1000)) >= 0 {
		t.Errorf("amount %s wei, want %s plus a tail under 1000", doc.Amount, least)
	}
	if doc.Tip == nil || doc.Tip.Cmp(big.NewInt(173076923076924)) != 0 {
		t.Errorf("tip %v wei, want 173076923076924", doc.Tip)
	}

	tx, err := paytx.Build(doc.Request(), node.Payers()[0].Key, paytx.Options{FeeCap: big.NewInt(50e9)})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	body, _ := json.Marshal(map[string]string{"requestId": doc.ID, "rawTx": hexutil.Encode(raw)})
	resp, err := http.Post("http://"+addr+"/api/showpos/broadcastTx", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("broadcastTx: %s", resp.Status)
	}

	// The receipt, on paper and signed.
	slip := waitPrinted(t, sim, func(text string) bool { return strings.Contains(text, doc.ID) })
	for _, want := range []string{"4.95 EUR", "1 ETH = 2600.00000000 EUR"} {
		if !strings.Contains(slip, want) {
			t.Errorf("printed receipt lacks %q:\n%s", want, slip)
		}
	}
	var signed struct {
		TypedData struct {
			Message map[string]any `json:"message"`
		} `json:"typedData"`
	}
	getJSON(t, "http://"+addr+"/receipt/"+doc.ID+"?format=json", &signed)
	m := signed.TypedData.Message
	if m["fiatAmount"] != "4.95" || m["currency"] != "EUR" || m["tip"] != doc.Tip.String() {
		t.Errorf("signed receipt says %v %v, tip %v", m["fiatAmount"], m["currency"], m["tip"])
	}

	// The close: one Z, summing the euros and the tip, printed.
	req, _ := http.NewRequest("POST", "http://posd/v1/reports/z", strings.NewReader(`{"key":"close-1"}`))
	a := do(t, op, req)
	var z struct {
		Number uint64 `json:"number"`
		Fiat   []struct {
			Currency string
			Taken    struct {
				Count  int
				Amount string
			}
			Tips struct {
				Count  int
				Amount string
			}
		} `json:"fiat"`
	}
	if a.status != http.StatusCreated || json.Unmarshal(a.raw, &z) != nil {
		t.Fatalf("Z: %d %s", a.status, a.raw)
	}
	if z.Number != 1 || len(z.Fiat) != 1 || z.Fiat[0].Currency != "EUR" || z.Fiat[0].Taken.Amount != "4.95" || z.Fiat[0].Tips.Amount != "0.45" {
		t.Errorf("Z report: %s", a.raw)
	}
	paper := waitPrinted(t, sim, func(text string) bool { return strings.Contains(text, "Z REPORT 1") })
	if !strings.Contains(paper, "EUR") || !strings.Contains(paper, "4.95") {
		t.Errorf("printed Z lacks the euro sums:\n%s", paper)
	}
}

// status is the terminal's GET /v1/status on its operator socket.
func status(t *testing.T, op *http.Client) httpapi.Status {
	t.Helper()
	var st httpapi.Status
	req, _ := http.NewRequest("GET", "http://posd/v1/status", nil)
	a := do(t, op, req)
	if a.status != http.StatusOK || json.Unmarshal(a.raw, &st) != nil {
		t.Fatalf("status: %d %s", a.status, a.raw)
	}
	return st
}

// press presses keys on the simulator's keypad.
func press(t *testing.T, sim string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		resp, err := http.Post(sim+"/sim/key", "application/json", strings.NewReader(`{"key":"`+k+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("key %s: %s", k, resp.Status)
		}
	}
}

// waitPrinted waits for a receipt on the simulator's paper whose text
// (its lines joined) satisfies ok, and returns that text.
func waitPrinted(t *testing.T, sim string, ok func(string) bool) string {
	t.Helper()
	var last []string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var p struct {
			Receipts []virtual.Receipt `json:"receipts"`
		}
		getJSON(t, sim+"/sim/printer", &p)
		last = last[:0]
		for _, r := range p.Receipts {
			var b strings.Builder
			for _, l := range r.Lines {
				b.WriteString(l.Text + l.QR + "\n")
			}
			if ok(b.String()) {
				return b.String()
			}
			last = append(last, b.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("not printed; the paper holds:\n%s", strings.Join(last, "\n"))
	return ""
}

// waitUntil polls ok for up to 30 s.
func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
