package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"showpos/terminal/procio"
	"showpos/terminal/request"
)

// buildPosd builds the daemon into dir with this build's cgo setting
// (CGO_ENABLED in the environment is inherited), as `go build` would for
// this machine.
func buildPosd(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "posd")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/posd")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/posd: %v\n%s", err, out)
	}
	return bin, nil
}

// terminal is a posd data directory and its config.
type terminal struct {
	dir     string // holds posd.toml and data/
	cfgPath string
	data    string
}

// newTerminal writes a terminal whose network API binds a loopback port
// the system picks at each start (the daemon's status says which), with
// no chain endpoints.
func newTerminal(dir string) (*terminal, error) { return newTerminalOn(dir, "") }

// newTerminalOn is newTerminal with the chain endpoint rpc.
func newTerminalOn(dir, rpc string) (*terminal, error) {
	return writeTerminal(dir, func(data string) (string, error) { return configFor(data, rpc), nil })
}

// newTerminalNets is newTerminal on nets networks (configForNets).
func newTerminalNets(dir string, nets int) (*terminal, error) {
	return writeTerminal(dir, func(data string) (string, error) { return configForNets(data, nets) })
}

// writeTerminal writes the config that config makes for the terminal's
// data directory under dir.
func writeTerminal(dir string, config func(data string) (string, error)) (*terminal, error) {
	t := &terminal{dir: dir, cfgPath: filepath.Join(dir, "posd.toml"), data: filepath.Join(dir, "data")}
	text, err := config(t.data)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(t.data, 0o750); err != nil {
		return nil, err
	}
	return t, os.WriteFile(t.cfgPath, []byte(text), 0o600)
}

// daemon is a running posd.
type daemon struct {
	t       *terminal
	cmd     *exec.Cmd
	exited  chan error
	started time.Time     // just before the process was started
	ready   time.Duration // start to READY=1
	op      *http.Client  // the operator socket
	payer   *http.Client  // the network API
	addr    string        // the network API's address, from the status
	log     *os.File
	logFrom int64 // the log's size when this posd started: its lines follow
	// readyIO is /proc/PID/io read from outside as soon as READY=1 was
	// read from the notify socket (readyIOErr: why it could not be): what
	// posd read to get there, and more by what its work after READY (the
	// store's scrub) read first. A cross-check of bootIO.
	readyIO    procio.IO
	readyIOErr error
	// bootIO is what posd said it read before READY=1 (its "posd ready"
	// line, from its own /proc/self/io just before it sent READY=1):
	// exact. coldBoot reads it.
	bootIO procio.IO

	stopOnce sync.Once
	stopErr  error
}

// startPosd starts bin on t with a NOTIFY_SOCKET of ours and returns once
// posd has sent READY=1, or fails after within.
func startPosd(bin string, t *terminal, within time.Duration) (*daemon, error) {
	sockPath := filepath.Join(t.dir, fmt.Sprintf("notify-%d.sock", time.Now().UnixNano()))
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sockPath, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	defer os.Remove(sockPath)
	defer sock.Close()
	logf, err := os.OpenFile(filepath.Join(t.dir, "posd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	d := &daemon{t: t, exited: make(chan error, 1), log: logf,
		op: &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var dl net.Dialer
				return dl.DialContext(ctx, "unix", filepath.Join(t.data, "posd.sock"))
			},
			MaxIdleConnsPerHost: 64,
		}},
		payer: newPayerClient(),
	}
	if fi, err := logf.Stat(); err == nil {
		d.logFrom = fi.Size()
	}
	d.cmd = exec.Command(bin, "-config", t.cfgPath)
	d.cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sockPath)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf

	type ready struct {
		at  time.Time
		io  procio.IO
		err error
	}
	readyc := make(chan ready, 1)
	pidc := make(chan int, 1) // posd's pid, once started
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := sock.Read(buf)
			if err != nil {
				return
			}
			if bytes.Contains(buf[:n], []byte("READY=1")) {
				r := ready{at: time.Now()}
				// At once, the cross-check of posd's own figure: its
				// work after READY (the store's scrub) reads on, so this
				// one errs high by what that read first.
				r.io, r.err = procio.Read(<-pidc)
				readyc <- r
				return
			}
		}
	}()
	d.started = time.Now()
	if err := d.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start posd: %w", err)
	}
	pidc <- d.cmd.Process.Pid
	go func() { d.exited <- d.cmd.Wait() }()
	select {
	case r := <-readyc:
		d.ready, d.readyIO, d.readyIOErr = r.at.Sub(d.started), r.io, r.err
		if d.addr, err = d.networkAddr(); err != nil {
			d.stop()
			return nil, err
		}
		return d, nil
	case err := <-d.exited:
		logf.Close()
		return nil, fmt.Errorf("posd exited before READY=1: %v (log %s: %s)", err, logf.Name(), tail(logf.Name()))
	case <-time.After(within):
		d.stop()
		return nil, fmt.Errorf("posd sent no READY=1 within %s", within)
	}
}

// networkAddr reads where the network API listens from posd's status.
func (d *daemon) networkAddr() (string, error) {
	resp, err := d.op.Get("http://posd/v1/status")
	if err != nil {
		return "", fmt.Errorf("status: %w", err)
	}
	defer resp.Body.Close()
	var st struct {
		Listen struct {
			API string `json:"api"`
		} `json:"listen"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || st.Listen.API == "" {
		return "", fmt.Errorf("status names no network API (%d, %v)", resp.StatusCode, err)
	}
	return st.Listen.API, nil
}

// stop sends SIGTERM and waits for posd to exit (it drains for up to 10 s).
// Stopping again returns the first stop's answer.
func (d *daemon) stop() error {
	d.stopOnce.Do(func() {
		defer d.log.Close()
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case d.stopErr = <-d.exited:
		case <-time.After(30 * time.Second):
			_ = d.cmd.Process.Kill()
			<-d.exited
			d.stopErr = errors.New("posd did not stop within 30 s of SIGTERM; killed")
		}
	})
	return d.stopErr
}

// status reads fields of /proc/PID/status, in bytes: VmRSS, VmHWM,
// RssAnon, RssFile.
func (d *daemon) status() (map[string]int64, error) {
	return procStatus(d.cmd.Process.Pid)
}

func procStatus(pid int) (map[string]int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch k {
		case "VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem":
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				out[k] = kb << 10
			}
		}
	}
	return out, sc.Err()
}

// newRequest asks posd's operator socket for a request of amount of the
// asset, as a cashier or posctl would.
func (d *daemon) newRequest(amount, symbol string) (*request.Request, error) {
	body, _ := json.Marshal(map[string]string{"amount": amount, "asset": symbol})
	resp, err := d.op.Post("http://posd/v1/requests", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("new request: %d %s", resp.StatusCode, raw)
	}
	doc, err := request.ParseDocument(raw)
	if err != nil {
		return nil, err
	}
	return doc.Request(), nil
}

// newRequests makes n requests over the operator socket, up to 16 at a
// time (the store's group commit shares their fsyncs).
func (d *daemon) newRequests(n int, amount, symbol string) ([]*request.Request, error) {
	out := make([]*request.Request, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			r, err := d.newRequest(amount, symbol)
			if err != nil {
				errs <- err
				return
			}
			out[i] = r
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return out, nil
}

// broadcastTx posts a signed payment to the payer API and wants 202.
func (d *daemon) broadcastTx(requestID string, raw []byte) error {
	body, _ := json.Marshal(map[string]string{"requestId": requestID, "rawTx": hexutil.Encode(raw)})
	resp, err := d.payer.Post("http://"+d.addr+"/api/showpos/broadcastTx", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("broadcastTx: %d %s", resp.StatusCode, answer)
	}
	return nil
}

// tail is the end of a log file, for an error message.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// cpuTime is the CPU time posd has used so far (user and system), from
// /proc/PID/stat, whose clock ticks are USER_HZ, 100 a second on Linux.
func (d *daemon) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", d.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// pid (comm) state ppid …: comm may hold spaces, so split after ')'.
	_, rest, ok := strings.Cut(string(b), ") ")
	if !ok {
		return 0, fmt.Errorf("odd /proc/PID/stat: %q", b)
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("odd /proc/PID/stat: %q", b)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("odd /proc/PID/stat: %q", b)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}
