package httpapi_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/checkout"
	"showpos/terminal/httpapi"
	"showpos/terminal/request"
	"showpos/terminal/store"
	"showpos/tools/paytx"
)

// farWait is a wait no test means to reach: an answer that comes before
// it came because the request changed, not because the wait ran out.
const farWait = 60 * time.Second

// waiting is a GET /v1/requests/{id}?wait= under way.
type waiting struct {
	start  time.Time
	answer chan answer
}

// startWait asks url in the background; the call ends with ctx.
func startWait(t *testing.T, ctx context.Context, url string) *waiting {
	t.Helper()
	w := &waiting{start: time.Now(), answer: make(chan answer, 1)}
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			w.answer <- answer{status: -1, body: map[string]any{"err": err.Error()}}
			return
		}
		defer resp.Body.Close()
		w.answer <- decodeAnswer(t, resp)
	}()
	return w
}

// watching waits until the till has n watches open: a waiting call has
// read its request pending and sleeps (or every one has let go).
func watching(tm *terminal, n int) {
	for tm.till.Watching() != n {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func TestWaitAnswersAsSoonAsTheRequestLeavesPending(t *testing.T) {
	tests := []struct {
		name string
		act  func(t *testing.T, tm *terminal, r *request.Request)
		want string
	}{
		{"a payment handed over", func(t *testing.T, tm *terminal, r *request.Request) {
			if a := tm.broadcast(r.ID, sign(t, r, newKey(t), paytx.Options{})); a.status != 202 {
				t.Fatalf("pay: %d %v", a.status, a.body)
			}
		}, "paid"},
		{"a payment seen on chain", func(t *testing.T, tm *terminal, r *request.Request) {
			l := checkout.NewLedger(checkout.LedgerOptions{Store: tm.store.Chain(tm.cfg.ChainID), Till: tm.till})
			tr := store.Transfer{Block: 5, BlockHash: common.Hash{5}, BlockTime: tm.clock.Now(), TxHash: common.Hash{0xaa}, Index: 1,
				From: common.Address{1}, Asset: "ETH", Amount: r.Amount}
			if err := l.RecordRange(context.Background(), store.WatchCursor{Height: 5}, []store.Transfer{tr}); err != nil {
				t.Fatal(err)
			}
		}, "paid"},
		{"a cancel", func(t *testing.T, tm *terminal, r *request.Request) {
			if _, err := tm.till.Cancel(context.Background(), r.ID); err != nil {
				t.Fatal(err)
			}
		}, "cancelled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tm := newTerminal(t)
			op := operatorServer(t, tm)
			r := tm.request("0.01", "ETH")
			w := startWait(t, context.Background(), op.URL+"/v1/requests/"+r.ID+"?wait="+farWait.String())
			watching(tm, 1)
			tc.act(t, tm, r)
			a := <-w.answer
			if a.status != 200 || a.body["id"] != r.ID || a.body["status"] != tc.want {
				t.Fatalf("answer %d %v, want %s", a.status, a.body, tc.want)
			}
			if time.Since(w.start) >= farWait {
				t.Errorf("answered at the end of the wait, not when the request became %s", tc.want)
			}
			watching(tm, 0)
			// The same body as without wait.
			if b := call(t, "GET", op.URL+"/v1/requests/"+r.ID, ""); b.body["status"] != tc.want || b.body["signature"] != a.body["signature"] {
				t.Errorf("without wait: %v, with it: %v", b.body, a.body)
			}
		})
	}
}

func TestWaitAnswersExpiredAtTheRequestsExpiry(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	r := tm.request("0.01", "ETH")
	tm.clock.Set(r.ExpiresAt.Add(-time.Millisecond))
	w := startWait(t, context.Background(), op.URL+"/v1/requests/"+r.ID+"?wait="+farWait.String())
	watching(tm, 1) // it read the request pending
	tm.clock.Advance(time.Second)
	if a := <-w.answer; a.status != 200 || a.body["status"] != "expired" {
		t.Fatalf("answer %d %v", a.status, a.body)
	}
	if time.Since(w.start) >= farWait {
		t.Error("answered at the end of the wait, not at the expiry")
	}
}

func TestWaitAnswersPendingAtTheDeadline(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	r := tm.request("0.01", "ETH")
	if a := call(t, "GET", op.URL+"/v1/requests/"+r.ID+"?wait=1s", ""); a.status != 200 || a.body["status"] != "pending" || a.body["id"] != r.ID {
		t.Fatalf("answer %d %v", a.status, a.body)
	}
	watching(tm, 0)
}

func TestWaitAnswersAtOnceWhatIsNotPending(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	r := tm.request("0.01", "ETH")
	if _, err := tm.till.Cancel(context.Background(), r.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, id   string
		status     int
		field, val string
	}{
		{"a cancelled request", r.ID, 200, "status", "cancelled"},
		{"an unknown request", "nosuchrequest", 404, "", "unknown_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := startWait(t, context.Background(), op.URL+"/v1/requests/"+tc.id+"?wait="+farWait.String())
			a := <-w.answer
			got := a.code()
			if tc.field != "" {
				got, _ = a.body[tc.field].(string)
			}
			if a.status != tc.status || got != tc.val {
				t.Fatalf("answer %d %v", a.status, a.body)
			}
			if time.Since(w.start) >= farWait {
				t.Error("answered at the end of the wait, not at once")
			}
			watching(tm, 0)
		})
	}
}

func TestWaitLetsGoOfAClientThatLeaves(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	r := tm.request("0.01", "ETH")
	ctx, cancel := context.WithCancel(context.Background())
	w := startWait(t, ctx, op.URL+"/v1/requests/"+r.ID+"?wait="+farWait.String())
	watching(tm, 1)
	cancel()
	if a := <-w.answer; a.status != -1 {
		t.Fatalf("the call ended with %d %v, want the client's cancel", a.status, a.body)
	}
	watching(tm, 0) // the handler let go of its watch
}

func TestWaitsAreCapped(t *testing.T) {
	t.Run("the till's cap, on the socket", func(t *testing.T) {
		tm := newTerminal(t)
		op := operatorServer(t, tm)
		r := tm.request("0.01", "ETH")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		url := op.URL + "/v1/requests/" + r.ID + "?wait=" + farWait.String()
		held := make([]*waiting, checkout.MaxWatchers)
		for i := range held {
			held[i] = startWait(t, ctx, url)
		}
		watching(tm, checkout.MaxWatchers)
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		a := decodeAnswer(t, resp)
		if a.status != 503 || a.code() != "too_many_waits" || resp.Header.Get("Retry-After") != "1" {
			t.Fatalf("one wait over the cap: %d %v, Retry-After %q", a.status, a.body, resp.Header.Get("Retry-After"))
		}
		// Without wait the request is still answered.
		if a := call(t, "GET", op.URL+"/v1/requests/"+r.ID, ""); a.status != 200 {
			t.Errorf("without wait: %d %v", a.status, a.body)
		}
		// One payment wakes them all.
		if _, err := tm.till.Cancel(context.Background(), r.ID); err != nil {
			t.Fatal(err)
		}
		for i, w := range held {
			if a := <-w.answer; a.status != 200 || a.body["status"] != "cancelled" {
				t.Fatalf("wait %d: %d %v", i, a.status, a.body)
			}
		}
		watching(tm, 0)
	})
	t.Run("the network API's cap", func(t *testing.T) {
		tm := newTerminal(t)
		op := operatorServer(t, tm)
		nw := networkServer(t, tm, httpapi.NetworkOptions{MaxWaits: 1})
		number, key := addClient(t, op.URL, "Register", store.RoleRegister)
		r := tm.request("0.01", "ETH")
		url := nw.URL + "/v1/requests/" + r.ID + "?wait=" + farWait.String()
		first := make(chan answer, 1)
		go func() { first <- tm.signed("GET", url, "", number, key) }()
		watching(tm, 1)
		if a := tm.signed("GET", url, "", number, key); a.status != 503 || a.code() != "too_many_waits" {
			t.Fatalf("a second wait: %d %v", a.status, a.body)
		}
		if _, err := tm.till.Cancel(context.Background(), r.ID); err != nil {
			t.Fatal(err)
		}
		if a := <-first; a.status != 200 || a.body["status"] != "cancelled" {
			t.Fatalf("the first wait: %d %v", a.status, a.body)
		}
		watching(tm, 0)
	})
}

func TestWaitRefusesABadWait(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	r := tm.request("0.01", "ETH")
	for _, q := range []string{"0s", "999ms", "61s", "-1s", "30", "soon", "1h"} {
		a := call(t, "GET", op.URL+"/v1/requests/"+r.ID+"?wait="+q, "")
		if a.status != 400 || a.code() != "bad_request" {
			t.Errorf("wait=%s: %d %v", q, a.status, a.body)
		}
	}
	if n := tm.till.Watching(); n != 0 {
		t.Errorf("%d watches open after refused waits", n)
	}
	if a := call(t, "GET", op.URL+"/v1/requests/"+r.ID, ""); a.body["status"] != "pending" {
		t.Errorf("after refused waits: %v", a.body)
	}
}

// TestWaitOutlastsTheServersTimeouts serves the socket's API with the
// daemon's server (NewServer: 15 s read and write timeouts) and waits
// longer than them: the wait is answered at its end, not cut off.
func TestWaitOutlastsTheServersTimeouts(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 17 s")
	}
	tm := newTerminal(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httpapi.NewServer(httpapi.Operator(httpapi.OperatorOptions{Register: tm.till, Clock: tm.clock}), slog.New(slog.DiscardHandler))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	r := tm.request("0.01", "ETH")
	a := call(t, "GET", "http://"+ln.Addr().String()+"/v1/requests/"+r.ID+"?wait=17s", "")
	if a.status != 200 || a.body["status"] != "pending" {
		t.Fatalf("answer %d %v", a.status, a.body)
	}
}
