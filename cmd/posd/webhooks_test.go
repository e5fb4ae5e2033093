package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/sync/webhook"
	"showpos/tools/paytx"
)

// hookReceiver is a register's webhook endpoint: a real HTTP server on
// loopback that records every delivery it answers 204 (but for the
// first, when dropFirst: its connection is closed unanswered).
type hookReceiver struct {
	srv       *httptest.Server
	delay     func() time.Duration // before answering; nil: none
	dropFirst atomic.Bool
	mu        sync.Mutex
	got       []hookDelivery
}

type hookDelivery struct {
	seq    uint64
	kind   string
	body   []byte
	header http.Header
}

func newHookReceiver(t *testing.T, delay func() time.Duration) *hookReceiver {
	rc := &hookReceiver{delay: delay}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if rc.dropFirst.CompareAndSwap(true, false) {
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				c.Close()
			}
			return
		}
		if rc.delay != nil {
			time.Sleep(rc.delay())
		}
		seq, _ := strconv.ParseUint(r.Header.Get(webhook.HeaderSeq), 10, 64)
		rc.mu.Lock()
		rc.got = append(rc.got, hookDelivery{seq: seq, kind: r.Header.Get(webhook.HeaderKind), body: body, header: r.Header.Clone()})
		rc.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *hookReceiver) deliveries() []hookDelivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hookDelivery(nil), rc.got...)
}

// pay makes a request on the socket and pays it with a handed-over
// transaction (accepted offline: the headless terminal has no chain).
func (tm *terminal) pay(amount string) string {
	tm.t.Helper()
	r, a := tm.newRequest(amount)
	if r == nil {
		tm.t.Fatalf("request: %d %s", a.status, a.raw)
	}
	payer, _ := crypto.GenerateKey()
	tx, err := paytx.Build(r, payer, paytx.Options{})
	if err != nil {
		tm.t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	in, _ := json.Marshal(map[string]string{"requestId": r.ID, "rawTx": hexutil.Encode(raw)})
	req, _ := http.NewRequest("POST", "http://"+tm.addr+"/api/showpos/broadcastTx", bytes.NewReader(in))
	req.Close = true
	if p := do(tm.t, http.DefaultClient, req); p.status != http.StatusAccepted {
		tm.t.Fatalf("pay: %d %s", p.status, p.raw)
	}
	return r.ID
}

// webhookStatus is the status' webhooks section.
func (tm *terminal) webhookStatus() []webhook.Status {
	tm.t.Helper()
	a := tm.operator("GET", "/v1/status", "")
	var st struct {
		Webhooks []webhook.Status `json:"webhooks"`
	}
	if err := json.Unmarshal(a.raw, &st); err != nil {
		tm.t.Fatalf("status: %d %s", a.status, a.raw)
	}
	return st.Webhooks
}

// A register sets its webhook over the signed API; a sale reaches it as
// payment.accepted then request.paid, each signed with the secret shown
// once, checked by the openssl line of the README; status and metrics
// say so. The URL's path and query (the receiver's token) show to the
// client itself and the operator only: status, which every register and
// fleet client reads, names its scheme and host, its lastError too.
func TestWebhookThroughTheDaemon(t *testing.T) {
	rc := newHookReceiver(t, nil)
	rc.dropFirst.Store(true) // a failed attempt: Go's error names the whole URL
	tm := newTerminal(t, headless+webhooksOnLoopback)
	number, key := tm.addClient("Till 4 register", "register")
	hookURL := rc.srv.URL + "/s3cr3t/hook?token=t0k"
	set := tm.send(tm.sign("PUT", "/v1/webhook", `{"url":"`+hookURL+`"}`, number, key))
	secret, _ := set.body["secret"].(string)
	if set.status != 200 || secret == "" {
		t.Fatalf("PUT /v1/webhook: %d %s", set.status, set.raw)
	}
	id := tm.pay("0.02")

	waitUntil(t, "two deliveries", func() bool { return len(rc.deliveries()) >= 2 })
	got := rc.deliveries()
	for i, want := range []string{"payment.accepted", "request.paid"} {
		d := got[i]
		var e struct {
			Seq     uint64 `json:"seq"`
			Kind    string `json:"kind"`
			Payment *struct {
				RequestID string `json:"request_id"`
			} `json:"payment"`
			Request *struct {
				ID string `json:"id"`
			} `json:"request"`
		}
		if err := json.Unmarshal(d.body, &e); err != nil || e.Kind != want || d.kind != want || e.Seq != d.seq {
			t.Errorf("delivery %d: kind %q (header %q) seq %d (header %d): %s; want %s", i, e.Kind, d.kind, e.Seq, d.seq, d.body, want)
		}
		if (e.Payment != nil && e.Payment.RequestID != id) || (e.Request != nil && e.Request.ID != id) {
			t.Errorf("delivery %d is not the sale's: %s", i, d.body)
		}
		if h := d.header.Get(webhook.HeaderTerminal); h != "net-till" {
			t.Errorf("%s %q", webhook.HeaderTerminal, h)
		}
		sig := d.header.Get(webhook.HeaderSignature)
		if err := webhook.Verify([]byte(secret), sig, d.body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("delivery %d: %v", i, err)
		}
		var ts, v1 string
		for _, part := range strings.Split(sig, ",") {
			if k, v, _ := strings.Cut(part, "="); k == "t" {
				ts = v
			} else if k == "v1" {
				v1 = v
			}
		}
		cmd := exec.Command("sh", "-c", `printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac "$secret"`)
		cmd.Env = append(cmd.Environ(), "t="+ts, "body="+string(d.body), "secret="+secret)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("openssl: %v", err)
		}
		if f := strings.Fields(string(out)); len(f) == 0 || f[len(f)-1] != v1 {
			t.Errorf("openssl says %q, the header v1=%s", out, v1)
		}
	}
	if got[0].seq+1 != got[1].seq {
		t.Errorf("seqs %d, %d: want consecutive", got[0].seq, got[1].seq)
	}
	waitUntil(t, "status to show both delivered", func() bool {
		st := tm.webhookStatus()
		return len(st) == 1 && st[0].Delivered == got[1].seq && st[0].Backlog == 0
	})
	st := tm.webhookStatus()[0]
	if st.Client != number || st.URL != rc.srv.URL+"/…" || st.LastSuccess.IsZero() || st.LastError == "" {
		t.Errorf("status webhooks: %+v; want the client, its URL as %s, a last success, the first attempt's error", st, rc.srv.URL+"/…")
	}
	fleetNumber, fleetKey := tm.addClient("fleet", "fleet")
	for who, a := range map[string]answer{
		"operator /v1/status": tm.operator("GET", "/v1/status", ""),
		"register /v1/status": tm.send(tm.sign("GET", "/v1/status", "", number, key)),
		"fleet /v1/status":    tm.send(tm.sign("GET", "/v1/status", "", fleetNumber, fleetKey)),
	} {
		if a.status != 200 || !strings.Contains(string(a.raw), `"webhooks"`) {
			t.Errorf("%s: %d %s", who, a.status, a.raw)
		}
		if s := string(a.raw); strings.Contains(s, "s3cr3t") || strings.Contains(s, "t0k") || strings.Contains(s, "/hook") {
			t.Errorf("%s shows the webhook URL's path or query: %s", who, s)
		}
	}
	for who, a := range map[string]answer{
		"the client's GET /v1/webhook":    tm.send(tm.sign("GET", "/v1/webhook", "", number, key)),
		"the operator's GET /v1/webhooks": tm.operator("GET", "/v1/webhooks", ""),
	} {
		if a.status != 200 || !strings.Contains(string(a.raw), hookURL) {
			t.Errorf("%s: %d %s; want the full URL %s", who, a.status, a.raw, hookURL)
		}
	}
	m := tm.operator("GET", "/metrics", "")
	if !strings.Contains(string(m.raw), `showpos_webhook_deliveries_total{result="delivered"} 2`) ||
		!strings.Contains(string(m.raw), "showpos_webhook_backlog 0") {
		t.Errorf("metrics lack the webhook deliveries:\n%s", grepLines(string(m.raw), "webhook"))
	}
	// The client is revoked: its webhook goes with it.
	if a := tm.operator("POST", "/v1/clients/"+number+"/revoke", ""); a.status != 200 {
		t.Fatalf("revoke: %d %s", a.status, a.raw)
	}
	if st := tm.webhookStatus(); len(st) != 0 {
		t.Errorf("status after revoking the client: %+v", st)
	}
}

// webhooksOnLoopback is laid over a test config whose receivers are on
// loopback, set by their clients over the network.
const webhooksOnLoopback = `
[webhooks]
allow_loopback = true
`

func grepLines(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// kill -9 while events are being delivered, many times: once the daemon
// runs again every event reaches the webhook, first arrivals in seq order
// (a delivery cut short is sent again with the same seq and body).
func TestKillDuringWebhookDeliveryLosesNoEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the daemon")
	}
	bin := buildPosd(t)
	rc := newHookReceiver(t, func() time.Duration { return time.Duration(rand.IntN(4)) * time.Millisecond })
	tm := writeTerminal(t, headless+webhooksOnLoopback)
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "-config", tm.cfgPath, "-listen", anyPort)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		tm.op.CloseIdleConnections()
		deadline := time.Now().Add(20 * time.Second)
		for {
			req, _ := http.NewRequest("GET", "http://posd/v1/status", nil)
			if resp, err := tm.op.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					tm.addr = listening(t, tm.op).API
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
	kill := func(cmd *exec.Cmd) {
		cmd.Process.Kill() // SIGKILL
		cmd.Wait()
	}

	cmd := start()
	number, key := tm.addClient("Till 4 register", "register")
	if a := tm.send(tm.sign("PUT", "/v1/webhook", `{"url":"`+rc.srv.URL+`"}`, number, key)); a.status != 200 {
		t.Fatalf("PUT /v1/webhook: %d %s", a.status, a.raw)
	}
	const rounds = 10
	sales := 0
	for round := range rounds {
		if round > 0 {
			cmd = start()
		}
		for i := range 3 {
			tm.pay(fmt.Sprintf("0.0%d%d", round, i+1))
			sales++
		}
		// Kill somewhere in the deliveries of the sales just made.
		time.Sleep(time.Duration(rand.IntN(15)) * time.Millisecond)
		kill(cmd)
	}
	cmd = start()
	defer kill(cmd)
	var last uint64
	waitUntil(t, "every event delivered", func() bool {
		st := tm.webhookStatus()
		if len(st) == 1 && st[0].Backlog == 0 && st[0].Delivered > 0 {
			last = st[0].Delivered
			return true
		}
		return false
	})
	got := rc.deliveries()
	seen := map[uint64]bool{}
	var first []uint64
	dups := 0
	for _, d := range got {
		if seen[d.seq] {
			dups++
			continue
		}
		seen[d.seq] = true
		first = append(first, d.seq)
	}
	for i := 1; i < len(first); i++ {
		if first[i] != first[i-1]+1 {
			t.Fatalf("first arrivals %v: want consecutive seqs", first)
		}
	}
	if len(first) == 0 || first[len(first)-1] != last || uint64(len(first)) != 2*uint64(sales) {
		t.Fatalf("%d events arrived (last %d), the log's last is %d; %d sales make %d events", len(first), first[len(first)-1], last, sales, 2*sales)
	}
	t.Logf("%d kills: %d events delivered, %d sent again after a kill", rounds, len(first), dups)
}
