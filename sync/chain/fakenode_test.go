package chain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// How a fakeNode misbehaves.
type mode int

const (
	healthy     mode = iota
	hang             // never answers (until the test ends)
	status503        // HTTP 503
	status429        // HTTP 429
	htmlPage         // HTTP 200 with a captive portal's page
	batchObject      // answers a batch with one error object, as nodes without batches do
	batchTooBig      // answers a batch as geth does over its limit: one error, the rest missing
)

type rpcErr struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

type rpcReq struct {
	ID     json.RawMessage   `json:"id"`
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
}

type rpcResp struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcErr         `json:"error,omitempty"`
}

// fakeNode is a JSON-RPC server on loopback that answers from tables.
type fakeNode struct {
	t    *testing.T
	addr string
	srv  *httptest.Server
	done chan struct{} // closed at cleanup: releases hanging handlers

	mu        sync.Mutex
	mode      mode
	chainID   uint64
	requests  int                        // HTTP requests received
	batches   int                        // of which batches
	methods   []string                   // every call, in order
	sent      []common.Hash              // hashes of transactions taken
	sendErr   map[common.Hash]*rpcErr    // refusals by tx hash
	wrongHash bool                       // answer sends with a made-up hash
	receipts  map[common.Hash]any        // eth_getTransactionReceipt answers (absent: null)
	txs       map[common.Hash]any        // eth_getTransactionByHash answers (absent: null)
	block     uint64                     // eth_blockNumber
	headers   map[string]any             // eth_getBlockByNumber answers by block param ("0x7", "finalized"); absent: null; an *rpcErr: that error
	nonces    map[string]uint64          // "addr/block" → eth_getTransactionCount
	callRes   map[common.Address]any     // eth_call result or *rpcErr, by "to"
	lastCall  map[string]json.RawMessage // eth_call's first param, last seen
	full      map[string]any             // eth_getBlockByNumber answers with transactions, by block param
	logs      any                        // eth_getLogs answer (nil: [])
	lastLogs  json.RawMessage            // eth_getLogs' filter, last seen
	balances  map[string]any             // eth_getBalance answers by block param's JSON; absent: error
	lastBal   json.RawMessage            // eth_getBalance's block param, last seen
	feeHist   any                        // eth_feeHistory answer (nil: an error)
}

func newFakeNode(t *testing.T, chainID uint64) *fakeNode {
	t.Helper()
	f := &fakeNode{
		t: t, chainID: chainID, done: make(chan struct{}),
		sendErr: map[common.Hash]*rpcErr{}, receipts: map[common.Hash]any{}, txs: map[common.Hash]any{},
		nonces: map[string]uint64{}, callRes: map[common.Address]any{}, headers: map[string]any{},
	}
	f.srv = httptest.NewServer(f)
	f.addr = f.srv.Listener.Addr().String()
	t.Cleanup(func() {
		close(f.done)
		f.mu.Lock()
		srv := f.srv
		f.mu.Unlock()
		if srv != nil {
			srv.Close()
		}
	})
	return f
}

// URL is the node's endpoint.
func (f *fakeNode) URL() string { return "http://" + f.addr }

func (f *fakeNode) set(m mode) {
	f.mu.Lock()
	f.mode = m
	f.mu.Unlock()
}

// stop closes the listener: connections are refused until start.
func (f *fakeNode) stop() {
	f.mu.Lock()
	srv := f.srv
	f.srv = nil
	f.mu.Unlock()
	srv.Close()
}

// start listens again on the same address.
func (f *fakeNode) start() {
	f.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port is ours, but the kernel may take a moment
		if ln, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		f.t.Fatalf("relisten %s: %v", f.addr, err)
	}
	srv := httptest.NewUnstartedServer(f)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
}

// counts returns the HTTP requests and batch requests so far.
func (f *fakeNode) counts() (requests, batches int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests, f.batches
}

// called returns how many calls of method the node received.
func (f *fakeNode) called(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, m := range f.methods {
		if m == method {
			n++
		}
	}
	return n
}

func (f *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	body = bytes.TrimSpace(body)
	isBatch := len(body) > 0 && body[0] == '['
	f.mu.Lock()
	f.requests++
	if isBatch {
		f.batches++
	}
	m := f.mode
	f.mu.Unlock()

	switch m {
	case hang:
		select {
		case <-r.Context().Done():
		case <-f.done:
		}
		return
	case status503:
		http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
		return
	case status429:
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	case htmlPage:
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body>Please log in to the hotel Wi-Fi</body></html>")
		return
	}

	w.Header().Set("Content-Type", "application/json")
	if !isBatch {
		var req rpcReq
		if err := json.Unmarshal(body, &req); err != nil {
			json.NewEncoder(w).Encode(rpcResp{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &rpcErr{Code: -32700, Message: "parse error"}})
			return
		}
		json.NewEncoder(w).Encode(f.answer(req))
		return
	}
	var reqs []rpcReq
	if err := json.Unmarshal(body, &reqs); err != nil {
		f.t.Errorf("fake node: bad batch: %v", err)
		return
	}
	switch m {
	case batchObject:
		json.NewEncoder(w).Encode(rpcResp{JSONRPC: "2.0", ID: json.RawMessage("null"),
			Error: &rpcErr{Code: -32600, Message: "batch requests are not supported"}})
		return
	case batchTooBig:
		json.NewEncoder(w).Encode([]rpcResp{{JSONRPC: "2.0", ID: reqs[0].ID,
			Error: &rpcErr{Code: -32600, Message: "batch too large"}}})
		return
	}
	out := make([]rpcResp, len(reqs))
	for i, req := range reqs {
		out[i] = f.answer(req)
	}
	json.NewEncoder(w).Encode(out)
}

// answer answers one call from the tables.
func (f *fakeNode) answer(req rpcReq) rpcResp {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.methods = append(f.methods, req.Method)
	resp := rpcResp{JSONRPC: "2.0", ID: req.ID}
	param := func(i int, v any) bool {
		if i >= len(req.Params) || json.Unmarshal(req.Params[i], v) != nil {
			resp.Error = &rpcErr{Code: -32602, Message: fmt.Sprintf("invalid argument %d", i)}
			return false
		}
		return true
	}
	var h common.Hash
	switch req.Method {
	case "eth_chainId":
		resp.Result = hexutil.Uint64(f.chainID)
	case "eth_blockNumber":
		resp.Result = hexutil.Uint64(f.block)
	case "eth_sendRawTransaction":
		var raw hexutil.Bytes
		if !param(0, &raw) {
			break
		}
		var tx types.Transaction
		if err := tx.UnmarshalBinary(raw); err != nil {
			resp.Error = &rpcErr{Code: -32000, Message: "rlp: " + err.Error()}
			break
		}
		if e := f.sendErr[tx.Hash()]; e != nil {
			resp.Error = e
			break
		}
		f.sent = append(f.sent, tx.Hash())
		resp.Result = tx.Hash()
		if f.wrongHash {
			resp.Result = common.Hash{0xba, 0xd}
		}
	case "eth_getTransactionReceipt":
		if param(0, &h) {
			resp.Result = orNull(f.receipts[h])
		}
	case "eth_getTransactionByHash":
		if param(0, &h) {
			resp.Result = orNull(f.txs[h])
		}
	case "eth_getBlockByNumber":
		var block string
		var full bool
		if param(0, &block) && param(1, &full) {
			if full {
				if f.full == nil {
					resp.Error = &rpcErr{Code: -32602, Message: "fake: only headers"}
					break
				}
				resp.Result = orNull(f.full[block])
				break
			}
			if e, ok := f.headers[block].(*rpcErr); ok {
				resp.Error = e
				break
			}
			resp.Result = orNull(f.headers[block])
		}
	case "eth_getTransactionCount":
		var addr common.Address
		var block string
		if param(0, &addr) && param(1, &block) {
			resp.Result = hexutil.Uint64(f.nonces[addr.Hex()+"/"+block])
		}
	case "eth_getLogs":
		if len(req.Params) != 1 {
			resp.Error = &rpcErr{Code: -32602, Message: "want one filter"}
			break
		}
		f.lastLogs = req.Params[0]
		resp.Result = f.logs
		if f.logs == nil {
			resp.Result = []any{}
		}
	case "eth_feeHistory":
		if f.feeHist == nil {
			resp.Error = &rpcErr{Code: -32601, Message: "the method eth_feeHistory does not exist/is not available"}
			break
		}
		resp.Result = f.feeHist
	case "eth_getBalance":
		var addr common.Address
		if !param(0, &addr) || len(req.Params) != 2 {
			break
		}
		f.lastBal = req.Params[1]
		var key bytes.Buffer
		json.Compact(&key, req.Params[1])
		switch v := f.balances[key.String()].(type) {
		case *rpcErr:
			resp.Error = v
		case nil:
			resp.Error = &rpcErr{Code: -32000, Message: "header not found"}
		default:
			resp.Result = v
		}
	case "eth_call":
		var arg struct {
			To *common.Address `json:"to"`
		}
		if !param(0, &arg) || arg.To == nil {
			break
		}
		if f.lastCall == nil {
			f.lastCall = map[string]json.RawMessage{}
		}
		f.lastCall["arg"], f.lastCall["block"] = req.Params[0], req.Params[1]
		switch v := f.callRes[*arg.To].(type) {
		case *rpcErr:
			resp.Error = v
		case nil:
			resp.Result = "0x"
		default:
			resp.Result = v
		}
	default:
		resp.Error = &rpcErr{Code: -32601, Message: "the method " + req.Method + " does not exist/is not available"}
	}
	return resp
}

// orNull makes a JSON null of a missing table entry (Result is omitempty).
func orNull(v any) any {
	if v == nil {
		return json.RawMessage("null")
	}
	return v
}
