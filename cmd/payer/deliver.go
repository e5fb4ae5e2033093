package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"go.bug.st/serial"

	"showpos/device/clock"
	"showpos/drivers/virtual"
	"showpos/terminal/nfcpay"
)

// maxAnswer caps the terminal's answer to broadcastTx.
const maxAnswer = 64 << 10

// broadcast posts {"requestId","rawTx"} and returns the status, the body
// and, for an error answer, its code.
func broadcast(ctx context.Context, url, requestID string, raw []byte) (int, json.RawMessage, string, error) {
	in, _ := json.Marshal(map[string]string{"requestId": requestID, "rawTx": hexutil.Encode(raw)})
	return post(ctx, url, in)
}

// post posts a handover body to broadcastTx and returns the status, the
// body and, for an error answer, its code. A 503 unavailable (the terminal
// just started and is still checking its open payments) is sent again, as
// the API asks, up to unavailableTries times, waiting longer each time: a
// repeat of a payment the terminal took answers as accepted.
func post(ctx context.Context, url string, in []byte) (int, json.RawMessage, string, error) {
	wait := 50 * time.Millisecond
	for try := 1; ; try++ {
		status, body, code, err := postOnce(ctx, url, in)
		if err != nil || status != http.StatusServiceUnavailable || code != "unavailable" || try == unavailableTries {
			return status, body, code, err
		}
		select {
		case <-ctx.Done():
			return 0, nil, "", fmt.Errorf("broadcastTx: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// unavailableTries is how many times post sends a payment the terminal
// answers 503 unavailable: the waits between them add up to about 3.5 s.
const unavailableTries = 8

// postOnce is one post.
func postOnce(ctx context.Context, url string, in []byte) (int, json.RawMessage, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(in))
	if err != nil {
		return 0, nil, "", fmt.Errorf("broadcastTx: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, "", fmt.Errorf("broadcastTx: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, nil, "", fmt.Errorf("broadcastTx: %w", err)
	}
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if resp.StatusCode >= 400 {
		json.Unmarshal(body, &e)
	}
	body = bytes.TrimSpace(body)
	if !json.Valid(body) {
		b, _ := json.Marshal(string(body))
		body = b
	}
	return resp.StatusCode, json.RawMessage(body), e.Error.Code, nil
}

// writeScanner writes "0x<hex>\r" to the scanner's serial port, as a QR
// scanner reading the phone's screen would, and waits until it has left.
func writeScanner(ctx context.Context, path string, raw []byte) error {
	port, err := serial.Open(path, &serial.Mode{BaudRate: 9600})
	if err != nil {
		return fmt.Errorf("open scanner port %s: %w", path, err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := port.Write([]byte(hexutil.Encode(raw) + "\r"))
		if err == nil {
			err = port.Drain()
		}
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		// A terminal that stopped reading its scanner blocks the write;
		// closing the port is all we can do.
		err = fmt.Errorf("the scanner port did not take the payment: %w", ctx.Err())
	}
	if cerr := port.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write to scanner port %s: %w", path, err)
	}
	return nil
}

// nfcPhone is a payer's phone held to the simulator's NFC reader
// (virtual.Board.Tap): it speaks the phone side of the tap protocol
// (nfcpay.Phone), and when the terminal has sent its request document it
// checks the document's signature and answers with raw. A document that
// does not verify is declined (the terminal reads 69 82).
//
// Tests tap in-process with it; the CLI taps through the simulator's
// POST /sim/tap (tapSim), whose phone speaks the same protocol.
func nfcPhone(raw []byte) virtual.Phone {
	raw = bytes.Clone(raw)
	p := &nfcpay.Phone{Sign: func(doc []byte) ([]byte, error) {
		if _, err := verifiedDocument(doc); err != nil {
			return nil, err
		}
		return bytes.Clone(raw), nil
	}}
	var mu sync.Mutex
	return func(ctx context.Context, apdu []byte) ([]byte, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		return p.Respond(apdu), nil
	}
}

// tapSim holds the phone to the simulator's reader: POST /sim/tap with the
// signed transaction; the simulator's phone hands it over when the
// terminal asks, and the call returns once the terminal has released it.
func tapSim(ctx context.Context, sim string, raw []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(sim, "/")+"/sim/tap",
		strings.NewReader(hexutil.Encode(raw)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("tap at %s: %w", sim, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("tap at %s: %s: %s", sim, resp.Status, bytes.TrimSpace(b))
	}
	return nil
}

// sendToChain sends raw to the chain at rpc with eth_sendRawTransaction,
// as a wallet that scanned the QR does, and waits until it is mined: the
// terminal is told nothing and learns of the payment by watching the chain.
// It returns the block the transaction was mined in; a reverted transaction
// is an error (it moved no money).
func sendToChain(ctx context.Context, rpc string, chainID uint64, raw []byte) (uint64, error) {
	c, err := ethclient.DialContext(ctx, rpc)
	if err != nil {
		return 0, fmt.Errorf("send to %s: %w", rpc, err)
	}
	defer c.Close()
	id, err := c.ChainID(ctx)
	if err != nil {
		return 0, fmt.Errorf("send to %s: %w", rpc, err)
	}
	if !id.IsUint64() || id.Uint64() != chainID {
		return 0, fmt.Errorf("send to %s: %w: it is chain %s, the request is for %d", rpc, errWrongNetwork, id, chainID)
	}
	var hash common.Hash
	if err := c.Client().CallContext(ctx, &hash, "eth_sendRawTransaction", hexutil.Encode(raw)); err != nil {
		return 0, fmt.Errorf("send to %s: %w", rpc, err)
	}
	for {
		r, err := c.TransactionReceipt(ctx, hash)
		switch {
		case err == nil && r.Status != types.ReceiptStatusSuccessful:
			return 0, fmt.Errorf("transaction %s reverted in block %d", hash.Hex(), r.BlockNumber)
		case err == nil:
			return r.BlockNumber.Uint64(), nil
		case !errors.Is(err, ethereum.NotFound):
			return 0, fmt.Errorf("receipt of %s from %s: %w", hash.Hex(), rpc, err)
		}
		if err := clock.Sleep(ctx, 100*time.Millisecond); err != nil {
			return 0, fmt.Errorf("transaction %s not mined: %w", hash.Hex(), err)
		}
	}
}
