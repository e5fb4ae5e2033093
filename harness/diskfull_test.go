package harness

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/sys/unix"

	"showpos/terminal/request"
	"showpos/tools/paytx"
)

// TestDiskFull: the disk fills up while payments are accepted. Payers must
// get 503 (never a 2xx for a payment not stored), everything acknowledged
// stays readable and the file checks clean, and acceptance resumes when
// space returns.
func TestDiskFull(t *testing.T) {
	log := harness(t)
	const (
		tmpfsSize = 16 << 20
		headroom  = 256 << 10 // left free next to the ballast
		payers    = 8
		requests  = 1500
		after     = 5 // fresh payments per payer once space is back
	)
	ctx := t.Context()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o750); err != nil {
		t.Fatal(err)
	}
	disk, err := newSmallDisk(t, data, tmpfsSize, headroom)
	if err != nil {
		if os.Getenv("SHOWPOS_HARNESS_REQUIRE") == "1" {
			t.Fatal(err)
		}
		t.Skipf("diskfull: %v (SHOWPOS_HARNESS_REQUIRE=1 makes this a failure)", err)
	}
	d := newDaemon(t, log, dir, terminalConfig(t, dir, "", ""))
	if _, err := d.start(ctx); err != nil {
		t.Fatal(err)
	}
	startPID := d.pid()

	// Requests first, while there is room: a full disk refuses new ones too.
	// Each of its own amount: the terminal holds pending amounts unique
	// (a tail tells apart at most 1,000 requests of one ETH amount).
	reqs := make(chan *request.Request, requests)
	var mk sync.WaitGroup
	var made atomic.Int64
	for range payers {
		mk.Go(func() {
			for range requests / payers {
				r, err := d.newRequest(ctx, fmt.Sprintf("0.%06d", made.Add(1)))
				if err != nil {
					t.Errorf("create requests: %v", err)
					return
				}
				reqs <- r
			}
		})
	}
	mk.Wait()
	close(reqs)
	if t.Failed() {
		t.FailNow()
	}

	if err := disk.fill(d.pid()); err != nil {
		t.Fatal(err)
	}
	// Every payer pays until it is refused for want of space, then sends
	// that same call a few times more.
	ps := make([]*fullPayer, payers)
	var wg sync.WaitGroup
	for i := range ps {
		key, _ := crypto.GenerateKey()
		ps[i] = &fullPayer{key: key}
		wg.Go(func() { ps[i].untilFull(ctx, d, reqs) })
	}
	wg.Wait()

	var acked, full503, whileFull2xx, other, retries503, stuck int
	for _, p := range ps {
		acked += len(p.acked)
		full503 += p.answers503
		retries503 += p.retries503
		whileFull2xx += p.okAfter503
		other += len(p.other)
		if p.blocked == nil {
			stuck++
		}
	}
	// Still alive, and everything acknowledged readable while full.
	alive := d.pid() == startPID
	readableFull, err := readable(ctx, d, ps)
	if err != nil {
		t.Fatalf("read while full: %v", err)
	}
	used := disk.usage()

	// Space returns: the refused calls are sent again and must be accepted
	// (202: they were not stored), then some fresh ones.
	freed := time.Now()
	if err := disk.free(d.pid()); err != nil {
		t.Fatal(err)
	}
	var resumed, resumedRepeat, resumeOther int
	var resumeTook durations
	for _, p := range ps {
		if p.blocked == nil {
			continue
		}
		r, err := d.pay(ctx, p.blocked.req.ID, p.blocked.raw)
		switch {
		case err != nil:
			resumeOther++
			t.Errorf("retry after space returned: %v", err)
		case r.status == http.StatusAccepted:
			resumed++
			resumeTook = append(resumeTook, time.Since(freed))
			p.ack(p.blocked)
		case r.status == http.StatusOK:
			resumedRepeat++ // it had been stored after all: the 503 was wrong
			p.ack(p.blocked)
		default:
			resumeOther++
			t.Errorf("retry after space returned: %d %s", r.status, r.body)
		}
	}
	fresh, wantFresh := 0, min(payers*after, len(reqs))
	for _, p := range ps {
		for range after {
			req, ok := <-reqs
			if !ok {
				break
			}
			pm := p.next(req)
			if r, err := d.pay(ctx, req.ID, pm.raw); err == nil && r.status == http.StatusAccepted {
				p.ack(pm)
				fresh++
			} else {
				t.Errorf("fresh payment after space returned: %v %d %s", err, r.status, r.body)
			}
		}
	}

	// Stop, check the file, start again: everything acknowledged once.
	if err := d.stop(); err != nil {
		t.Error(err)
	}
	checkErr := checkStore(filepath.Join(data, "showpos.db"))
	if _, err := d.start(ctx); err != nil {
		t.Fatal(err)
	}
	present, dups, total, err := presentOnce(ctx, d, ps)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.stop(); err != nil {
		t.Error(err)
	}

	f := figures{name: "diskfull: the disk fills while payments are accepted"}
	f.add("disk", "%s", disk.describe())
	f.add("acknowledged while filling", "%d (202) from %d payers", acked, payers)
	f.add("refused for space", "%d 503 answers; %d of %d payers refused, %d repeats of the same call also 503", full503, payers-stuck, payers, retries503)
	f.add("2xx after a payer's first 503", "%d of those (room freed inside the file after a failed commit; each one stored)", whileFull2xx)
	f.add("other answers while full", "%d (must be 0) %v", other, firstOf(ps))
	f.add("daemon while full", "alive and answering: %v (the same process)", alive)
	f.add("readable while full", "%d of %d acknowledged payments listed", readableFull, acked)
	f.add("space used when full", "%s", used)
	f.add("after space returned", "%d refused calls accepted on retry (202), %d answered 200 (stored despite the 503; must be 0), %d other (must be 0)",
		resumed, resumedRepeat, resumeOther)
	f.add("time to accept again", "%s (from freeing space to the retry's 202)", resumeTook)
	f.add("fresh payments after", "%d of %d accepted (must be all; %d per payer, as many as requests were left)", fresh, wantFresh, after)
	f.add("after a restart", "%d of %d acknowledged present, %d duplicates (must be 0), %d stored in all", present, total, dups, present)
	f.add("bbolt check", "%v", okOr(checkErr))
	f.print()

	if stuck > 0 {
		t.Errorf("%d payers never ran out of space: the disk did not fill", stuck)
	}
	if other > 0 || resumedRepeat > 0 || resumeOther > 0 || !alive || readableFull != acked ||
		fresh != wantFresh || present != total || dups > 0 || checkErr != nil {
		t.Errorf("disk full broke the promise: other %d, 200 after 503 %d, retry failures %d, alive %v, readable %d/%d, fresh %d/%d, present %d/%d, dups %d, check %v",
			other, resumedRepeat, resumeOther, alive, readableFull, acked, fresh, wantFresh, present, total, dups, checkErr)
	}
}

// fullPayer pays pre-made requests from its own key until the terminal
// says it has no room.
type fullPayer struct {
	key        *ecdsa.PrivateKey
	nonce      uint64
	acked      map[common.Hash]string // tx hash -> request
	blocked    *signedPayment         // refused with 503, to send again later
	answers503 int
	retries503 int
	okAfter503 int
	other      []string
}

type signedPayment struct {
	req  *request.Request
	raw  []byte
	hash common.Hash
}

func (p *fullPayer) next(req *request.Request) *signedPayment {
	tx, err := paytx.Build(req, p.key, paytx.Options{Nonce: p.nonce, FeeCap: big.NewInt(2e9)})
	if err != nil {
		panic(err)
	}
	raw, _ := tx.MarshalBinary()
	return &signedPayment{req: req, raw: raw, hash: tx.Hash()}
}

func (p *fullPayer) ack(s *signedPayment) {
	if p.acked == nil {
		p.acked = map[common.Hash]string{}
	}
	p.acked[s.hash] = s.req.ID
	p.nonce++
}

func (p *fullPayer) untilFull(ctx context.Context, d *daemon, reqs <-chan *request.Request) {
	for req := range reqs {
		s := p.next(req)
		r, err := d.pay(ctx, req.ID, s.raw)
		switch {
		case err != nil:
			p.other = append(p.other, err.Error())
			return
		case r.status == http.StatusAccepted:
			p.ack(s)
		case r.status == http.StatusServiceUnavailable && r.code() == "unavailable":
			p.answers503++
			p.blocked = s
			// The same call again, as a payer told to retry does: still 503.
		retries:
			for range 3 {
				time.Sleep(20 * time.Millisecond)
				r, err := d.pay(ctx, req.ID, s.raw)
				switch {
				case err != nil:
					p.other = append(p.other, "retry after 503: "+err.Error())
				case r.status == http.StatusServiceUnavailable && r.code() == "unavailable":
					p.retries503++
				case r.status == http.StatusAccepted:
					p.ack(s) // there was room after all
					p.blocked = nil
					p.okAfter503++
					break retries
				default: // a 200 here: the 503'd payment had been stored
					p.other = append(p.other, fmt.Sprintf("retry after 503: %d %s", r.status, r.body))
				}
			}
			if p.blocked != nil {
				return
			}
		default:
			p.other = append(p.other, fmt.Sprintf("%d %s", r.status, r.body))
			return
		}
	}
}

func firstOf(ps []*fullPayer) []string {
	for _, p := range ps {
		if len(p.other) > 0 {
			return p.other[:1]
		}
	}
	return nil
}

// readable counts the acknowledged payments the running daemon lists.
func readable(ctx context.Context, d *daemon, ps []*fullPayer) (int, error) {
	list, err := d.payments(ctx)
	if err != nil {
		return 0, err
	}
	stored := map[common.Hash]string{}
	for _, p := range list {
		stored[common.HexToHash(p.TxHash)] = p.RequestID
	}
	n := 0
	for _, p := range ps {
		for h, req := range p.acked {
			if stored[h] == req {
				n++
			}
		}
	}
	return n, nil
}

// presentOnce counts the acknowledged payments stored exactly once, and
// the duplicates (a hash or a request listed twice).
func presentOnce(ctx context.Context, d *daemon, ps []*fullPayer) (present, dups, total int, err error) {
	list, err := d.payments(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	seen := map[common.Hash]int{}
	reqs := map[string]int{}
	for _, p := range list {
		h := common.HexToHash(p.TxHash)
		if seen[h]++; seen[h] > 1 {
			dups++
		}
		if reqs[p.RequestID]++; reqs[p.RequestID] > 1 {
			dups++
		}
	}
	for _, p := range ps {
		total += len(p.acked)
		for h := range p.acked {
			if seen[h] == 1 {
				present++
			}
		}
	}
	return present, dups, total, nil
}

func okOr(err error) string {
	if err == nil {
		return "clean"
	}
	return err.Error()
}

// smallDisk runs out of space on demand: a tmpfs of a fixed size filled
// by a ballast file, or, where mounting is refused, a file size limit on
// the daemon (RLIMIT_FSIZE, as `prlimit --fsize` sets it).
type smallDisk struct {
	dir      string
	size     int64
	headroom int64
	fsize    bool   // no tmpfs: the file size limit instead
	note     string // why the fallback
	ballast  string
}

func newSmallDisk(t *testing.T, dir string, size, headroom int64) (*smallDisk, error) {
	s := &smallDisk{dir: dir, size: size, headroom: headroom, ballast: filepath.Join(dir, "ballast")}
	mode := os.Getenv("SHOWPOS_DISKFULL_MODE")
	if mode == "" || mode == "tmpfs" {
		err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0750", size))
		if err == nil {
			t.Cleanup(func() {
				if err := syscall.Unmount(dir, 0); err != nil {
					t.Errorf("unmount %s: %v", dir, err)
				}
			})
			return s, nil
		}
		if mode == "tmpfs" {
			return nil, fmt.Errorf("mount tmpfs on %s: %w", dir, err)
		}
		s.note = fmt.Sprintf("mount tmpfs refused (%v); ", err)
	}
	// The fallback needs setting another process's limits (CAP_SYS_RESOURCE
	// or the same user, which it is).
	var lim unix.Rlimit
	if err := unix.Prlimit(os.Getpid(), unix.RLIMIT_FSIZE, nil, &lim); err != nil {
		return nil, fmt.Errorf("%sno file size limits either: %w", s.note, err)
	}
	s.fsize = true
	return s, nil
}

func (s *smallDisk) describe() string {
	if s.fsize {
		return s.note + fmt.Sprintf("posd under a file size limit (RLIMIT_FSIZE, as prlimit --fsize) %d KiB past the store's pages in use, lifted to return space", s.headroom>>10)
	}
	return fmt.Sprintf("tmpfs of %d MiB; a ballast file filled it to %d KiB free, deleted to return space", s.size>>20, s.headroom>>10)
}

// fill takes the space away from the daemon with pid.
func (s *smallDisk) fill(pid int) error {
	if s.fsize {
		// bbolt grows its file ahead, sparse: the limit goes just past the
		// pages in use, so that the store cannot take new ones.
		hw, _, err := highWater(filepath.Join(s.dir, "showpos.db"))
		if err != nil {
			return fmt.Errorf("fill: %w", err)
		}
		lim := unix.Rlimit{Cur: uint64(hw + s.headroom), Max: unix.RLIM_INFINITY}
		if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &lim, nil); err != nil {
			return fmt.Errorf("fill: limit posd's file size: %w", err)
		}
		return nil
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.dir, &st); err != nil {
		return fmt.Errorf("fill: statfs %s: %w", s.dir, err)
	}
	left := int64(st.Bavail)*int64(st.Bsize) - s.headroom
	f, err := os.Create(s.ballast)
	if err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for left > 0 {
		n, err := f.Write(chunk[:min(int64(len(chunk)), left)])
		left -= int64(n)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			return fmt.Errorf("fill: write ballast: %w", err)
		}
	}
	return nil
}

// free gives the space back.
func (s *smallDisk) free(pid int) error {
	if s.fsize {
		lim := unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
		if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &lim, nil); err != nil {
			return fmt.Errorf("free: lift posd's file size limit: %w", err)
		}
		return nil
	}
	if err := os.Remove(s.ballast); err != nil {
		return fmt.Errorf("free: remove ballast: %w", err)
	}
	return nil
}

// usage says how full the disk is.
func (s *smallDisk) usage() string {
	fi, _ := os.Stat(filepath.Join(s.dir, "showpos.db"))
	var size int64
	if fi != nil {
		size = fi.Size()
	}
	if s.fsize {
		return fmt.Sprintf("store file %d KiB", size>>10)
	}
	var st syscall.Statfs_t
	syscall.Statfs(s.dir, &st)
	return fmt.Sprintf("%d KiB free of %d MiB; store file %d KiB (sparse: bbolt grows it ahead)", int64(st.Bavail)*int64(st.Bsize)>>10, s.size>>20, size>>10)
}
