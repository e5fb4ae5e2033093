package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"showpos/terminal/request"
)

// procKiB reads a "Name:   N kB" line of /proc/pid/status.
func procKiB(pid int, name string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("pid %d: no %s in its status", pid, name)
}

// memory is posd's resident set now and at its peak (VmRSS, VmHWM), KiB.
type memory struct{ rss, hwm int64 }

func readMemory(t *testing.T, pid int) memory {
	t.Helper()
	rss, err := procKiB(pid, "VmRSS")
	if err != nil {
		t.Fatal(err)
	}
	hwm, err := procKiB(pid, "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	return memory{rss, hwm}
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// qrFloodGrowthBound is how far posd's peak resident memory may rise above
// where it was before a flood of QR codes at the largest module size: two
// paints at once per API (about 1.2 MB each here), 32 kept PNGs (6 KB
// each), the flood's connections and the garbage collector's slack. The
// old code, painting every call at once, went far past it: 24 calls at 64
// pixels a module took 365 MiB.
const qrFloodGrowthBound = 48 << 10 // KiB

// TestQRFlood: SHOWPOS_QRFLOOD_CLIENTS clients (64) at once ask the payer
// API for QR codes, SHOWPOS_QRFLOOD_CALLS each (full 32, CI 8): of six
// requests, at the eight largest module sizes (more pictures than posd
// keeps, so it paints throughout), and one call in four at 64 pixels a
// module (the old cap), which must be refused. posd's peak resident
// memory (VmHWM) must not rise more than qrFloodGrowthBound above its
// resident memory before the flood.
func TestQRFlood(t *testing.T) {
	log := harness(t)
	clients := sizeInt(t, "SHOWPOS_QRFLOOD_CLIENTS", 64, 64)
	calls := sizeInt(t, "SHOWPOS_QRFLOOD_CALLS", 32, 8)
	ctx := t.Context()
	began := time.Now()

	dir := t.TempDir()
	d := newDaemon(t, log, dir, terminalConfig(t, dir, "", ""))
	if _, err := d.start(ctx); err != nil {
		t.Fatal(err)
	}
	addr := d.networkAddr()
	pid := d.pid()
	var ids []string
	for range 6 {
		r, err := d.newRequest(ctx, "0.01")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer hc.CloseIdleConnections()
	qr := func(id string, module int) (reply, string, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://%s/api/showpos/qr.png?id=%s&module=%d", addr, id, module), nil)
		if err != nil {
			return reply{}, "", err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return reply{}, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return reply{status: resp.StatusCode, body: b}, resp.Header.Get("Content-Type"), err
	}
	// Warm up: every path a QR call takes has run once before the baseline.
	for _, id := range ids {
		if r, _, err := qr(id, 6); err != nil || r.status != http.StatusOK {
			t.Fatalf("warm-up QR: %d %s %v", r.status, r.body, err)
		}
	}
	before := readMemory(t, pid)

	var served, refused, busy atomic.Int64
	var wrong errorsOf
	var mu sync.Mutex
	var lat durations
	var wg sync.WaitGroup
	flood0 := time.Now()
	for c := range clients {
		wg.Go(func() {
			for i := range calls {
				id, module := ids[(c+i)%len(ids)], request.MaxModuleSize-(c*calls+i)%8
				if (c+i)%4 == 3 {
					module = 64
				}
				t0 := time.Now()
				r, ctype, err := qr(id, module)
				took := time.Since(t0)
				mu.Lock()
				switch {
				case err != nil:
					wrong.add(fmt.Errorf("module %d: %w", module, err))
				case module > request.MaxModuleSize && r.status == http.StatusBadRequest && r.code() == "bad_request":
					refused.Add(1)
				case module <= request.MaxModuleSize && r.status == http.StatusOK && ctype == "image/png":
					served.Add(1)
					lat = append(lat, took)
				case module <= request.MaxModuleSize && r.status == http.StatusServiceUnavailable && r.code() == "busy":
					busy.Add(1)
				default:
					wrong.add(fmt.Errorf("module %d: %d %s %.80q", module, r.status, ctype, r.body))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	floodTook := time.Since(flood0)
	after := readMemory(t, pid)
	growth := after.hwm - before.rss

	f := figures{name: "qrflood: clients ask for large QR codes at once"}
	f.add("clients at once × calls", "%d × %d, six requests, module %d..%d and 64", clients, calls, request.MaxModuleSize-7, request.MaxModuleSize)
	f.add("served (PNG)", "%d, in %s", served.Load(), lat)
	f.add("refused module=64 (400 bad_request)", "%d", refused.Load())
	f.add("503 busy", "%d", busy.Load())
	f.add("other answers or no answer (must be 0)", "%d", wrong.n)
	f.add("posd VmRSS before / after", "%s / %s", mib(before.rss), mib(after.rss))
	f.add("posd VmHWM before / after", "%s / %s", mib(before.hwm), mib(after.hwm))
	f.add("peak growth (VmHWM after − VmRSS before)", "%s (bound %s)", mib(growth), mib(qrFloodGrowthBound))
	f.add("flood took", "%s", floodTook.Round(time.Millisecond))
	f.add("harness took", "%s", time.Since(began).Round(time.Second))
	f.print()

	if err := wrong.err(); err != nil {
		t.Errorf("other answers or no answer: %v", err)
	}
	if want := int64(clients * calls / 4); refused.Load() != want {
		t.Errorf("%d calls at module=64 refused, want %d", refused.Load(), want)
	}
	if served.Load() == 0 {
		t.Error("no QR code served")
	}
	if growth > qrFloodGrowthBound {
		t.Errorf("posd's peak memory rose %s during the flood, more than %s", mib(growth), mib(qrFloodGrowthBound))
	}
}

// openFDs counts the file descriptors pid has open.
func openFDs(pid int) (int, error) {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, fmt.Errorf("list fds of pid %d: %w", pid, err)
	}
	return len(es), nil
}

// fdSlack is how many descriptors above its cap posd may open while
// flooded: what it opens on its own meanwhile (the runtime's, a store
// file's), not connections.
const fdSlack = 4

// TestConnFlood: posd runs with api.max_conns = SHOWPOS_CONNFLOOD_CAP (16).
// A flood holds SHOWPOS_CONNFLOOD_CONNS connections to the network API
// (full 4×, CI 1.5× the cap) for as long as the harness runs: half send
// nothing, half make one call and keep the connection alive idle; each is
// dialled again as soon as posd drops it. Meanwhile
// SHOWPOS_CONNFLOOD_PAYERS payers (full 10, CI 3) each read their request
// (GET /api/showpos/getPaymentRequest) on a new connection, all at once.
// Every payer must get its answer, and posd's open file descriptors must
// never exceed what it had before the flood plus the cap (plus fdSlack).
func TestConnFlood(t *testing.T) {
	log := harness(t)
	maxConns := sizeInt(t, "SHOWPOS_CONNFLOOD_CAP", 16, 16)
	conns := sizeInt(t, "SHOWPOS_CONNFLOOD_CONNS", 4*maxConns, maxConns+maxConns/2)
	payers := sizeInt(t, "SHOWPOS_CONNFLOOD_PAYERS", 10, 3)
	ctx := t.Context()
	began := time.Now()

	d, r := startCapped(t, log, maxConns)
	addr, pid := d.networkAddr(), d.pid()
	fds0, err := openFDs(pid)
	if err != nil {
		t.Fatal(err)
	}
	mem0 := readMemory(t, pid)

	// The flood, and a sampler of posd's descriptors, until the end.
	floodCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var dials atomic.Int64
	for c := range conns {
		wg.Go(func() {
			for floodCtx.Err() == nil {
				var dl net.Dialer
				conn, err := dl.DialContext(floodCtx, "tcp", addr)
				if err != nil {
					continue
				}
				dials.Add(1)
				unhook := context.AfterFunc(floodCtx, func() { conn.Close() })
				if c%2 == 1 { // one call, then idle on the kept-alive connection
					io.WriteString(conn, "GET /api/showpos/getPaymentRequest HTTP/1.1\r\nHost: till\r\n\r\n")
					if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}
				conn.Read(make([]byte, 1)) // until posd hangs up
				unhook()
				conn.Close()
			}
		})
	}
	var fdPeak atomic.Int64
	wg.Go(func() {
		for floodCtx.Err() == nil {
			if n, err := openFDs(pid); err == nil && int64(n) > fdPeak.Load() {
				fdPeak.Store(int64(n))
			}
			select {
			case <-floodCtx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	defer func() {
		stop()
		wg.Wait()
	}()
	// Let the flood take every slot.
	for deadline := time.Now().Add(10 * time.Second); fdPeak.Load() < int64(fds0+maxConns) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}

	var waits durations
	var wrong errorsOf
	var mu sync.Mutex
	var pw sync.WaitGroup
	for range payers {
		pw.Go(func() {
			c := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
			t0 := time.Now()
			a, err := call(ctx, c, "GET", "http://"+addr+"/api/showpos/getPaymentRequest?id="+r.ID, nil)
			took := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				wrong.add(err)
			case a.status != http.StatusOK:
				wrong.add(fmt.Errorf("%d %.80q", a.status, a.body))
			default:
				waits = append(waits, took)
			}
		})
	}
	pw.Wait()
	fdsFlooded, _ := openFDs(pid)
	memFlooded := readMemory(t, pid)
	stop()
	wg.Wait()
	fdsAfter, _ := openFDs(pid)

	f := figures{name: "connflood: payers call during a flood of idle connections"}
	f.add("api.max_conns", "%d", maxConns)
	f.add("flood connections (dials)", "%d held (%d dials)", conns, dials.Load())
	f.add("payers answered", "%d of %d", len(waits), payers)
	f.add("payer waited", "%s", waits)
	f.add("other answers or no answer (must be 0)", "%d", wrong.n)
	f.add("posd fds before / peak / flooded / after", "%d / %d / %d / %d (bound %d)", fds0, fdPeak.Load(), fdsFlooded, fdsAfter, fds0+maxConns+fdSlack)
	f.add("posd VmRSS before / flooded", "%s / %s", mib(mem0.rss), mib(memFlooded.rss))
	f.add("harness took", "%s", time.Since(began).Round(time.Second))
	f.print()

	if err := wrong.err(); err != nil {
		t.Errorf("payers without their answer: %v", err)
	}
	if peak := fdPeak.Load(); peak > int64(fds0+maxConns+fdSlack) {
		t.Errorf("posd had %d file descriptors open during the flood: over %d before + %d connections + %d", peak, fds0, maxConns, fdSlack)
	}
}

// bodyFloodGrowthBound is how far posd's resident memory may rise while
// SHOWPOS_BODYFLOOD_CLIENTS clients each hold a payer body of the largest
// size but its last byte, posd capped at 16 connections: the body read so
// far (about 0.5 MiB of buffer) for each of 16, and the runtime's slack.
// Uncapped, every client's body was held at once.
const bodyFloodGrowthBound = 16 << 10 // KiB

// TestBodyFlood: posd runs with api.max_conns = 16, and
// SHOWPOS_BODYFLOOD_CLIENTS clients (128) at once each send
// POST /api/showpos/broadcastTx with the largest body the payer API reads
// (260 KiB: a 128 KiB transaction in hex), all but its last byte, and
// then hold the connection, as a client that means to hold memory would.
// After 3 s (posd has read what it accepted), posd's resident memory
// (VmRSS, VmHWM) must not have risen more than bodyFloodGrowthBound; then
// the clients hang up, and one full body is refused invalid_tx, as the
// check refuses it.
func TestBodyFlood(t *testing.T) {
	log := harness(t)
	const maxConns = 16
	clients := sizeInt(t, "SHOWPOS_BODYFLOOD_CLIENTS", 128, 128)
	ctx := t.Context()
	began := time.Now()

	d, r := startCapped(t, log, maxConns)
	addr, pid := d.networkAddr(), d.pid()
	body := []byte(fmt.Sprintf(`{"requestId":%q,"rawTx":"0x%s"}`, r.ID, strings.Repeat("02", 128<<10)))
	post := func() (reply, error) {
		c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
		return call(ctx, c, "POST", "http://"+addr+"/api/showpos/broadcastTx", body)
	}
	if a, err := post(); err != nil || a.status != http.StatusBadRequest || a.code() != "invalid_tx" {
		t.Fatalf("warm-up: %d %.80q %v", a.status, a.body, err)
	}
	before := readMemory(t, pid)

	head := fmt.Sprintf("POST /api/showpos/broadcastTx HTTP/1.1\r\nHost: till\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	var held atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	for range clients {
		wg.Go(func() {
			var dl net.Dialer
			conn, err := dl.DialContext(ctx, "tcp", addr)
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			// Writes past what posd accepted block on the kernel's
			// buffers; the hang-up below ends them.
			if _, err := io.WriteString(conn, head); err == nil {
				if _, err := conn.Write(body[:len(body)-1]); err == nil {
					held.Add(1)
				}
			}
		})
	}
	time.Sleep(3 * time.Second)
	during := readMemory(t, pid)
	fds, _ := openFDs(pid)
	mu.Lock()
	for _, c := range conns {
		c.Close()
	}
	mu.Unlock()
	wg.Wait()
	growth := during.hwm - before.rss
	a, err := post()

	f := figures{name: "bodyflood: the largest payer bodies held unfinished"}
	f.add("api.max_conns", "%d", maxConns)
	f.add("clients holding a body but its last byte", "%d (%d got it all written)", clients, held.Load())
	f.add("posd fds while held", "%d", fds)
	f.add("posd VmRSS before / held", "%s / %s", mib(before.rss), mib(during.rss))
	f.add("posd VmHWM before / held", "%s / %s", mib(before.hwm), mib(during.hwm))
	f.add("peak growth (VmHWM held − VmRSS before)", "%s (bound %s)", mib(growth), mib(bodyFloodGrowthBound))
	f.add("a whole body afterwards", "%d %s", a.status, a.code())
	f.add("harness took", "%s", time.Since(began).Round(time.Second))
	f.print()

	if err != nil || a.status != http.StatusBadRequest || a.code() != "invalid_tx" {
		t.Errorf("a whole body after the flood: %d %.80q %v, want 400 invalid_tx", a.status, a.body, err)
	}
	if growth > bodyFloodGrowthBound {
		t.Errorf("posd's peak memory rose %s while the bodies were held, more than %s", mib(growth), mib(bodyFloodGrowthBound))
	}
}

// startCapped starts posd with api.max_conns = maxConns and makes one
// request for the flood's payers to pay.
func startCapped(t *testing.T, log *slog.Logger, maxConns int) (*daemon, *request.Request) {
	t.Helper()
	dir := t.TempDir()
	cfg := strings.Replace(terminalConfig(t, dir, "", ""), "[api]\n", fmt.Sprintf("[api]\nmax_conns = %d\n", maxConns), 1)
	d := newDaemon(t, log, dir, cfg)
	if _, err := d.start(t.Context()); err != nil {
		t.Fatal(err)
	}
	r, err := d.newRequest(t.Context(), "0.01")
	if err != nil {
		t.Fatal(err)
	}
	return d, r
}
