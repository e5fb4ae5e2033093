package main

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
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
		done <- run(ctx, &out, devchain.Options{Payers: 2}, []network{{4242, "127.0.0.1:0"}}, toggle, 20*time.Millisecond)
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
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		nets []network
		o    devchain.Options
	}{
		{[]network{{1337, "0.0.0.0:0"}}, devchain.Options{Payers: 1}},
		{[]network{{1337, "127.0.0.1:0"}}, devchain.Options{Payers: 0}},
		{[]network{{1337, "nonsense"}}, devchain.Options{Payers: 1}},
		{[]network{{1337, "127.0.0.1:0"}, {1338, "0.0.0.0:0"}}, devchain.Options{Payers: 1}},
		{nil, devchain.Options{Payers: 1}},
		{[]network{{1337, "127.0.0.1:0"}, {1338, busy.Addr().String()}}, devchain.Options{Payers: 1}},
		{[]network{{1337, "127.0.0.1:0"}, {1338, "127.0.0.1:0"}, {1339, "127.0.0.1:0"}}, devchain.Options{Payers: 1}},
	} {
		if err := run(context.Background(), &bytes.Buffer{}, tc.o, tc.nets, nil, 0); err == nil {
			t.Errorf("run(%+v, %+v) succeeded", tc.nets, tc.o)
		}
	}
}

// Two chains: each printed with its id and endpoint, each answering its
// own id there, the relayer funded on both; SIGUSR1 cuts the first's link
// only and SIGUSR2 the second's only, so one network can be offline while
// the other stays up.
func TestRunTwoChainsEachAnswersItsIDAndIsCutAlone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	toggle := make(chan os.Signal, 1)
	relayer := common.HexToAddress("0x00000000000000000000000000000000000000e1")
	nets := []network{{1337, "127.0.0.1:0"}, {1338, "127.0.0.1:0"}}
	go func() {
		done <- run(ctx, &out, devchain.Options{Payers: 2, Fund: []common.Address{relayer}}, nets, toggle, 0)
	}()

	endpointRE := regexp.MustCompile(`endpoint\s+(http://127\.0\.0\.1:\d+)`)
	var endpoints []string
	for deadline := time.Now().Add(20 * time.Second); endpoints == nil; time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no endpoints printed within 20 s:\n%s", out.String())
		}
		if s := out.String(); strings.Contains(s, "Ctrl-C") {
			for _, m := range endpointRE.FindAllStringSubmatch(s, -1) {
				endpoints = append(endpoints, m[1])
			}
		}
	}
	printed := out.String()
	if len(endpoints) != 2 || endpoints[0] == endpoints[1] {
		t.Fatalf("endpoints printed: %q, want two different ones:\n%s", endpoints, printed)
	}
	for _, want := range []string{
		"network 1: chain 1337",
		"network 2: chain 1338",
		"chain id  1337",
		"chain id  1338",
		"kill -USR1 ",
		"kill -USR2 ",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	if n := strings.Count(printed, devchain.TokenAddress); n != 2 {
		t.Errorf("token printed %d times, want once per chain:\n%s", n, printed)
	}
	if n := strings.Count(printed, devchain.FeedETHUSD.Address.Hex()); n != 2 {
		t.Errorf("ETH / USD feed printed %d times, want once per chain:\n%s", n, printed)
	}
	if n := strings.Count(printed, "funded    "+relayer.Hex()); n != 2 {
		t.Errorf("relayer printed funded %d times, want once per chain:\n%s", n, printed)
	}

	// chainID asks endpoint i for its chain id: "" when unreachable.
	chainID := func(i int) string {
		rc, err := rpc.Dial(endpoints[i])
		if err != nil {
			return ""
		}
		defer rc.Close()
		var id string
		if err := rc.Call(&id, "eth_chainId"); err != nil {
			return ""
		}
		return id
	}
	relayerBalance := func(i int) *big.Int {
		rc, err := rpc.Dial(endpoints[i])
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		var bal hexutil.Big
		if err := rc.Call(&bal, "eth_getBalance", relayer, "latest"); err != nil {
			t.Fatalf("endpoint %d: eth_getBalance: %v", i, err)
		}
		return bal.ToInt()
	}
	for i, want := range []string{"0x539", "0x53a"} {
		if got := chainID(i); got != want {
			t.Fatalf("endpoint %d (%s): eth_chainId = %q, want %q", i, endpoints[i], got, want)
		}
		if bal := relayerBalance(i); bal.Sign() <= 0 {
			t.Errorf("endpoint %d: relayer's balance %v, want funded", i, bal)
		}
	}

	for _, tc := range []struct {
		sig       os.Signal
		cut, kept int
	}{
		{syscall.SIGUSR1, 0, 1},
		{syscall.SIGUSR2, 1, 0},
	} {
		toggle <- tc.sig
		waitUntil(t, func() bool { return chainID(tc.cut) == "" }, fmt.Sprintf("%v: endpoint %d still answers", tc.sig, tc.cut))
		if chainID(tc.kept) == "" {
			t.Fatalf("%v cut endpoint %d too", tc.sig, tc.kept)
		}
		toggle <- tc.sig
		waitUntil(t, func() bool { return chainID(tc.cut) != "" }, fmt.Sprintf("%v again: endpoint %d not restored", tc.sig, tc.cut))
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return within 10 s of cancel")
	}
	for i := range endpoints {
		if chainID(i) != "" {
			t.Errorf("%s still answers after run returned", endpoints[i])
		}
	}
}

func TestNetworksFromFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int
		first   uint64
		ids     string
		addr    string
		want    []network
		wantErr bool
	}{
		{name: "one chain as before", n: 1, first: 1337, addr: "127.0.0.1:8545",
			want: []network{{1337, "127.0.0.1:8545"}}},
		{name: "two chains: next id, next port", n: 2, first: 1337, addr: "127.0.0.1:8545",
			want: []network{{1337, "127.0.0.1:8545"}, {1338, "127.0.0.1:8546"}}},
		{name: "two chains on free ports", n: 2, first: 1337, addr: "127.0.0.1:0",
			want: []network{{1337, "127.0.0.1:0"}, {1338, "127.0.0.1:0"}}},
		{name: "chain ids named", n: 2, first: 1337, ids: "10, 8453", addr: "localhost:9000",
			want: []network{{10, "localhost:9000"}, {8453, "localhost:9001"}}},
		{name: "ipv6 loopback", n: 2, first: 1337, addr: "[::1]:8545",
			want: []network{{1337, "[::1]:8545"}, {1338, "[::1]:8546"}}},
		{name: "no chains", n: 0, first: 1337, addr: "127.0.0.1:8545", wantErr: true},
		{name: "three chains: two signals only", n: 3, first: 1337, addr: "127.0.0.1:8545", wantErr: true},
		{name: "ids not as many as chains", n: 2, first: 1337, ids: "1337", addr: "127.0.0.1:8545", wantErr: true},
		{name: "same id twice", n: 2, first: 1337, ids: "1337,1337", addr: "127.0.0.1:8545", wantErr: true},
		{name: "id zero", n: 2, first: 1337, ids: "0,1338", addr: "127.0.0.1:8545", wantErr: true},
		{name: "id not a number", n: 2, first: 1337, ids: "1337,base", addr: "127.0.0.1:8545", wantErr: true},
		{name: "next port past 65535", n: 2, first: 1337, addr: "127.0.0.1:65535", wantErr: true},
		{name: "bad address", n: 2, first: 1337, addr: "nonsense", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := networks(tc.n, tc.first, tc.ids, tc.addr)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("networks = %+v, want an error", got)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("networks = %+v, %v; want %+v", got, err, tc.want)
			}
		})
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
