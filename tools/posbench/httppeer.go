package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// httpPeerEnv, set in posbench's environment, makes it the server of the
// bare HTTP round trip (serveHTTPPeer) instead of the bench: the
// one-payer rows time it beside posd's accept, as posbench starts a copy
// of itself with it.
const httpPeerEnv = "POSBENCH_HTTP_PEER"

// peerReceipt is what the peer answers: a receipt's size and shape.
var peerReceipt = []byte(`{"requestId":"0194f0c2-7d1e-7a3b-9c4d-5e6f708192a3","txHash":"0x5a1e0b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",` +
	`"from":"0x8ba1f109551bd432803012645ac136ddd64dba72","status":"queued","source":"handover"}` + "\n")

// serveHTTPPeer listens on a loopback port, writes its address on a line
// to stdout, and answers every request with 202 and peerReceipt once it
// has read the body whole: an HTTP server that does nothing else, in a
// process of its own as posd is. It serves until killed.
func serveHTTPPeer() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(peerReceipt)
	})}
	return srv.Serve(ln)
}

// newPayerClient is the payers' HTTP client: connections kept alive, as
// many as the concurrent payers.
func newPayerClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxIdleConns: 128}}
}

// httpRoundTrips starts the HTTP peer and times n POSTs of a broadcastTx
// body carrying raw, one after another over one kept-alive connection,
// from a client made as the payer's is (newPayerClient), after warm
// unmeasured ones: what HTTP on loopback costs the accept, with no
// terminal behind it.
func httpRoundTrips(ctx context.Context, raw []byte, n, warm int) (samples, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), httpPeerEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := sync.OnceFunc(func() { cancel(); _ = cmd.Wait() })
	defer stop()
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop() // its stderr is written whole once it has exited
		return nil, fmt.Errorf("HTTP peer: no address (%v): %s", err, stderr.String())
	}
	url := "http://" + strings.TrimSpace(addr) + "/api/showpos/broadcastTx"
	body, err := json.Marshal(map[string]string{"requestId": "0194f0c2-7d1e-7a3b-9c4d-5e6f708192a3", "rawTx": hexutil.Encode(raw)})
	if err != nil {
		return nil, err
	}
	client := newPayerClient()
	post := func() error {
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.ReadAll(resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("HTTP peer: %s", resp.Status)
		}
		return nil
	}
	for range warm {
		if err := post(); err != nil {
			return nil, err
		}
	}
	return timeEach(n, func(int) error { return post() })
}
