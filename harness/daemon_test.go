package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"showpos/terminal/config/configtest"
	"showpos/terminal/request"
)

// daemon is one posd binary on one config, started, killed and started
// again by a harness. Its stderr goes to a log file that a failing harness
// prints the end of.
type daemon struct {
	t       testing.TB
	log     *slog.Logger
	cfgPath string
	sock    string // the operator socket
	logPath string
	op      *http.Client // the operator socket
	net     *http.Client // the network API

	// addr is the running process's network (payer) API, as its status
	// says once it answers (each start binds a port of the system's
	// choosing); "" from just before a kill or stop until then.
	mu   sync.Mutex
	addr string

	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	starts int
	quiet  bool // no log tail when the test fails (one of many)
}

// terminalConfig is a headless terminal (no board, ETH alone) laid over the
// test config (configtest), with its data in dir/data and its network API
// on a port the system picks at each start; chain is more keys of [chain]
// (none: the dev chain's id 1337, no endpoints, payments wait), extra more
// tables (board, broadcast).
func terminalConfig(tb testing.TB, dir, chain, extra string) string {
	tb.Helper()
	return configtest.Text(tb, fmt.Sprintf(`
assets = [{ symbol = "ETH" }]
[terminal]
id = "harness-till"
data_dir = %q
request_ttl = "1h"
[api]
listen = "127.0.0.1:0"
[chain]
`, filepath.Join(dir, "data"))+chain+"\n"+extra)
}

// newDaemon writes cfgText to dir/posd.toml and returns a daemon on it, not
// started. Whatever runs at the end of the test is killed.
func newDaemon(t testing.TB, log *slog.Logger, dir, cfgText string) *daemon {
	t.Helper()
	cfgPath := filepath.Join(dir, "posd.toml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
	d := &daemon{
		t: t, log: log, cfgPath: cfgPath,
		sock:    filepath.Join(dir, "data", "posd.sock"),
		logPath: filepath.Join(dir, "posd.log"),
		net:     &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	}
	d.op = unixClient(d.sock)
	t.Cleanup(func() {
		d.kill()
		d.op.CloseIdleConnections()
		d.net.CloseIdleConnections()
		if t.Failed() && !d.quiet {
			d.printLogTail(40)
		}
	})
	return d
}

func unixClient(sock string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: 64,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
}

// start runs the binary and waits until its operator socket answers. It
// returns how long that took: exec, store open with its integrity check,
// listeners up.
func (d *daemon) start(ctx context.Context) (time.Duration, error) {
	began := time.Now()
	if err := d.spawn(); err != nil {
		return 0, err
	}
	if err := d.waitReady(ctx, 30*time.Second); err != nil {
		return 0, err
	}
	took := time.Since(began)
	d.log.Debug("posd up", "pid", d.cmd.Process.Pid, "start", d.starts, "took", took)
	return took, nil
}

// spawn starts the binary without waiting for it.
func (d *daemon) spawn() error {
	if d.running() {
		return errors.New("posd: already running")
	}
	lf, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("posd log: %w", err)
	}
	d.starts++
	fmt.Fprintf(lf, "----- start %d at %s\n", d.starts, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(posdBin, "-config", d.cfgPath)
	cmd.Stdout, cmd.Stderr = lf, lf
	// The daemon dies with the harness, whatever happens to the harness.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("start posd: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		lf.Close()
		close(exited)
	}()
	d.cmd, d.exited = cmd, exited
	return nil
}

// waitReady polls the operator socket until it answers GET /v1/status,
// and takes the network API's address from that answer.
func (d *daemon) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		if !d.running() {
			return fmt.Errorf("posd exited before it answered: %s (log %s)", d.cmd.ProcessState, d.logPath)
		}
		if r, err := d.operator(ctx, "GET", "/v1/status", nil); err == nil && r.status == http.StatusOK {
			var st status
			if err := json.Unmarshal(r.body, &st); err != nil || st.Listen.API == "" {
				return fmt.Errorf("status names no network API (%v): %s", err, r.body)
			}
			d.mu.Lock()
			d.addr = st.Listen.API
			d.mu.Unlock()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("posd did not answer on %s within %s (log %s)", d.sock, within, d.logPath)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// running reports whether the process started last has not exited.
func (d *daemon) running() bool {
	if d.cmd == nil {
		return false
	}
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// pid is the running process's id, 0 if none.
func (d *daemon) pid() int {
	if !d.running() {
		return 0
	}
	return d.cmd.Process.Pid
}

// kill sends SIGKILL and waits for the process to be gone; the file lock
// and the mmap go with it.
func (d *daemon) kill() {
	if !d.running() {
		return
	}
	d.forgetAddr()
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.exited
	d.log.Debug("posd killed", "pid", d.cmd.Process.Pid)
}

// stop asks posd to stop (SIGTERM: drain, close the store) and waits; after
// 15 s it is killed and that is an error.
func (d *daemon) stop() error {
	if !d.running() {
		return nil
	}
	d.forgetAddr()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(15 * time.Second):
		d.kill()
		return errors.New("posd did not stop within 15s of SIGTERM; killed")
	}
	if !d.cmd.ProcessState.Success() {
		return fmt.Errorf("posd stopped with %s (log %s)", d.cmd.ProcessState, d.logPath)
	}
	return nil
}

// networkAddr is the running process's network API address, as its
// status said ("" while it is not up).
func (d *daemon) networkAddr() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.addr
}

// forgetAddr stops payments going to the network API of a process about
// to go: once it has, its port is free for any other process to take.
func (d *daemon) forgetAddr() {
	d.mu.Lock()
	d.addr = ""
	d.mu.Unlock()
}

// waitExit waits up to within for the process to exit by itself.
func (d *daemon) waitExit(within time.Duration) bool {
	select {
	case <-d.exited:
		return true
	case <-time.After(within):
		return false
	}
}

func (d *daemon) printLogTail(lines int) {
	b, err := os.ReadFile(d.logPath)
	if err != nil {
		return
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	d.t.Logf("last lines of %s:\n%s", d.logPath, strings.Join(all, "\n"))
}

// reply is one HTTP answer.
type reply struct {
	status int
	body   []byte
}

// code is the stable error code of an error answer.
func (r reply) code() string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

func call(ctx context.Context, c *http.Client, method, url string, body []byte) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: read answer: %w", method, url, err)
	}
	return reply{status: resp.StatusCode, body: b}, nil
}

// operator calls the operator socket; body, if not nil, is sent as JSON.
func (d *daemon) operator(ctx context.Context, method, path string, body any) (reply, error) {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return reply{}, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
	}
	return call(ctx, d.op, method, "http://posd"+path, b)
}

// newRequest creates a payment request for amount ETH on the operator
// socket (it goes on screen, as if keyed).
func (d *daemon) newRequest(ctx context.Context, amount string) (*request.Request, error) {
	r, err := d.operator(ctx, "POST", "/v1/requests", map[string]string{"amount": amount})
	if err != nil {
		return nil, err
	}
	if r.status != http.StatusCreated {
		return nil, fmt.Errorf("new request: %d %s", r.status, r.body)
	}
	doc, err := request.ParseDocument(r.body)
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	return doc.Request(), nil
}

// errNotRunning is pay's answer while no started process answers: a
// phone's connection refused.
var errNotRunning = errors.New("posd is not running")

// pay sends raw for request id to the payer API, as a phone does.
func (d *daemon) pay(ctx context.Context, id string, raw []byte) (reply, error) {
	body, err := json.Marshal(map[string]string{"requestId": id, "rawTx": "0x" + fmt.Sprintf("%x", raw)})
	if err != nil {
		return reply{}, fmt.Errorf("encode payment: %w", err)
	}
	addr := d.networkAddr()
	if addr == "" {
		return reply{}, errNotRunning
	}
	return call(ctx, d.net, "POST", "http://"+addr+"/api/showpos/broadcastTx", body)
}

// payment is one entry of GET /v1/payments.
type payment struct {
	TxHash    string    `json:"txHash"`
	RequestID string    `json:"requestId"`
	From      string    `json:"from"`
	Nonce     uint64    `json:"nonce"`
	Amount    string    `json:"amount"`
	State     string    `json:"state"`
	Reason    string    `json:"reason"`
	Seq       uint64    `json:"seq"`
	Accepted  time.Time `json:"acceptedAt"`
	Updated   time.Time `json:"updatedAt"`
}

// payments lists every stored payment, page by page, in acceptance order.
func (d *daemon) payments(ctx context.Context) ([]payment, error) {
	var all []payment
	after := uint64(0)
	for {
		q := url.Values{"limit": {"1000"}, "after": {fmt.Sprint(after)}}
		r, err := d.operator(ctx, "GET", "/v1/payments?"+q.Encode(), nil)
		if err != nil {
			return nil, err
		}
		if r.status != http.StatusOK {
			return nil, fmt.Errorf("list payments: %d %s", r.status, r.body)
		}
		var page struct {
			Payments []payment `json:"payments"`
			Next     uint64    `json:"next"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			return nil, fmt.Errorf("list payments: %w", err)
		}
		all = append(all, page.Payments...)
		if page.Next == 0 {
			return all, nil
		}
		after = page.Next
	}
}

// status is the part of GET /v1/status the harnesses read.
type status struct {
	Started time.Time      `json:"started"`
	Online  bool           `json:"online"`
	Queue   map[string]int `json:"queue"`
	Devices []struct {
		Kind    string `json:"kind"`
		Present bool   `json:"present"`
	} `json:"devices"`
	Listen struct {
		API string `json:"api"`
	} `json:"listen"`
}

func (d *daemon) status(ctx context.Context) (status, error) {
	var s status
	r, err := d.operator(ctx, "GET", "/v1/status", nil)
	if err != nil {
		return s, err
	}
	if r.status != http.StatusOK {
		return s, fmt.Errorf("status: %d %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, &s); err != nil {
		return s, fmt.Errorf("status: %w", err)
	}
	return s, nil
}
