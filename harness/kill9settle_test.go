package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"showpos/device/clock"
	"showpos/terminal/relaykey"
	"showpos/tools/devchain"
)

// TestKill9Settlements: kill -9 posd at random moments while payers hand
// over EIP-3009 authorizations and its relayer settles them on the dev
// chain (kills fall between a settlement's submission and its receipt).
// At the end every authorization stored is settled once: confirmed or
// final, none failed; the merchant holds exactly their sum; the relayer's
// account sent exactly one transaction per authorization (nothing sent
// twice); and the watcher counted no settlement as a payment of its own
// or an unmatched receipt.
func TestKill9Settlements(t *testing.T) {
	log := harness(t)
	kills := sizeInt(t, "SHOWPOS_KILL9_SETTLE_KILLS", 20, 8)
	each := sizeInt(t, "SHOWPOS_KILL9_SETTLE_EACH", 12, 5)
	ctx := t.Context()

	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o750); err != nil {
		t.Fatal(err)
	}
	relayer, _, err := relaykey.LoadOrCreate(filepath.Join(dir, "data", "relayer.key"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := devchain.Start(ctx, devchain.Options{Payers: 4, Fund: []common.Address{relayer.Address}})
	if err != nil {
		t.Fatalf("dev chain: %v", err)
	}
	t.Cleanup(func() { node.Close() })
	eth, err := ethclient.Dial(node.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eth.Close)
	cfg := terminalConfig(t, dir, fmt.Sprintf(`
rpc = [%q]
confirmations = 1
probe_every = "200ms"
`, node.Endpoint()), `
[watch]
poll = "100ms"
[relay]
poll = "100ms"
`) + fmt.Sprintf(`
[[assets]]
symbol = "TUSD"
token = %q
decimals = 6
authorization = "eip3009"
domain_name = %q
domain_version = %q
`, devchain.TokenAddr.Hex(), devchain.TokenName, devchain.TokenVersion)
	d := newDaemon(t, log, dir, cfg)
	store := filepath.Join(dir, "data", "showpos.db")
	if _, err := d.start(ctx); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	acked := map[string]bool{}
	var merchant common.Address
	payCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i, payer := range node.Payers() {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for n := 0; n < each && payCtx.Err() == nil; n++ {
				doc := createTUSDRequest(payCtx, d, fmt.Sprintf("1.%02d%04d", i, n))
				if doc == nil {
					return
				}
				body := signedAuthorization(payer.Key, doc, rng)
				for payCtx.Err() == nil {
					if addr := d.networkAddr(); addr != "" {
						r, err := call(payCtx, d.net, "POST", "http://"+addr+"/api/showpos/broadcastTx", body)
						if err == nil && !(r.status == http.StatusServiceUnavailable && r.code() == "unavailable") {
							var a struct{ TxHash string }
							json.Unmarshal(r.body, &a)
							mu.Lock()
							if (r.status == http.StatusAccepted || r.status == http.StatusOK) && a.TxHash != "" {
								acked[a.TxHash], merchant = true, doc.X402.PayTo
							} else {
								t.Errorf("authorization for %s answered %d %s", doc.ID, r.status, r.body)
							}
							mu.Unlock()
							break
						}
					}
					_ = clock.Sleep(payCtx, time.Duration(10+rng.IntN(20))*time.Millisecond)
				}
			}
		})
	}
	t.Cleanup(func() { stop(); wg.Wait() })

	rng := rand.New(rand.NewPCG(9, 9))
	for k := range kills {
		time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond)
		d.kill()
		if err := checkStore(store); err != nil {
			t.Fatalf("kill %d: %v", k+1, err)
		}
		if _, err := d.start(ctx); err != nil {
			t.Fatalf("restart after kill %d: %v", k+1, err)
		}
	}
	wg.Wait() // every payer has handed over all of its authorizations
	stop()

	type listed struct {
		TxHash, Source, State, Amount, Reason, Settlement string
	}
	var settled []listed
	deadline := time.Now().Add(60 * time.Second)
	for {
		all, err := listAll(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		settled = settled[:0]
		open := 0
		for _, raw := range all {
			var p listed
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatal(err)
			}
			switch {
			case p.Source == "chain":
				t.Fatalf("the watcher counted a transfer as its own payment: %s", raw)
			case p.State == "failed":
				t.Fatalf("authorization failed: %s", raw)
			case p.State == "confirmed" || p.State == "final":
				settled = append(settled, p)
			default:
				open++
			}
		}
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d authorizations not settled after 60s", open)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The watcher reads every block the settlements are in before the
	// listings below are taken as its word.
	head := node.Head()
	for {
		r, err := d.operator(ctx, "GET", "/v1/status", nil)
		if err != nil {
			t.Fatal(err)
		}
		var st struct{ Watch struct{ Height uint64 } }
		if err := json.Unmarshal(r.body, &st); err != nil {
			t.Fatal(err)
		}
		if st.Watch.Height >= head {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the watcher is at block %d, the head at %d", st.Watch.Height, head)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if all, err := listAll(ctx, d); err != nil {
		t.Fatal(err)
	} else if len(all) != len(settled) {
		t.Fatalf("%d payments stored for %d settled authorizations", len(all), len(settled))
	}
	mu.Lock()
	defer mu.Unlock()
	byID := map[string]listed{}
	sum := new(big.Int)
	for _, p := range settled {
		if _, dup := byID[p.TxHash]; dup {
			t.Fatalf("authorization %s stored twice", p.TxHash)
		}
		byID[p.TxHash] = p
		a, _ := new(big.Int).SetString(p.Amount, 10)
		sum.Add(sum, a)
		r, err := eth.TransactionReceipt(ctx, common.HexToHash(p.Settlement))
		if err != nil || r.Status != 1 {
			t.Fatalf("settlement %s of %s: %+v %v", p.Settlement, p.TxHash, r, err)
		}
	}
	for id := range acked {
		if _, ok := byID[id]; !ok {
			t.Fatalf("acknowledged authorization %s is not settled", id)
		}
	}
	if len(acked) == 0 {
		t.Fatal("no authorization was acknowledged")
	}
	held := tokenBalanceOf(t, eth, merchant)
	if held.Cmp(sum) != 0 {
		t.Fatalf("the merchant holds %s TUSD units, the authorizations sum to %s", held, sum)
	}
	sent, err := eth.NonceAt(ctx, relayer.Address, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sent != uint64(len(settled)) {
		t.Fatalf("the relayer sent %d transactions for %d authorizations", sent, len(settled))
	}
	unmatched, err := d.operator(ctx, "GET", "/v1/payments?state=unmatched", nil)
	var none struct{ Payments []json.RawMessage }
	if err != nil || json.Unmarshal(unmatched.body, &none) != nil || len(none.Payments) != 0 {
		t.Fatalf("unmatched receipts: %s %v", unmatched.body, err)
	}
	f := figures{name: "kill9: kill -9 while authorizations settle"}
	f.add("kills", "%d", kills)
	f.add("authorizations", "%d settled once (%d acknowledged), one relayer transaction each, the merchant holds their sum", len(settled), len(acked))
	f.print()
}

// listAll lists every stored payment as raw JSON.
func listAll(ctx context.Context, d *daemon) ([]json.RawMessage, error) {
	var all []json.RawMessage
	after := uint64(0)
	for {
		r, err := d.operator(ctx, "GET", fmt.Sprintf("/v1/payments?limit=1000&after=%d", after), nil)
		if err != nil {
			return nil, err
		}
		var page struct {
			Payments []json.RawMessage `json:"payments"`
			Next     uint64            `json:"next"`
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

// tokenBalanceOf is holder's Test USD balance at the head.
func tokenBalanceOf(t *testing.T, c *ethclient.Client, holder common.Address) *big.Int {
	t.Helper()
	data := append(common.FromHex("0x70a08231"), common.LeftPadBytes(holder[:], 32)...) // balanceOf(address)
	out, err := c.CallContract(t.Context(), ethereum.CallMsg{To: &devchain.TokenAddr, Data: data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return new(big.Int).SetBytes(out)
}
