package main

import (
	"bytes"
	"context"
	"math/big"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"showpos/tools/devchain"
)

// syncBuffer is a bytes.Buffer that run may write while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRunPrintsTheChainAndStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	toggle := make(chan os.Signal, 1)
	go func() {
		done <- run(ctx, &out, devchain.Options{ChainID: 4242, Payers: 2}, "127.0.0.1:0", toggle, 20*time.Millisecond)
	}()

	endpointRE := regexp.MustCompile(`endpoint\s+(http://127\.0\.0\.1:\d+)`)
	var endpoint string
	for deadline := time.Now().Add(10 * time.Second); endpoint == ""; time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no endpoint printed within 10 s:\n%s", out.String())
		}
		if m := endpointRE.FindStringSubmatch(out.String()); m != nil && strings.Contains(out.String(), "Ctrl-C") {
			endpoint = m[1]
		}
	}
	printed := out.String()
	for _, want := range []string{
		"chain id  4242",
		devchain.TokenAddress,
		"each with 1000 ETH and 1000000 TUSD",
		"0  0x632e1C3F6177f5d9FbE6388dda68Ef8Ca1bA5a80  0xdf2e549bce144c46ff37404cf047006758ad9b4cf674ec0a32ba01d90b46d823",
		"1  0xA36b51eFf93d2Da294Df2c9C1e20d8eC60B8b90B  0x",
		"feed      0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512  (ETH / USD price feed, Chainlink AggregatorV3, 8 decimals, 3000)",
		"feed      0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0  (ETH / EUR price feed, Chainlink AggregatorV3, 8 decimals, 2600)",
		"feed      0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9  (TUSD / EUR price feed, Chainlink AggregatorV3, 8 decimals, 0.86)",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}

	rc, err := rpc.Dial(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	err = rc.Call(&id, "eth_chainId")
	rc.Close()
	if err != nil || id != "0x1092" {
		t.Fatalf("eth_chainId = %q, %v; want 0x1092", id, err)
	}

	// The feeds get heartbeat rounds: latestRoundData's round id grows.
	feedRound := func() uint64 {
		rc, err := rpc.Dial(endpoint)
		if err != nil {
			return 0
		}
		defer rc.Close()
		var out hexutil.Bytes
		call := map[string]any{"to": devchain.FeedETHUSD.Address, "input": hexutil.Bytes{0xfe, 0xaf, 0x96, 0x8c}} // latestRoundData()
		if err := rc.Call(&out, "eth_call", call, "latest"); err != nil || len(out) != 5*32 {
			return 0
		}
		return new(big.Int).SetBytes(out[:32]).Uint64()
	}
	waitUntil(t, func() bool { return feedRound() > 1 }, "no heartbeat round was posted to the ETH / USD feed")

	// SIGUSR1 cuts the link, and again restores it; the chain is the same.
	chainID := func() error {
		rc, err := rpc.Dial(endpoint)
		if err != nil {
			return err
		}
		defer rc.Close()
		return rc.Call(&id, "eth_chainId")
	}
	toggle <- syscall.SIGUSR1
	waitUntil(t, func() bool { return chainID() != nil }, "the cut link still answers")
	toggle <- syscall.SIGUSR1
	waitUntil(t, func() bool { return chainID() == nil }, "the restored link does not answer")

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return within 10 s of cancel")
	}
	rc, err = rpc.Dial(endpoint)
	if err == nil {
		err = rc.Call(&id, "eth_chainId")
		rc.Close()
	}
	if err == nil {
		t.Fatalf("%s still answers after run returned", endpoint)
	}
}

func TestRunRefusesBadOptions(t *testing.T) {
	for _, tc := range []struct {
		addr string
		o    devchain.Options
	}{
		{"0.0.0.0:0", devchain.Options{Payers: 1}},
		{"127.0.0.1:0", devchain.Options{Payers: 0}},
		{"nonsense", devchain.Options{Payers: 1}},
	} {
		if err := run(context.Background(), &bytes.Buffer{}, tc.o, tc.addr, nil, 0); err == nil {
			t.Errorf("run(%q, %+v) succeeded", tc.addr, tc.o)
		}
	}
}

func TestDecimal(t *testing.T) {
	for _, tc := range []struct {
		v      int64
		places int
		want   string
	}{
		{1_000_000_000_000, 6, "1000000"},
		{12_340_000, 6, "12.34"},
		{1, 6, "0.000001"},
		{0, 6, "0"},
		{100, 0, "100"},
	} {
		if got := decimal(big.NewInt(tc.v), tc.places); got != tc.want {
			t.Errorf("decimal(%d, %d) = %q, want %q", tc.v, tc.places, got, tc.want)
		}
	}
}

func waitUntil(t *testing.T, ok func() bool, fail string) {
	t.Helper()
	for range 200 {
		if ok() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal(fail)
}
