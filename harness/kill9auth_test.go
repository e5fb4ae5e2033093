package harness

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/device/clock"
	"showpos/terminal/request"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// TestKill9Authorizations: kill -9 posd at random moments while payers
// hand over EIP-3009 authorizations (offline: no chain); after every
// restart, every authorization a payer was told was accepted (202, or 200
// for a repeat) is in the store as an authorization, queued, once, and
// the same payload sent again after a lost answer is answered as a repeat.
func TestKill9Authorizations(t *testing.T) {
	log := harness(t)
	kills := sizeInt(t, "SHOWPOS_KILL9_AUTH_KILLS", 40, 15)
	payers := 8

	dir := t.TempDir()
	cfg := configWithAuthorizations(t, dir)
	d := newDaemon(t, log, dir, cfg)
	store := filepath.Join(dir, "data", "showpos.db")
	ctx := t.Context()
	if _, err := d.start(ctx); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	acked := map[string]string{} // authorization ID -> request
	lostAnswers, repeats := 0, 0
	payCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range payers {
		key, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 3))
			for n := 0; payCtx.Err() == nil; n++ {
				doc := createTUSDRequest(payCtx, d, fmt.Sprintf("1.%02d%04d", i, n))
				if doc == nil {
					return
				}
				body := signedAuthorization(key, doc, rng)
				lost := false
				for payCtx.Err() == nil {
					addr := d.networkAddr()
					var r reply
					var err error
					if addr == "" {
						err = errNotRunning
					} else {
						r, err = call(payCtx, d.net, "POST", "http://"+addr+"/api/showpos/broadcastTx", body)
					}
					if err == nil && !(r.status == http.StatusServiceUnavailable && r.code() == "unavailable") {
						var a struct{ TxHash string }
						json.Unmarshal(r.body, &a)
						mu.Lock()
						switch {
						case (r.status == http.StatusAccepted || r.status == http.StatusOK) && a.TxHash != "":
							acked[a.TxHash] = doc.ID
							if lost {
								lostAnswers++
							}
							if r.status == http.StatusOK {
								repeats++
							}
						default:
							t.Errorf("authorization for %s answered %d %s", doc.ID, r.status, r.body)
						}
						mu.Unlock()
						break
					}
					lost = lost || err != nil
					_ = clock.Sleep(payCtx, time.Duration(10+rng.IntN(20))*time.Millisecond)
				}
			}
		})
	}
	t.Cleanup(func() { stop(); wg.Wait() })

	rng := rand.New(rand.NewPCG(5, 5))
	check := func(when string) {
		t.Helper()
		mu.Lock()
		want := make(map[string]string, len(acked))
		for k, v := range acked {
			want[k] = v
		}
		mu.Unlock()
		list, err := d.authPayments(ctx)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		have := map[string]authPayment{}
		for _, p := range list {
			if _, dup := have[p.TxHash]; dup {
				t.Fatalf("%s: authorization %s stored twice", when, p.TxHash)
			}
			have[p.TxHash] = p
		}
		for id, req := range want {
			p, ok := have[id]
			if !ok || p.RequestID != req || p.Source != "authorization" || p.State != "queued" {
				t.Fatalf("%s: acknowledged authorization %s for %s is stored as %+v", when, id, req, p)
			}
		}
	}
	for k := range kills {
		time.Sleep(time.Duration(10+rng.IntN(290)) * time.Millisecond)
		d.kill()
		if err := checkStore(store); err != nil {
			t.Fatalf("kill %d: %v", k+1, err)
		}
		if _, err := d.start(ctx); err != nil {
			t.Fatalf("restart after kill %d: %v", k+1, err)
		}
		check(fmt.Sprintf("after kill %d", k+1))
	}
	stop()
	wg.Wait()
	check("at the end")
	mu.Lock()
	defer mu.Unlock()
	if len(acked) == 0 {
		t.Fatal("no authorization was acknowledged")
	}
	f := figures{name: "kill9: kill -9 while authorizations arrive"}
	f.add("kills", "%d", kills)
	f.add("authorizations acknowledged", "%d, all present once after every restart (%d answered 200 as a repeat, %d after a lost answer)", len(acked), repeats, lostAnswers)
	f.print()
}

// configWithAuthorizations is the headless terminal with TUSD, the dev
// token, taking EIP-3009 authorizations; no chain (they wait queued).
func configWithAuthorizations(t *testing.T, dir string) string {
	t.Helper()
	return terminalConfig(t, dir, "", "") + fmt.Sprintf(`
[[assets]]
symbol = "TUSD"
token = %q
decimals = 6
authorization = "eip3009"
domain_name = %q
domain_version = %q
`, devchain.TokenAddr.Hex(), devchain.TokenName, devchain.TokenVersion)
}

// createTUSDRequest makes a TUSD request on the operator socket, trying
// again while posd is down; nil when ctx ends.
func createTUSDRequest(ctx context.Context, d *daemon, amount string) *request.Document {
	for ctx.Err() == nil {
		r, err := d.operator(ctx, "POST", "/v1/requests", map[string]string{"amount": amount, "asset": "TUSD"})
		if err == nil && r.status == http.StatusCreated {
			if doc, err := request.ParseDocument(r.body); err == nil {
				return doc
			}
		}
		_ = clock.Sleep(ctx, 20*time.Millisecond)
	}
	return nil
}

// signedAuthorization is the handover JSON of an authorization of doc's
// x402 requirements, signed as an x402 client does.
func signedAuthorization(key *ecdsa.PrivateKey, doc *request.Document, rng *rand.Rand) []byte {
	req := doc.X402
	if req == nil {
		panic("the TUSD request advertises no x402 requirements")
	}
	a := devchain.Authorization{From: crypto.PubkeyToAddress(key.PublicKey), To: req.PayTo, Value: req.Amount,
		ValidAfter: new(big.Int), ValidBefore: big.NewInt(time.Now().Unix() + int64(req.MaxTimeoutSeconds))}
	for i := range a.Nonce {
		a.Nonce[i] = byte(rng.UintN(256))
	}
	sig, err := devchain.SignAuthorization(key, big.NewInt(1337), a)
	if err != nil {
		panic(err)
	}
	payload, err := paytx.PaymentPayload(req, paytx.Authorization{From: a.From, To: a.To, Value: a.Value,
		ValidAfter: a.ValidAfter, ValidBefore: a.ValidBefore, Nonce: a.Nonce, Signature: sig})
	if err != nil {
		panic(err)
	}
	return paytx.HandoverJSON(doc.ID, payload)
}

type authPayment struct {
	TxHash    string `json:"txHash"`
	Source    string `json:"source"`
	RequestID string `json:"requestId"`
	State     string `json:"state"`
}

// authPayments lists every stored payment with its source.
func (d *daemon) authPayments(ctx context.Context) ([]authPayment, error) {
	var all []authPayment
	after := uint64(0)
	for {
		r, err := d.operator(ctx, "GET", fmt.Sprintf("/v1/payments?limit=1000&after=%d", after), nil)
		if err != nil {
			return nil, err
		}
		var page struct {
			Payments []authPayment `json:"payments"`
			Next     uint64        `json:"next"`
		}
		if r.status != http.StatusOK || json.Unmarshal(r.body, &page) != nil {
			return nil, fmt.Errorf("list payments: %d %s", r.status, r.body)
		}
		all = append(all, page.Payments...)
		if page.Next == 0 {
			return all, nil
		}
		after = page.Next
	}
}
