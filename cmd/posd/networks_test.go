package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"showpos/terminal/config"
	"showpos/terminal/fleet"
	"showpos/terminal/relaykey"
	"showpos/terminal/request"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// cutProxy stands between posd and one dev chain: while cut, every
// JSON-RPC call is answered 503, as by a gateway whose node is gone.
type cutProxy struct {
	cut   atomic.Bool
	delay atomic.Int64 // each call is answered this many nanoseconds late
	rp    *httputil.ReverseProxy
}

func (p *cutProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.cut.Load() {
		http.Error(w, "no node", http.StatusServiceUnavailable)
		return
	}
	time.Sleep(time.Duration(p.delay.Load()))
	p.rp.ServeHTTP(w, r)
}

// devNet is one dev chain and the proxy posd reaches it through.
type devNet struct {
	name  string
	chain *devchain.Chain
	proxy *cutProxy
	url   string // the proxy's
}

// startDevNets starts dev chains with the ids, each behind a cutProxy,
// named a, b, …
func startDevNets(t *testing.T, ids ...uint64) []*devNet {
	t.Helper()
	return startFundedDevNets(t, nil, ids...)
}

// startFundedDevNets is startDevNets with more accounts funded in the
// native coin on every chain (a terminal's relayer).
func startFundedDevNets(t *testing.T, fund []common.Address, ids ...uint64) []*devNet {
	t.Helper()
	var out []*devNet
	for i, id := range ids {
		c, err := devchain.Start(context.Background(), devchain.Options{ChainID: id, Payers: 2, Fund: fund})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		u, _ := url.Parse(c.Endpoint())
		p := &cutProxy{rp: httputil.NewSingleHostReverseProxy(u)}
		srv := httptest.NewServer(p)
		t.Cleanup(srv.Close)
		out = append(out, &devNet{name: string(rune('a' + i)), chain: c, proxy: p, url: srv.URL})
	}
	return out
}

// networksTOML is the [[networks]] of nets, each taking ETH (the
// default asset) and the dev chain's TUSD by EIP-3009 authorization,
// confirmed at one block (final at the dev chain's finalized block).
func networksTOML(nets ...*devNet) string {
	var b strings.Builder
	for _, n := range nets {
		fmt.Fprintf(&b, "\n[[networks]]\nname = %q\nchain_id = %d\nrpc = [%q]\nprobe_every = \"200ms\"\nfinal_depth = 3\n"+
			"[[networks.assets]]\nsymbol = \"ETH\"\nmax_unsettled = \"50\"\n"+
			"[[networks.assets]]\nsymbol = \"TUSD\"\ntoken = %q\ndecimals = 6\nmin_gas = 45000\nauthorization = \"eip3009\"\ndomain_name = \"Test USD\"\ndomain_version = \"2\"\n",
			n.name, n.chain.ChainID().Uint64(), n.url, devchain.TokenAddr.Hex())
	}
	return b.String()
}

// startNetworksTerminal runs posd in process on the networks, with more
// TOML (a [fleet] table, say), until the test ends.
func startNetworksTerminal(t *testing.T, more string, nets ...*devNet) *terminal {
	t.Helper()
	dir := t.TempDir()
	tm := &terminal{t: t, dir: dir, cfgPath: filepath.Join(dir, "posd.toml"),
		op: unixClient(filepath.Join(dir, "data", "posd.sock")), stop: func() {}}
	text := fmt.Sprintf(`
[terminal]
id = "two-nets"
data_dir = %q
[merchant]
address = "0x000000000000000000000000000000000000dEaD"
[broadcast]
poll = "50ms"
[watch]
poll = "100ms"
`, filepath.Join(dir, "data")) + more + networksTOML(nets...)
	if err := os.WriteFile(tm.cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	tm.start()
	t.Cleanup(func() { tm.stop() }) // the daemon running at the end, whichever
	return tm
}

// offer is the request's option on the chain, or the test fails.
func offer(t *testing.T, doc *request.Document, chainID uint64) request.Offer {
	t.Helper()
	for _, o := range doc.Offers {
		if o.ChainID == chainID {
			return o
		}
	}
	t.Fatalf("request %s offers %+v, not chain %d", doc.ID, doc.Offers, chainID)
	return request.Offer{}
}

// newDoc makes a request of amount ETH on the operator socket.
func (tm *terminal) newDoc(amount string) *request.Document {
	tm.t.Helper()
	return tm.newDocIn(amount, "ETH")
}

// newDocIn makes a request of amount of the asset on the operator socket.
func (tm *terminal) newDocIn(amount, symbol string) *request.Document {
	tm.t.Helper()
	a := tm.operator("POST", "/v1/requests", `{"amount":"`+amount+`","asset":"`+symbol+`"}`)
	if a.status != http.StatusCreated {
		tm.t.Fatalf("new request: %d %s", a.status, a.raw)
	}
	doc, err := request.ParseDocument(a.raw)
	if err != nil {
		tm.t.Fatal(err)
	}
	return doc
}

// payOn hands over a payment of doc on n's chain, from n's first payer
// with the nonce, and returns the answer's status, body and transaction.
func (tm *terminal) payOn(doc *request.Document, n *devNet, nonce uint64) (int, []byte, *types.Transaction) {
	tm.t.Helper()
	o := offer(tm.t, doc, n.chain.ChainID().Uint64())
	r := doc.Request()
	r.ChainID, r.Asset.Token = o.ChainID, o.Token
	tx, err := paytx.Build(r, n.chain.Payers()[0].Key, paytx.Options{Nonce: nonce, FeeCap: big.NewInt(50e9)})
	if err != nil {
		tm.t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	in, _ := json.Marshal(map[string]string{"requestId": doc.ID, "rawTx": hexutil.Encode(raw)})
	resp, err := http.Post("http://"+tm.addr+"/api/showpos/broadcastTx", "application/json", bytes.NewReader(in))
	if err != nil {
		tm.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body, tx
}

// authorizeOn pays doc (a TUSD request) on n's chain by an EIP-3009
// authorization from n's first payer, signed over that chain's token
// domain for that offer's x402 requirements, and returns the answer's
// status and body and the payment's id (the authorization's digest).
func (tm *terminal) authorizeOn(doc *request.Document, n *devNet) (int, []byte, common.Hash) {
	tm.t.Helper()
	o := offer(tm.t, doc, n.chain.ChainID().Uint64())
	req := o.X402
	if req == nil || req.Network != fmt.Sprintf("eip155:%d", o.ChainID) || req.Asset != o.Token {
		tm.t.Fatalf("offer on %s: x402 %+v, want its own chain and token", n.name, req)
	}
	key := n.chain.Payers()[0].Key
	a := devchain.Authorization{From: n.chain.Payers()[0].Address, To: req.PayTo, Value: req.Amount, ValidAfter: new(big.Int),
		ValidBefore: big.NewInt(time.Now().Unix() + int64(req.MaxTimeoutSeconds))}
	if _, err := crand.Read(a.Nonce[:]); err != nil {
		tm.t.Fatal(err)
	}
	sig, err := devchain.SignAuthorization(key, n.chain.ChainID(), a)
	if err != nil {
		tm.t.Fatal(err)
	}
	payload, err := paytx.PaymentPayload(req, paytx.Authorization{From: a.From, To: a.To, Value: a.Value,
		ValidAfter: a.ValidAfter, ValidBefore: a.ValidBefore, Nonce: a.Nonce, Signature: sig})
	if err != nil {
		tm.t.Fatal(err)
	}
	resp, err := http.Post("http://"+tm.addr+"/api/showpos/broadcastTx", "application/json", bytes.NewReader(paytx.HandoverJSON(doc.ID, payload)))
	if err != nil {
		tm.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var answer struct {
		TxHash common.Hash `json:"txHash"`
	}
	json.Unmarshal(body, &answer)
	return resp.StatusCode, body, answer.TxHash
}

// tokenBalance is addr's TUSD balance on the chain.
func tokenBalance(t *testing.T, c *devchain.Chain, addr common.Address) *big.Int {
	t.Helper()
	ec, err := ethclient.Dial(c.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	data := append([]byte{0x70, 0xa0, 0x82, 0x31}, common.LeftPadBytes(addr.Bytes(), 32)...) // balanceOf(address)
	out, err := ec.CallContract(context.Background(), ethereum.CallMsg{To: &devchain.TokenAddr, Data: data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return new(big.Int).SetBytes(out)
}

// paymentState is the payment's state in the store, "" if it has none.
func (tm *terminal) paymentState(hash common.Hash) string {
	tm.t.Helper()
	a := tm.operator("GET", "/v1/payments?limit=1000", "")
	var list struct {
		Payments []struct {
			TxHash string `json:"txHash"`
			State  string `json:"state"`
		} `json:"payments"`
	}
	if err := json.Unmarshal(a.raw, &list); err != nil {
		tm.t.Fatalf("payments: %d %s", a.status, a.raw)
	}
	for _, p := range list.Payments {
		if strings.EqualFold(p.TxHash, hash.Hex()) {
			return p.State
		}
	}
	return ""
}

// waitState waits until the payment is in one of the states.
func (tm *terminal) waitState(hash common.Hash, states ...string) {
	tm.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := tm.paymentState(hash)
		for _, s := range states {
			if got == s {
				return
			}
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("payment %s is %q, want one of %v", hash.Hex(), got, states)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// finalize mines blocks on n until the payment is final: the dev chain's
// simulated beacon finalizes every 32nd block, and the broadcaster takes
// the node's finalized tag over final_depth.
func (tm *terminal) finalize(n *devNet, hash common.Hash) {
	tm.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for tm.paymentState(hash) != "final" {
		if time.Now().After(deadline) {
			tm.t.Fatalf("payment %s on %s is %q, not final", hash.Hex(), n.name, tm.paymentState(hash))
		}
		if err := n.chain.Mine(8); err != nil {
			tm.t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// networkStatusView is one network of /v1/status.
type networkStatusView struct {
	Name   string         `json:"name"`
	Online bool           `json:"online"`
	Queue  map[string]int `json:"queue"`
}

func (tm *terminal) networks() (online bool, nets map[string]networkStatusView) {
	tm.t.Helper()
	a := tm.operator("GET", "/v1/status", "")
	var st struct {
		Online   bool                `json:"online"`
		Networks []networkStatusView `json:"networks"`
	}
	if err := json.Unmarshal(a.raw, &st); err != nil {
		tm.t.Fatal(err)
	}
	nets = map[string]networkStatusView{}
	for _, n := range st.Networks {
		nets[n.Name] = n
	}
	return st.Online, nets
}

// mined reports the transaction's receipt status on the chain (false if
// it has none).
func mined(t *testing.T, c *devchain.Chain, hash common.Hash) bool {
	t.Helper()
	ec, err := ethclient.Dial(c.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	r, err := ec.TransactionReceipt(context.Background(), hash)
	return err == nil && r.Status == 1
}

// A terminal on two networks, one of them offline: a request offers both;
// paid on the online one it confirms there, paid on the offline one it is
// taken and queued, and status says which network is offline; a second
// payment of a paid request on the other network is refused; when the
// offline network comes back its payment confirms, and neither chain got
// the other's transaction.
func TestTwoNetworksOneOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two dev chains")
	}
	nets := startDevNets(t, 1337, 1338)
	a, b := nets[0], nets[1]
	b.proxy.cut.Store(true)
	tm := startNetworksTerminal(t, "", a, b)

	first := tm.newDoc("0.5")
	if len(first.Offers) != 2 || first.Offers[0].Network != "a" || first.Offers[1].Network != "b" {
		t.Fatalf("offers %+v, want a then b", first.Offers)
	}
	code, body, txA := tm.payOn(first, a, 0)
	if code != http.StatusAccepted {
		t.Fatalf("pay on a: %d %s", code, body)
	}
	second := tm.newDoc("0.25")
	code, body, txB := tm.payOn(second, b, 0) // the same sender and nonce, on the other chain
	if code != http.StatusAccepted {
		t.Fatalf("pay on b (offline): %d %s", code, body)
	}
	tm.waitState(txA.Hash(), "confirmed", "final")
	if got := tm.paymentState(txB.Hash()); got != "queued" {
		t.Errorf("b's payment is %q while b is offline, want queued", got)
	}
	online, st := tm.networks()
	if online || !st["a"].Online || st["b"].Online {
		t.Errorf("status online %v, networks %+v: want a online, b offline, the terminal not all online", online, st)
	}
	if st["b"].Queue["queued"] != 1 || st["a"].Queue["queued"] != 0 {
		t.Errorf("queues %+v: want b's payment queued on b alone", st)
	}
	// The first request is paid: its amount on b pays nothing.
	if code, body, _ := tm.payOn(first, b, 1); code == http.StatusAccepted || !strings.Contains(string(body), "already_paid") {
		t.Errorf("second payment of a paid request on the other network: %d %s, want already_paid", code, body)
	}

	b.proxy.cut.Store(false)
	tm.waitState(txB.Hash(), "confirmed", "final")
	if !mined(t, a.chain, txA.Hash()) || !mined(t, b.chain, txB.Hash()) {
		t.Error("a payment is not mined on its own chain")
	}
	if mined(t, b.chain, txA.Hash()) || mined(t, a.chain, txB.Hash()) {
		t.Error("a payment was sent to the other network")
	}
	if online, _ := tm.networks(); !online {
		t.Error("both networks back, status still offline")
	}
}

// A fleet bundle adds a network to a running terminal: its parts start,
// requests offer it and a payment on it settles there. A bundle removing
// it while a payment on it is open is refused network_open; once the
// payment is final the same removal is taken and the network stops.
func TestBundleAddsAndRemovesANetworkLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two dev chains")
	}
	nets := startDevNets(t, 1337, 1338)
	a, b := nets[0], nets[1]
	priv, fleetTable := fleetKeys(t)
	tm := startNetworksTerminal(t, fleetTable, a)
	if _, st := tm.networks(); len(st) != 1 {
		t.Fatalf("networks %+v, want a alone", st)
	}
	push := func(v uint64, nets ...*devNet) answer {
		return tm.operator("POST", "/v1/fleet/bundle", bundle(t, priv, fleet.Payload{Version: v, Config: networksTOML(nets...)}))
	}
	if r := push(1, a, b); r.status != http.StatusOK {
		t.Fatalf("bundle adding b: %d %s", r.status, r.raw)
	}
	until(t, "b online", func() bool { _, st := tm.networks(); return st["b"].Online })
	doc := tm.newDoc("0.3")
	b.proxy.cut.Store(true) // the payment stays open on b
	code, body, tx := tm.payOn(doc, b, 0)
	if code != http.StatusAccepted {
		t.Fatalf("pay on the added network: %d %s", code, body)
	}
	r := push(2, a)
	if r.status != http.StatusConflict || r.code() != fleet.CodeNetworkOpen {
		t.Fatalf("bundle removing b with a payment open: %d %s, want 409 network_open", r.status, r.raw)
	}
	if _, st := tm.networks(); len(st) != 2 {
		t.Fatalf("a refused bundle changed the networks: %+v", st)
	}
	b.proxy.cut.Store(false)
	tm.waitState(tx.Hash(), "confirmed", "final")
	tm.finalize(b, tx.Hash())
	if r := push(3, a); r.status != http.StatusOK {
		t.Fatalf("bundle removing a settled b: %d %s", r.status, r.raw)
	}
	if _, st := tm.networks(); len(st) != 1 || !st["a"].Online {
		t.Errorf("networks %+v, want a alone", st)
	}
	if doc := tm.newDoc("0.3"); len(doc.Offers) > 1 {
		t.Errorf("offers %+v after b is removed", doc.Offers)
	}
}

// A payment confirmed on one network whose block that network then loses
// goes back to broadcast and is sent again and confirmed, while the other
// network's payment settles untouched.
func TestReorgOnOneNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two dev chains")
	}
	nets := startDevNets(t, 1337, 1338)
	a, b := nets[0], nets[1]
	tm := startNetworksTerminal(t, "", a, b)
	_, _, txA := tm.payOn(tm.newDoc("0.5"), a, 0)
	_, _, txB := tm.payOn(tm.newDoc("0.5"), b, 0)
	tm.waitState(txB.Hash(), "confirmed")
	tm.waitState(txA.Hash(), "confirmed")
	head := b.chain.Head()
	if err := b.chain.Rewind(head - 1); err != nil {
		t.Fatal(err)
	}
	if err := b.chain.Mine(2); err != nil { // another block at its height
		t.Fatal(err)
	}
	until(t, "b's payment reorged and confirmed again", func() bool {
		m := tm.operator("GET", "/metrics", "")
		return strings.Contains(string(m.raw), `showpos_broadcast_outcomes_total{network="b",outcome="reorged"} 1`) &&
			tm.paymentState(txB.Hash()) == "confirmed" && mined(t, b.chain, txB.Hash())
	})
	if m := tm.operator("GET", "/metrics", ""); strings.Contains(string(m.raw), `showpos_broadcast_outcomes_total{network="a",outcome="reorged"}`) {
		t.Error("network a counted a reorg")
	}
	tm.finalize(a, txA.Hash())
}

// kill -9 while payments on two networks are being settled, again and
// again: after the last restart every payment that was answered accepted
// is in the store and ends confirmed or final, mined once on its own
// chain and never on the other; each payer's nonces on each chain are
// used without a gap. The same sender and nonce pay on both chains.
// Authorizations on both networks are settled by the relayer once each:
// the merchant receives each one's tokens once, on its own chain, and the
// relayer's account spends one nonce per authorization there.
func TestKillDuringSettlementOnTwoNetworks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds posd, runs two dev chains and kills the daemon")
	}
	bin := buildPosd(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	relayer, _, err := relaykey.LoadOrCreate(filepath.Join(dir, "data", relayKeyName))
	if err != nil {
		t.Fatal(err)
	}
	nets := startFundedDevNets(t, []common.Address{relayer.Address}, 1337, 1338)
	merchant := common.HexToAddress("0x000000000000000000000000000000000000dEaD")
	tm := &terminal{t: t, dir: dir, cfgPath: filepath.Join(dir, "posd.toml"), op: unixClient(filepath.Join(dir, "data", "posd.sock"))}
	text := fmt.Sprintf("[terminal]\nid = \"kill-nets\"\ndata_dir = %q\n[merchant]\naddress = \"0x000000000000000000000000000000000000dEaD\"\n[broadcast]\npoll = \"20ms\"\n",
		filepath.Join(dir, "data")) + networksTOML(nets...)
	if err := os.WriteFile(tm.cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "-config", tm.cfgPath, "-listen", anyPort)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			req, _ := http.NewRequest("GET", "http://posd/v1/status", nil)
			if resp, err := tm.op.Do(req); err == nil {
				var st struct {
					Listen struct {
						API string `json:"api"`
					} `json:"listen"`
				}
				json.NewDecoder(resp.Body).Decode(&st)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					tm.addr = st.Listen.API
					return cmd
				}
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatal("posd did not come up")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	type sent struct {
		net *devNet
		tx  *types.Transaction
	}
	var accepted []sent
	nonce := map[*devNet]uint64{}
	authorized := map[*devNet][]common.Hash{}
	authorizedValue := map[*devNet]*big.Int{}
	for _, n := range nets {
		authorizedValue[n] = new(big.Int)
	}
	const rounds = 12
	for round := range rounds {
		cmd := start()
		// Two payments a round, one on each network, then a kill while
		// their broadcasters and the store are at work.
		for _, n := range nets {
			code, body, tx := tm.payOn(tm.newDoc(fmt.Sprintf("0.0%d", round%9+1)), n, nonce[n])
			if code != http.StatusAccepted {
				t.Fatalf("round %d: pay on %s: %d %s", round, n.name, code, body)
			}
			nonce[n]++
			accepted = append(accepted, sent{n, tx})
			doc := tm.newDocIn(fmt.Sprintf("1.%d", round+1), "TUSD")
			code, body, id := tm.authorizeOn(doc, n)
			if code != http.StatusAccepted && code != http.StatusOK {
				t.Fatalf("round %d: authorize on %s: %d %s", round, n.name, code, body)
			}
			authorized[n] = append(authorized[n], id)
			authorizedValue[n].Add(authorizedValue[n], doc.Amount)
		}
		time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
		cmd.Process.Kill() // SIGKILL
		cmd.Wait()
		tm.op.CloseIdleConnections()
	}
	cmd := start()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	for _, s := range accepted {
		tm.waitState(s.tx.Hash(), "confirmed", "final")
		other := nets[0]
		if s.net == nets[0] {
			other = nets[1]
		}
		if !mined(t, s.net.chain, s.tx.Hash()) || mined(t, other.chain, s.tx.Hash()) {
			t.Errorf("%s's payment %s: want it mined on its chain alone", s.net.name, s.tx.Hash().Hex())
		}
	}
	for _, n := range nets {
		for _, id := range authorized[n] {
			tm.waitState(id, "confirmed", "final")
		}
		ec, err := ethclient.Dial(n.chain.Endpoint())
		if err != nil {
			t.Fatal(err)
		}
		got, err := ec.NonceAt(context.Background(), n.chain.Payers()[0].Address, nil)
		relayed, err2 := ec.NonceAt(context.Background(), relayer.Address, nil)
		ec.Close()
		if err != nil || got != nonce[n] {
			t.Errorf("%s: the payer's mined nonce is %d (%v), want %d: every accepted payment mined once", n.name, got, err, nonce[n])
		}
		if err2 != nil || relayed != uint64(len(authorized[n])) {
			t.Errorf("%s: the relayer sent %d transactions (%v), want one per authorization, %d", n.name, relayed, err2, len(authorized[n]))
		}
		if got := tokenBalance(t, n.chain, merchant); got.Cmp(authorizedValue[n]) != 0 {
			t.Errorf("%s: the merchant holds %s TUSD units, want the authorizations' %s, each once", n.name, got, authorizedValue[n])
		}
	}
	t.Logf("%d kills, %d handed-over payments and %d authorizations on two networks: every one settled once on its own chain",
		rounds, len(accepted), len(authorized[nets[0]])+len(authorized[nets[1]]))
}

// A start whose config no longer names a network the store still has
// payments to settle on is refused, naming the chain (a reload or a
// bundle would have been refused network_open): nothing would ever send
// them. With the network back the terminal starts and settles them.
func TestStartRefusesAConfigThatDropsANetworkWithOpenPayments(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two dev chains")
	}
	nets := startDevNets(t, 1337, 1338)
	a, b := nets[0], nets[1]
	b.proxy.cut.Store(true)
	tm := startNetworksTerminal(t, "", a, b)
	_, _, tx := tm.payOn(tm.newDoc("0.2"), b, 0)
	tm.stop()
	tm.op.CloseIdleConnections()

	both, err := os.ReadFile(tm.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(both), "\n[[networks]]\nname = \"b\"")
	if err := os.WriteFile(tm.cfgPath, both[:i], 0o600); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), testLog(t), tm.cfgPath, "", anyPort)
	if err == nil || !strings.Contains(err.Error(), "1 payment to settle on chain 1338, which no network of the config names") {
		t.Fatalf("start without b: %v, want a refusal naming chain 1338", err)
	}

	if err := os.WriteFile(tm.cfgPath, both, 0o600); err != nil {
		t.Fatal(err)
	}
	b.proxy.cut.Store(false)
	tm.start()
	tm.waitState(tx.Hash(), "confirmed", "final")
}

// A bundle removing a network while a payment on it is being judged (its
// pre-flight waits on a slow node) never leaves that payment on a chain no
// network runs: the store decides which came first, so either the
// removal is refused network_open (the payment was stored, or its request
// is still payable there) or the payment is refused (wrong_chain or
// unknown_request: the network was gone).
func TestRemovingANetworkWhileAPaymentOnItIsJudged(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two dev chains")
	}
	nets := startDevNets(t, 1337, 1338)
	a, b := nets[0], nets[1]
	priv, fleetTable := fleetKeys(t)
	tm := startNetworksTerminal(t, fleetTable, a, b)
	until(t, "b online", func() bool { _, st := tm.networks(); return st["b"].Online })
	version, nonce := uint64(0), uint64(0)
	push := func(nets ...*devNet) answer {
		version++
		return tm.operator("POST", "/v1/fleet/bundle", bundle(t, priv, fleet.Payload{Version: version, Config: networksTOML(nets...)}))
	}
	for round, lag := range []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond, 500 * time.Millisecond} {
		doc := tm.newDoc(fmt.Sprintf("0.0%d", round+1))
		b.proxy.delay.Store(int64(600 * time.Millisecond)) // the pre-flight waits on b
		type paid struct {
			code int
			body []byte
			tx   *types.Transaction
		}
		done := make(chan paid, 1)
		go func() {
			code, body, tx := tm.payOn(doc, b, nonce)
			done <- paid{code, body, tx}
		}()
		time.Sleep(lag)
		r := push(a)
		p := <-done
		b.proxy.delay.Store(0)
		if p.code == http.StatusAccepted {
			nonce++
		}
		switch {
		case r.status == http.StatusOK && p.code == http.StatusAccepted:
			t.Fatalf("round %d: b removed (200) and a payment on b accepted: %s", round, p.body)
		case r.status == http.StatusOK:
			// Judged after the removal: the till no longer takes b
			// (unknown_request); judged before it and stored after: the
			// store refuses it (wrong_chain).
			if !strings.Contains(string(p.body), "wrong_chain") && !strings.Contains(string(p.body), "unknown_request") {
				t.Errorf("round %d: b removed; the payment on b answered %d %s, want wrong_chain or unknown_request", round, p.code, p.body)
			}
		case r.code() == fleet.CodeNetworkOpen:
			if p.code != http.StatusAccepted {
				t.Errorf("round %d: removal refused network_open, but the payment was not taken: %d %s", round, p.code, p.body)
			}
			tm.waitState(p.tx.Hash(), "confirmed", "final")
			tm.finalize(b, p.tx.Hash())
			if r := push(a); r.status != http.StatusOK {
				t.Fatalf("round %d: removal once settled: %d %s", round, r.status, r.raw)
			}
		default:
			t.Fatalf("round %d: bundle %d %s", round, r.status, r.raw)
		}
		t.Logf("round %d, push %s into the payment: bundle %d, payment %d %s", round, lag, r.status, p.code, p.body)
		// b back for the next round.
		if r := push(a, b); r.status != http.StatusOK {
			t.Fatalf("round %d: adding b back: %d %s", round, r.status, r.raw)
		}
		until(t, "b online", func() bool { _, st := tm.networks(); return st["b"].Online })
	}
}

// The keypad's assets are every network's, each symbol once, in config
// order: an asset taken on a second network only can be keyed too.
func TestAssetsOfEveryNetwork(t *testing.T) {
	cfg, err := config.Parse([]byte(`
[terminal]
id = "t"
[merchant]
address = "0x000000000000000000000000000000000000dEaD"
[[networks]]
name = "a"
chain_id = 1337
[[networks.assets]]
symbol = "ETH"
[[networks]]
name = "b"
chain_id = 1338
[[networks.assets]]
symbol = "ETH"
[[networks.assets]]
symbol = "DAI"
token = "0xDA10009cBd5D07dd0CeCc66161FC93D7c9000da1"
decimals = 18
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range assets(cfg) {
		got = append(got, a.Symbol)
	}
	if strings.Join(got, ",") != "ETH,DAI" {
		t.Errorf("assets %v, want ETH then DAI", got)
	}
}
