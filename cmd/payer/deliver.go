package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"go.bug.st/serial"

	"showpos/drivers/virtual"
	"showpos/terminal/nfcpay"
)

// maxAnswer caps the terminal's answer to broadcastTx.
const maxAnswer = 64 << 10

// broadcast posts {"requestId","rawTx"} and returns the status, the body
// and, for an error answer, its code.
func broadcast(ctx context.Context, url, requestID string, raw []byte) (int, json.RawMessage, string, error) {
	in, _ := json.Marshal(map[string]string{"requestId": requestID, "rawTx": hexutil.Encode(raw)})
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
