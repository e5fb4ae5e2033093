package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"go.etcd.io/bbolt"

	"showpos/tools/paytx"
)

// posd starts on a store whose queued payment's record is damaged: the
// start does not read the queue, so it starts; its scrub after READY finds
// the damage in what matters to money: the status and the metrics say so,
// and a new sale is refused store_damaged.
func TestPosdScrubReportsDamageAfterReadyAndRefusesSales(t *testing.T) {
	tm := newTerminal(t, headless+"[store]\nscrub_rate = \"0\"\n")
	doc, a := tm.newRequest("0.02")
	if doc == nil {
		t.Fatalf("new request: %d %s", a.status, a.raw)
	}
	payer, _ := crypto.GenerateKey()
	tx, err := paytx.Build(doc, payer, paytx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	in, _ := json.Marshal(map[string]string{"requestId": doc.ID, "rawTx": hexutil.Encode(raw)})
	resp, err := http.Post("http://"+tm.addr+"/api/showpos/broadcastTx", "application/json", bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("pay: %d", resp.StatusCode)
	}
	tm.stop()

	// One bit of the payment's stored value flipped, its checksum kept.
	db, err := bbolt.Open(filepath.Join(tm.dir, "data", "showpos.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(btx *bbolt.Tx) error {
		b := btx.Bucket([]byte("payments"))
		h := tx.Hash()
		v := append([]byte(nil), b.Get(h[:])...)
		if len(v) == 0 {
			t.Fatalf("payment %s not stored", h)
		}
		v[0] ^= 0x01
		return b.Put(h[:], v)
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	tm.start()
	deadline := time.Now().Add(30 * time.Second)
	var scrub map[string]any
	for {
		st := tm.operator("GET", "/v1/status", "")
		store, _ := st.body["store"].(map[string]any)
		scrub, _ = store["scrub"].(map[string]any)
		if scrub["state"] == "done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scrub did not finish: %s", st.raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if scrub["damaged"] != 1.0 || scrub["moneyDamaged"] != true {
		t.Fatalf("status.store.scrub: %v", scrub)
	}
	if _, a := tm.newRequest("0.03"); a.status != http.StatusInternalServerError || a.code() != "store_damaged" {
		t.Errorf("a sale after money damage: %d %s, want 500 store_damaged", a.status, a.raw)
	}
	m := tm.operator("GET", "/metrics", "")
	for _, want := range []string{"showpos_store_verified 1\n", "showpos_store_damaged_records 1\n", "showpos_store_scrub_checked_bytes "} {
		if !strings.Contains(string(m.raw), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
