package chain

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/device/clock/clocktest"
)

const testChain = 1337

// short is the call timeout of tests that hang an endpoint.
const short = 300 * time.Millisecond

func newTestClient(t *testing.T, o Options, urls ...string) *Client {
	t.Helper()
	o.Endpoints = urls
	if o.ChainID == 0 {
		o.ChainID = testChain
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = 2 * time.Second
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// signedTxs returns n signed transactions (nonces 0…n-1) and their hashes.
func signedTxs(t *testing.T, n int) ([][]byte, []common.Hash) {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer := types.LatestSignerForChainID(big.NewInt(testChain))
	to := common.HexToAddress("0x000000000000000000000000000000000000beef")
	raws := make([][]byte, n)
	hashes := make([]common.Hash, n)
	for i := range n {
		tx, err := types.SignNewTx(key, signer, &types.DynamicFeeTx{
			ChainID: big.NewInt(testChain), Nonce: uint64(i), GasTipCap: big.NewInt(1),
			GasFeeCap: big.NewInt(2e9), Gas: 21000, To: &to, Value: big.NewInt(1),
		})
		if err != nil {
			t.Fatal(err)
		}
		if raws[i], err = tx.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
		hashes[i] = tx.Hash()
	}
	return raws, hashes
}

func TestNewRefusesBadOptions(t *testing.T) {
	const secret = "s3cret-key"
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"no chain id", Options{Endpoints: []string{"http://127.0.0.1:1"}}},
		{"not http", Options{ChainID: 1, Endpoints: []string{"ws://127.0.0.1:1/" + secret}}},
		{"no host", Options{ChainID: 1, Endpoints: []string{"http:///" + secret}}},
		{"unparsable", Options{ChainID: 1, Endpoints: []string{"http://u:" + secret + "@[::1"}}},
		{"twice", Options{ChainID: 1, Endpoints: []string{"http://a/" + secret, "http://a/" + secret}}},
		{"negative timeout", Options{ChainID: 1, Endpoints: []string{"http://a"}, CallTimeout: -1}},
		{"negative interval", Options{ChainID: 1, Endpoints: []string{"http://a"}, ProbeEvery: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.o)
			if !errors.Is(err, ErrBadOptions) {
				t.Fatalf("err = %v, want ErrBadOptions", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8545":                         "http://127.0.0.1:8545",
		"http://127.0.0.1:8545/":                        "http://127.0.0.1:8545",
		"https://mainnet.infura.io/v3/0123456789abcdef": "https://mainnet.infura.io/…",
		"https://user:pass@rpc.example.com":             "https://rpc.example.com",
		"https://rpc.example.com/?apikey=XYZ":           "https://rpc.example.com/…",
		"https://rpc.example.com#frag":                  "https://rpc.example.com/…",
		"https://[::1]:8545/key":                        "https://[::1]:8545/…",
		"not a url":                                     "invalid URL",
		"http://u:p@[::1":                               "invalid URL",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// Each transport failure of the first endpoint sends the call to the
// second, trying the first once; the next call goes straight to the
// second.
func TestFailsOverOnEachTransportFailure(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(*fakeNode)
		reason string
	}{
		{"connection refused", (*fakeNode).stop, "connection refused"},
		{"timeout", func(f *fakeNode) { f.set(hang) }, "timeout"},
		{"HTTP 503", func(f *fakeNode) { f.set(status503) }, "HTTP 503 Service Unavailable"},
		{"HTTP 429", func(f *fakeNode) { f.set(status429) }, "HTTP 429 Too Many Requests"},
		{"not JSON-RPC", func(f *fakeNode) { f.set(htmlPage) }, "not a JSON-RPC answer"},
		{"batch refused", func(f *fakeNode) { f.set(batchObject) }, ""},
		{"batch too large", func(f *fakeNode) { f.set(batchTooBig) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newFakeNode(t, testChain), newFakeNode(t, testChain)
			c := newTestClient(t, Options{CallTimeout: short}, a.URL(), b.URL())
			if st := c.Probe(context.Background()); !st.Online || st.Endpoint != a.URL() {
				t.Fatalf("before: %+v, want online on a", st)
			}
			tc.break_(a)
			aBefore, _ := a.counts()

			raws, _ := signedTxs(t, 3)
			errs, err := c.SendBatch(context.Background(), raws)
			if err != nil {
				t.Fatalf("SendBatch: %v", err)
			}
			for i, e := range errs {
				if e != nil {
					t.Errorf("item %d: %v", i, e)
				}
			}
			if n := b.called("eth_sendRawTransaction"); n != 3 {
				t.Errorf("b got %d sends, want 3", n)
			}
			aAfter, _ := a.counts()
			if tc.name != "connection refused" && aAfter-aBefore != 1 {
				t.Errorf("a got %d requests, want 1 (one try)", aAfter-aBefore)
			}
			st := c.Status()
			if !st.Online || st.Endpoint != b.URL() || st.Err != "" {
				t.Errorf("after: %+v, want online on b", st)
			}

			// The next call starts at b: no second timeout on a.
			start := time.Now()
			if _, err := c.BlockNumber(context.Background()); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > short/2 {
				t.Errorf("second call took %v: tried a again?", d)
			}
			if n, _ := a.counts(); n != aAfter {
				t.Errorf("second call reached a")
			}

			// And when both fail, the reason is a's, named.
			if tc.reason == "" {
				return
			}
			b.stop()
			_, err = c.BlockNumber(context.Background())
			if !IsTransport(err) {
				t.Fatalf("err = %v, want a transport error", err)
			}
			want := b.URL() + ": connection refused; " + a.URL() + ": " + tc.reason
			if st := c.Status(); st.Online || st.Err != want {
				t.Errorf("both down: %+v, want offline with %q", st, want)
			}
		})
	}
}

func TestWrongChainEndpointIsSkipped(t *testing.T) {
	wrong, right := newFakeNode(t, 5), newFakeNode(t, testChain)
	c := newTestClient(t, Options{}, wrong.URL(), right.URL())
	raws, _ := signedTxs(t, 2)
	errs, err := c.SendBatch(context.Background(), raws)
	if err != nil || errs[0] != nil || errs[1] != nil {
		t.Fatalf("SendBatch = %v, %v", errs, err)
	}
	if n := wrong.called("eth_sendRawTransaction"); n != 0 {
		t.Errorf("the wrong chain got %d payments", n)
	}
	if n := right.called("eth_sendRawTransaction"); n != 2 {
		t.Errorf("the right chain got %d payments, want 2", n)
	}
	if st := c.Status(); !st.Online || st.Endpoint != right.URL() {
		t.Errorf("status %+v, want online on the right chain", st)
	}

	// The wrong chain's answer is remembered: later calls do not ask it.
	if c.Probe(context.Background()); wrong.called("eth_chainId") != 1 {
		t.Errorf("wrong chain asked %d times", wrong.called("eth_chainId"))
	}
}

func TestNoEndpointOnTheRightChainIsOffline(t *testing.T) {
	wrong := newFakeNode(t, 5)
	c := newTestClient(t, Options{}, wrong.URL())
	raws, _ := signedTxs(t, 1)
	err := c.Send(context.Background(), raws[0])
	if !IsTransport(err) || !errors.Is(err, ErrWrongChain) {
		t.Fatalf("Send: %v, want a transport error wrapping ErrWrongChain", err)
	}
	if wrong.called("eth_sendRawTransaction") != 0 {
		t.Fatal("a payment went to the wrong chain")
	}
	st := c.Probe(context.Background())
	if st.Online || st.Err != "wrong chain id 5 (want 1337)" {
		t.Errorf("status %+v", st)
	}
	if !st.LastContact.IsZero() {
		t.Errorf("LastContact %v: the wrong chain is no contact", st.LastContact)
	}
}

// A new config changes the endpoints of a running client: from none
// (offline, nothing sent anywhere) to a node, and from one node to another.
func TestSetEndpointsWhileRunning(t *testing.T) {
	c := newTestClient(t, Options{})
	raws, _ := signedTxs(t, 2)
	if err := c.Send(context.Background(), raws[0]); !IsTransport(err) || !strings.Contains(err.Error(), "no chain.rpc endpoints") {
		t.Fatalf("Send with no endpoints: %v", err)
	}
	if st := c.Probe(context.Background()); st.Online || st.Err != "no chain.rpc endpoints configured" {
		t.Errorf("status with no endpoints: %+v", st)
	}

	first, second := newFakeNode(t, testChain), newFakeNode(t, testChain)
	if err := c.SetEndpoints([]string{first.URL()}); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(context.Background(), raws[0]); err != nil {
		t.Fatalf("Send after SetEndpoints: %v", err)
	}
	if err := c.SetEndpoints([]string{second.URL()}); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(context.Background(), raws[1]); err != nil {
		t.Fatal(err)
	}
	if a, b := first.called("eth_sendRawTransaction"), second.called("eth_sendRawTransaction"); a != 1 || b != 1 {
		t.Errorf("sends: first node %d, second %d; want 1 and 1", a, b)
	}
	if st := c.Status(); !st.Online || st.Endpoint != second.URL() {
		t.Errorf("status %+v, want online on the second node", st)
	}

	// A new endpoint that is down: status names it, not the old one.
	if err := c.SetEndpoints([]string{"http://127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	if st := c.Probe(context.Background()); st.Online || st.Endpoint != "http://127.0.0.1:1" {
		t.Errorf("status after moving to a dead endpoint: %+v", st)
	}
	if err := c.SetEndpoints([]string{"ftp://nope"}); !errors.Is(err, ErrBadOptions) {
		t.Errorf("bad endpoint: %v", err)
	}
	if err := c.SetEndpoints(nil); err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); st.Online || st.Endpoint != "" {
		t.Errorf("status with no endpoints: %+v", st)
	}
}

// recv waits for a Status on Changes.
func recv(t *testing.T, c *Client) Status {
	t.Helper()
	select {
	case st := <-c.Changes():
		return st
	case <-time.After(5 * time.Second):
		t.Fatalf("no change published; status %+v", c.Status())
		return Status{}
	}
}

func TestRunPublishesOnlineOfflineOnline(t *testing.T) {
	node := newFakeNode(t, testChain)
	clock := clocktest.NewFake(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	t0 := clock.Now()
	c := newTestClient(t, Options{ProbeEvery: 20 * time.Millisecond, Clock: clock}, node.URL())
	if st := c.Status(); st.Online || st.Since != t0 || !st.LastContact.IsZero() {
		t.Fatalf("initial %+v", st)
	}
	// The clock moves before Run starts: Run probes at once, and a probe
	// scheduled before the Advance found the node at t0.
	clock.Advance(time.Minute)
	t1 := clock.Now()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { c.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()

	st := recv(t, c)
	if !st.Online || st.Since != t1 || st.LastContact != t1 || st.Err != "" || st.Endpoint != node.URL() {
		t.Fatalf("first change %+v, want online since %v", st, t1)
	}

	clock.Advance(time.Minute)
	t2 := clock.Now()
	node.stop()
	st = recv(t, c)
	if st.Online || st.Since != t2 || st.Err != "connection refused" {
		t.Fatalf("second change %+v, want offline since %v", st, t2)
	}
	if !st.LastContact.Before(t2) {
		t.Errorf("LastContact %v moved while offline", st.LastContact)
	}

	clock.Advance(time.Minute)
	t3 := clock.Now()
	node.start()
	st = recv(t, c)
	if !st.Online || st.Since != t3 || st.LastContact != t3 {
		t.Fatalf("third change %+v, want online since %v", st, t3)
	}
	if got := c.Status(); got.Since != t3 {
		t.Errorf("Status %+v disagrees with the change", got)
	}

	cancel()
	select {
	case <-stopped:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return")
	}
}

// A failing call marks the client offline at once, before any probe, and
// a succeeding call marks it online again.
func TestCallsMoveStatus(t *testing.T) {
	node := newFakeNode(t, testChain)
	clock := clocktest.NewFake(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	c := newTestClient(t, Options{Clock: clock}, node.URL())
	if _, err := c.BlockNumber(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := recv(t, c); !st.Online {
		t.Fatalf("%+v", st)
	}
	node.set(status503)
	clock.Advance(time.Second)
	if _, err := c.BlockNumber(context.Background()); !IsTransport(err) {
		t.Fatalf("err = %v", err)
	}
	if st := recv(t, c); st.Online || st.Err != "HTTP 503 Service Unavailable" || st.Since != clock.Now() {
		t.Fatalf("%+v", st)
	}
	node.set(healthy)
	clock.Advance(time.Second)
	if _, err := c.BlockNumber(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := recv(t, c); !st.Online || st.LastContact != clock.Now() {
		t.Fatalf("%+v", st)
	}
}

// Changes never blocks the publisher: with nobody reading, the latest
// Status waits there.
func TestChangesKeepsTheLatest(t *testing.T) {
	node := newFakeNode(t, testChain)
	c := newTestClient(t, Options{}, node.URL())
	for range 3 {
		c.Probe(context.Background())
		node.stop()
		c.Probe(context.Background())
		node.start()
	}
	c.Probe(context.Background())
	if st := recv(t, c); !st.Online {
		t.Errorf("latest change %+v, want online", st)
	}
	select {
	case st := <-c.Changes():
		t.Errorf("a second change waiting: %+v", st)
	default:
	}
}

// A context that ends is the caller's business: no transport error, no
// Status change.
func TestCancelledCallLeavesStatus(t *testing.T) {
	node := newFakeNode(t, testChain)
	c := newTestClient(t, Options{}, node.URL())
	c.Probe(context.Background())
	node.set(hang)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.BlockNumber(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || IsTransport(err) {
		t.Fatalf("err = %v, want the context's", err)
	}
	if st := c.Status(); !st.Online {
		t.Errorf("status %+v, want still online", st)
	}
}

func TestErrorsKeepSecretsOut(t *testing.T) {
	node := newFakeNode(t, testChain)
	url := "http://user:pw-secret@" + node.addr + "/v3/key-secret?apikey=q-secret"
	c := newTestClient(t, Options{}, url)
	node.stop()
	_, err := c.BlockNumber(context.Background())
	st := c.Status()
	for _, s := range []string{err.Error(), st.Err, st.Endpoint, errors.Unwrap(err).Error()} {
		if strings.Contains(s, "secret") {
			t.Errorf("leaks a secret: %q", s)
		}
	}
	if want := "http://" + node.addr + "/…"; st.Endpoint != want {
		t.Errorf("Endpoint %q, want %q", st.Endpoint, want)
	}
}

// A config applied again with the same endpoints (a bundle that changed only
// a welcome text) keeps the endpoint in use: the client does not go back to
// a first endpoint it already found down.
func TestSetEndpointsWithTheSameListChangesNothing(t *testing.T) {
	live := newFakeNode(t, testChain)
	list := []string{"http://127.0.0.1:1", live.URL()}
	c := newTestClient(t, Options{}, list...)
	raws, _ := signedTxs(t, 1)
	if err := c.Send(context.Background(), raws[0]); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if st := c.Status(); st.Endpoint != live.URL() {
		t.Fatalf("status %+v, want the live second endpoint", st)
	}
	if err := c.SetEndpoints(slices.Clone(list)); err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); !st.Online || st.Endpoint != live.URL() {
		t.Errorf("after the same list again: %+v, want still online on %s", st, live.URL())
	}
}

// The log hears of each spell offline once: a client that never reached an
// endpoint too (it starts offline, with no flip to report), and again
// after it was online.
func TestOfflineIsLoggedOnceASpellFromTheStart(t *testing.T) {
	var logged bytes.Buffer
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logged.Write(p) })
	lines := func() int { mu.Lock(); defer mu.Unlock(); return strings.Count(logged.String(), "chain: offline") }
	wrong := newFakeNode(t, 5)
	c := newTestClient(t, Options{Logger: slog.New(slog.NewTextHandler(w, nil))}, wrong.URL())
	for range 3 {
		if st := c.Probe(context.Background()); st.Online {
			t.Fatal("online on the wrong chain")
		}
	}
	if n := lines(); n != 1 {
		t.Fatalf("offline from the start, three probes: logged %d times, want 1:\n%s", n, logged.String())
	}
	right := newFakeNode(t, testChain)
	if err := c.SetEndpoints([]string{right.URL()}); err != nil {
		t.Fatal(err)
	}
	if st := c.Probe(context.Background()); !st.Online {
		t.Fatalf("not online on the right chain: %+v", st)
	}
	if err := c.SetEndpoints([]string{wrong.URL()}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		c.Probe(context.Background())
	}
	if n := lines(); n != 2 {
		t.Errorf("offline again after online: logged %d times in all, want 2:\n%s", n, logged.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
