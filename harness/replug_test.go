package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/device/clock"
	"showpos/tools/paytx"
)

// TestReplug: the serial scanner is unplugged and plugged back in (a new
// pty pair behind the configured path, a symlink moved as udev moves
// /dev/serial/by-id/…) again and again while posd runs; after each replug
// a payment for the request on screen is scanned and must be stored, by
// the same process.
func TestReplug(t *testing.T) {
	log := harness(t)
	replugs := sizeInt(t, "SHOWPOS_REPLUG_COUNT", 100, 100)
	ctx := t.Context()
	began := time.Now()

	dir := t.TempDir()
	sc := &scanner{link: filepath.Join(dir, "scanner")}
	if err := sc.plug(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sc.unplug)
	d := newDaemon(t, log, dir, terminalConfig(t, dir, "", fmt.Sprintf(`
[board.display]
driver = "virtual"
width = 320
height = 240
[board.keypad]
driver = "virtual"
[board.scanner]
driver = "serial"
path = %q
[board.virtual]
listen = "127.0.0.1:0"
`, sc.link)))
	if _, err := d.start(ctx); err != nil {
		t.Fatal(err)
	}
	pid := d.pid()
	st0, err := d.status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := waitScanner(ctx, d, true); err != nil {
		t.Fatal(err)
	}

	payer, _ := crypto.GenerateKey()
	var noticed, back, readAgain durations
	read, restarts := 0, 0
	for i := range replugs {
		// A request on screen, as a cash register puts it there.
		req, err := d.newRequest(ctx, "0.01")
		if err != nil {
			t.Fatalf("replug %d: %v", i, err)
		}
		tx, err := paytx.Build(req, payer, paytx.Options{Nonce: uint64(i), FeeCap: big.NewInt(2e9)})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := tx.MarshalBinary()

		t0 := time.Now()
		sc.unplug()
		if err := waitScanner(ctx, d, false); err != nil {
			t.Fatalf("replug %d: unplug not seen: %v", i, err)
		}
		noticed = append(noticed, time.Since(t0))
		t1 := time.Now()
		if err := sc.plug(); err != nil {
			t.Fatal(err)
		}
		// Write only once the driver has the port open (raw): a pty
		// slave not yet opened raw echoes what the master writes.
		if err := waitScanner(ctx, d, true); err != nil {
			t.Fatalf("replug %d: replug not seen: %v", i, err)
		}
		back = append(back, time.Since(t1))
		if err := sc.scan(hexutil.Encode(raw) + "\r\n"); err != nil {
			t.Fatal(err)
		}
		if err := waitPaid(ctx, d, req.ID, 10*time.Second); err != nil {
			t.Fatalf("replug %d: the scanned payment was not stored: %v", i, err)
		}
		readAgain = append(readAgain, time.Since(t1))
		read++
		if d.pid() != pid {
			restarts++
			t.Fatalf("replug %d: posd is not the same process (pid %d, was %d)", i, d.pid(), pid)
		}
	}
	st, err := d.status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Started.Equal(st0.Started) {
		restarts++
	}
	list, err := d.payments(ctx)
	if err != nil {
		t.Fatal(err)
	}

	f := figures{name: "replug: the serial scanner unplugged and plugged back in"}
	f.add("replugs", "%d (a new pty pair each time; the configured path is a symlink moved to it)", replugs)
	f.add("payments read after replug", "%d of %d (scanned, checked, stored: request paid); %d payments stored", read, replugs, len(list))
	f.add("daemon restarts", "%d (must be 0; pid %d throughout, started %s)", restarts, pid, st.Started.Format(time.RFC3339Nano))
	f.add("unplug seen", "%s (status: scanner present=false)", noticed)
	f.add("port reopened", "%s (replug to present=true; the driver retries after 125–250 ms)", back)
	f.add("time to read again", "%s (replug to the scanned payment stored)", readAgain)
	f.add("wall time", "%s", time.Since(began).Round(time.Millisecond))
	f.print()
	if read != replugs || restarts != 0 || len(list) != replugs {
		t.Errorf("read %d of %d, restarts %d, stored %d", read, replugs, restarts, len(list))
	}
}

// scanner plays a serial QR scanner on a pty: plug opens a new pair and
// points the link at its slave; unplug hangs it up.
type scanner struct {
	link          string
	master, slave *os.File
}

func (s *scanner) plug() error {
	m, sl, err := pty.Open()
	if err != nil {
		return fmt.Errorf("plug: open pty: %w", err)
	}
	tmp := s.link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(sl.Name(), tmp); err != nil {
		m.Close()
		sl.Close()
		return fmt.Errorf("plug: %w", err)
	}
	if err := os.Rename(tmp, s.link); err != nil {
		m.Close()
		sl.Close()
		return fmt.Errorf("plug: %w", err)
	}
	s.master, s.slave = m, sl
	return nil
}

// unplug closes both ends: the driver's read fails (EIO) as on a USB
// unplug, and the slave's name goes away.
func (s *scanner) unplug() {
	if s.master != nil {
		s.master.Close()
		s.slave.Close()
		s.master, s.slave = nil, nil
	}
}

func (s *scanner) scan(payload string) error {
	if _, err := s.master.Write([]byte(payload)); err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	return nil
}

// waitScanner polls status until the scanner's presence is present.
func waitScanner(ctx context.Context, d *daemon, present bool) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := d.status(ctx)
		if err != nil {
			return err
		}
		for _, dev := range st.Devices {
			if dev.Kind == "scanner" && dev.Present == present {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("scanner present=%v not seen within 10s: %+v", present, st.Devices)
		}
		_ = clock.Sleep(ctx, 2*time.Millisecond)
	}
}

// waitPaid polls the request until it is paid.
func waitPaid(ctx context.Context, d *daemon, id string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		r, err := d.operator(ctx, "GET", "/v1/requests/"+id, nil)
		if err != nil {
			return err
		}
		var doc struct {
			Status string `json:"status"`
		}
		if r.status == http.StatusOK && json.Unmarshal(r.body, &doc) == nil && doc.Status == "paid" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("request %s not paid within %s: %d %s", id, within, r.status, r.body)
		}
		_ = clock.Sleep(ctx, 2*time.Millisecond)
	}
}
