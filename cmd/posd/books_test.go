package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/request"
	"showpos/tools/paytx"
)

// posd serves the books on its socket and, to a register, on the network;
// a Z it took is the same after a restart, and its key still answers it.
func TestPosdClosesTheDay(t *testing.T) {
	tm := newTerminal(t, headless)
	number, key := tm.addClient("Till 4 register", "register")
	a := tm.send(tm.sign("POST", "/v1/requests", `{"amount":"0.02"}`, number, key))
	doc, err := request.ParseDocument(a.raw)
	if err != nil {
		t.Fatalf("request: %d %s", a.status, a.raw)
	}
	payer, _ := crypto.GenerateKey()
	tx, _ := paytx.Build(doc.Request(), payer, paytx.Options{})
	raw, _ := tx.MarshalBinary()
	in, _ := json.Marshal(map[string]string{"requestId": doc.ID, "rawTx": hexutil.Encode(raw)})
	resp, err := http.Post("http://"+tm.addr+"/api/showpos/broadcastTx", "application/json", bytes.NewReader(in))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("pay: %v %v", resp, err)
	}
	resp.Body.Close()

	if x := tm.operator("GET", "/v1/reports/x", ""); x.status != 200 || len(x.body["assets"].([]any)) != 1 {
		t.Fatalf("X on the socket: %d %s", x.status, x.raw)
	}
	if f := tm.operator("GET", "/v1/failures", ""); f.status != 200 || f.body["open"] != float64(0) {
		t.Errorf("failures on the socket: %d %s", f.status, f.raw)
	}
	z := tm.send(tm.sign("POST", "/v1/reports/z", `{"key":"close-1"}`, number, key))
	if z.status != http.StatusCreated || z.body["number"] != float64(1) {
		t.Fatalf("Z on the network: %d %s", z.status, z.raw)
	}
	tm.restart()
	again := tm.operator("POST", "/v1/reports/z", `{"key":"close-1"}`)
	if again.status != 200 || again.body["number"] != float64(1) || again.body["to"] != z.body["to"] {
		t.Errorf("Z again with its key after a restart: %d %s", again.status, again.raw)
	}
	if last := tm.send(tm.sign("GET", "/v1/reports/z/last", "", number, key)); last.status != 200 || !bytes.Equal(last.raw, z.raw) {
		t.Errorf("the last Z after a restart:\n%s\nwant\n%s", last.raw, z.raw)
	}
}
