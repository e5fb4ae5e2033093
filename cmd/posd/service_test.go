package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/request"
	"showpos/tools/paytx"
)

// requestByID reads a request from the operator socket.
func (tm *terminal) requestByID(id string) (*request.Request, error) {
	req, _ := http.NewRequest("GET", "http://posd/v1/requests/"+id, nil)
	resp, err := tm.op.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	doc, err := request.ParseDocument(buf.Bytes())
	if err != nil {
		return nil, err
	}
	return doc.Request(), nil
}

// notifications collects what posd tells systemd on a NOTIFY_SOCKET.
type notifications struct {
	mu   sync.Mutex
	msgs []string
}

func listenNotify(t *testing.T) (string, *notifications) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &notifications{}
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, string(buf[:k]))
			n.mu.Unlock()
		}
	}()
	return path, n
}

// wait waits for a notification containing want, after the first skip ones.
func (n *notifications) wait(t *testing.T, want string, skip int) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		n.mu.Lock()
		for i := skip; i < len(n.msgs); i++ {
			if strings.Contains(n.msgs[i], want) {
				n.mu.Unlock()
				return i + 1
			}
		}
		n.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	t.Fatalf("posd never notified %q; got %q", want, n.msgs)
	return 0
}

// posd as systemd runs it: READY once it answers, watchdog pings, a
// reload on SIGHUP, and on SIGTERM STOPPING, a drain in which every
// payment already answered 202 stays stored, and a clean exit.
func TestPosdUnderSystemd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the daemon")
	}
	bin := buildPosd(t)
	sock, notes := listenNotify(t)
	tm := writeTerminal(t, headless)
	cmd := exec.Command(bin, "-config", tm.cfgPath, "-listen", anyPort)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=200000")
	var logs lockedBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})

	seen := notes.wait(t, "READY=1", 0)
	if runtime.GOOS == "linux" {
		bootReadLogged(t, &logs)
	}
	tm.addr = listening(t, tm.op).API
	seen = notes.wait(t, "WATCHDOG=1", seen)
	notes.wait(t, "WATCHDOG=1", seen)

	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	seen = notes.wait(t, "RELOADING=1", 0)
	notes.wait(t, "READY=1", seen)

	// Sales keep going while SIGTERM comes in: each worker makes a request
	// on the socket and pays it over HTTP, until the daemon stops answering.
	var mu sync.Mutex
	var acked []string
	busy := make(chan struct{}) // closed once every worker has a payment acknowledged
	var wg sync.WaitGroup
	const workers = 8
	started := 0
	for range workers {
		wg.Go(func() {
			payer, _ := crypto.GenerateKey()
			for i := uint64(0); ; i++ {
				req, _ := http.NewRequest("POST", "http://posd/v1/requests", strings.NewReader(`{"amount":"0.001"}`))
				resp, err := tm.op.Do(req)
				if err != nil {
					return
				}
				var doc struct {
					ID string `json:"id"`
				}
				json.NewDecoder(resp.Body).Decode(&doc)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					return
				}
				r, err := tm.requestByID(doc.ID)
				if err != nil {
					return
				}
				tx, err := paytx.Build(r, payer, paytx.Options{Nonce: i})
				if err != nil {
					t.Error(err)
					return
				}
				raw, _ := tx.MarshalBinary()
				in, _ := json.Marshal(map[string]string{"requestId": r.ID, "rawTx": hexutil.Encode(raw)})
				resp, err = http.Post("http://"+tm.addr+"/api/showpos/broadcastTx", "application/json", bytes.NewReader(in))
				if err != nil {
					return // the daemon has stopped listening
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					return
				}
				mu.Lock()
				acked = append(acked, tx.Hash().Hex())
				if i == 0 {
					if started++; started == workers {
						close(busy)
					}
				}
				mu.Unlock()
			}
		})
	}
	// SIGTERM once every worker is selling, not after a set time: on a
	// loaded machine 300 ms was not always enough for one payment.
	select {
	case <-busy:
	case <-time.After(30 * time.Second):
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		t.Fatalf("only %d payments acknowledged in 30 s, before any SIGTERM (a worker stops at its first refusal):\n%s", n, logs.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	notes.wait(t, "STOPPING=1", 0)
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("posd exited with %v after SIGTERM:\n%s", err, logs.String())
		}
	case <-time.After(drainFor + 5*time.Second):
		t.Fatal("posd did not stop within the drain time")
	}
	wg.Wait()

	// Every acknowledged payment is in the store after a restart, once.
	if len(acked) == 0 {
		t.Fatal("no payment was acknowledged before SIGTERM")
	}
	tm.start()
	defer tm.stop()
	// All of them, page by page: how many were acknowledged depends on
	// the disk.
	var stored strings.Builder
	for after := uint64(0); ; {
		page := tm.operator("GET", fmt.Sprintf("/v1/payments?limit=1000&after=%d", after), "")
		stored.Write(page.raw)
		var p struct {
			Next uint64 `json:"next"`
		}
		if err := json.Unmarshal(page.raw, &p); err != nil {
			t.Fatalf("payments page: %v: %s", err, page.raw)
		}
		if p.Next == 0 {
			break
		}
		after = p.Next
	}
	for _, h := range acked {
		if n := strings.Count(stored.String(), h); n != 1 {
			t.Errorf("payment %s was acknowledged; stored %d times", h, n)
		}
	}
	t.Logf("%d payments acknowledged before and during the drain, all stored", len(acked))
}

// bootReadLogged requires posd's "posd ready" line, logged just before
// READY=1, to say what the boot read (read_bytes and rchar of
// /proc/self/io): tools/posbench's boot-read rows take their figure from
// it. The line is in logs soon after READY=1 (exec copies posd's stderr).
func bootReadLogged(t *testing.T, logs *lockedBuffer) {
	t.Helper()
	field := func(line, k string) (int64, bool) {
		m := regexp.MustCompile(`(?:^| )` + k + `=(\d+)(?: |$)`).FindStringSubmatch(line)
		if m == nil {
			return 0, false
		}
		n, err := strconv.ParseInt(m[1], 10, 64)
		return n, err == nil
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		for line := range strings.Lines(logs.String()) {
			if !strings.Contains(line, `msg="posd ready"`) {
				continue
			}
			line = strings.TrimSuffix(line, "\n")
			readBytes, okB := field(line, "read_bytes")
			rchar, okC := field(line, "rchar")
			if !okB || !okC || rchar <= 0 {
				t.Fatalf("the ready line says no boot read (read_bytes %d %v, rchar %d %v): %s", readBytes, okB, rchar, okC, line)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no \"posd ready\" line in posd's log:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
