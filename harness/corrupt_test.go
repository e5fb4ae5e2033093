package harness

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/tools/paytx"
)

// TestCorrupt: the store file truncated or with bytes flipped, case after
// case (seeded, reproducible): posd must refuse to start with a message
// naming the file, or start with every stored payment intact, or (since
// posd reads at start only what does not grow with sales, and its scrub
// the rest after READY) start and, once the scrub has finished, report the
// damage in its status, serve no damaged record (each refused
// store_damaged) and, with damage in what matters to money, take no sale.
// Started-damaged is anything served changed, or damage the finished
// scrub did not report.
func TestCorrupt(t *testing.T) {
	log := harness(t)
	cases := sizeInt(t, "SHOWPOS_CORRUPT_CASES", 400, 60)
	seed := uint64(sizeInt(t, "SHOWPOS_CORRUPT_SEED", 1, 1))
	ctx := t.Context()
	began := time.Now()

	pristine, err := makeStore(ctx, t, log, 200)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(pristine.file))
	hw, ps, err := highWater(pristine.path)
	if err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(seed, 0xc0))
	n := map[string]int{} // by outcome, and by outcome and damage
	var notes []string    // what went wrong, worst first
	var refuseTook, startTook durations
	for i := range cases {
		c := corruption(rng, i, size, hw, ps)
		dir := t.TempDir()
		// The scrub unbounded: the harness waits for it to finish.
		d := newDaemon(t, log, dir, terminalConfig(t, dir, "", "[store]\nscrub_rate = \"0\"\n"))
		d.quiet = true
		store := filepath.Join(dir, "data", "showpos.db")
		if err := os.MkdirAll(filepath.Dir(store), 0o750); err != nil {
			t.Fatal(err)
		}
		damaged := c.apply(pristine.file)
		if err := os.WriteFile(store, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "data", "terminal.key"), pristine.key, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "data", "seal.key"), pristine.sealKey, 0o600); err != nil {
			t.Fatal(err)
		}
		o := tryStart(ctx, d, store)
		if o.kind == "started" {
			rep, err := waitScrub(ctx, d, 20*time.Second)
			switch {
			case err != nil:
				// What posd printed says whether it died (a crash after
				// READY) or is still at it.
				b, _ := os.ReadFile(d.logPath)
				o.kind, o.msg = "hung", fmt.Sprintf("%v; posd: %s", err, crashLines(b))
			case rep.Damaged > 0:
				o.kind = "reported"
				refused, sold, why := pristine.servedOrRefused(ctx, d)
				switch {
				case why != "":
					o.kind = "damaged"
					n["damaged served"]++
					b, _ := os.ReadFile(d.logPath)
					notes = append(notes, fmt.Sprintf("%s: started, the scrub reported %d damaged, but %s; posd said: %s", c, rep.Damaged, why, tail(b, 3)))
				case rep.MoneyDamaged && sold:
					o.kind = "damaged"
					n["damaged sold"]++
					notes = append(notes, fmt.Sprintf("%s: the scrub found damage in what matters to money, but a sale was taken", c))
				}
				if o.kind == "reported" {
					n["refused records"] += refused
					if rep.MoneyDamaged {
						n["reported money"]++
					}
					if sold {
						n["reported sold"]++
					}
				}
			default:
				if part, why := pristine.differs(ctx, d, store); part != "" {
					o.kind = "damaged"
					n["damaged "+part]++
					notes = append(notes, fmt.Sprintf("%s: started on a damaged store the scrub did not report: %s", c, why))
				} else {
					o.kind = "intact"
				}
			}
		}
		n[o.kind]++
		n[o.kind+" "+c.kind()]++
		if o.kind == "refused" {
			// Refusing, posd must leave the file as it found it.
			if after, err := os.ReadFile(store); err != nil || !bytes.Equal(after, damaged) {
				n["changed"]++
				notes = append([]string{fmt.Sprintf("%s: refused, but changed the file (%d bytes before, %d after, read error %v)", c, len(damaged), len(after), err)}, notes...)
			}
		}
		if c.truncate && c.length == 0 && o.kind != "refused" {
			t.Errorf("%s: an empty store file must be refused; it %s %s", c, o.kind, o.msg)
		}
		switch {
		case o.kind == "refused" && !o.namesFile:
			n["unclear"]++
			notes = append([]string{fmt.Sprintf("%s: refused without naming the file: %s", c, o.msg)}, notes...)
		case o.kind == "refused":
			refuseTook = append(refuseTook, o.took)
		case o.kind == "hung":
			notes = append([]string{fmt.Sprintf("%s: %s", c, o.msg)}, notes...)
		case o.kind == "reported":
			startTook = append(startTook, o.took)
		case i == 0 && o.kind != "intact":
			t.Errorf("the undamaged control case did not start intact: %s %s", o.kind, o.msg)
		}
		d.kill()
		os.RemoveAll(filepath.Dir(store)) // 400 copies of the store add up
	}

	f := figures{name: "corrupt: a damaged store file at start"}
	f.add("store", "%d payments, %d requests; file %d bytes, pages in use %d bytes (%d-byte pages)",
		len(pristine.list), pristine.requests, size, hw, ps)
	f.add("cases", "%d (seed %d): %d truncated (1 to 0 bytes), %d with 1–3 bytes flipped, 1 undamaged control",
		cases, seed, n["refused truncated"]+n["intact truncated"]+n["reported truncated"]+n["damaged truncated"]+n["hung truncated"],
		n["refused flipped"]+n["intact flipped"]+n["reported flipped"]+n["damaged flipped"]+n["hung flipped"])
	f.add("refused", "%d (%d truncated, %d flipped); %d without naming the file (must be 0)",
		n["refused"], n["refused truncated"], n["refused flipped"], n["unclear"])
	f.add("refused but changed", "%d (the damaged file not byte-for-byte as it was; must be 0)", n["changed"])
	f.add("refusal time", "%s (exec to exit)", refuseTook)
	f.add("started-intact", "%d (%d truncated past the pages in use, %d with flips bbolt never reads, the control); the scrub found nothing",
		n["intact"], n["intact truncated"], n["intact flipped"])
	f.add("started-reported", "%d (%d truncated, %d flipped): the finished scrub reported the damage; %d in what matters to money (sales refused), %d took a sale; %d stored payments refused store_damaged, none served changed",
		n["reported"], n["reported truncated"], n["reported flipped"], n["reported money"], n["reported sold"], n["refused records"])
	f.add("reported start", "%s (exec to status answering)", startTook)
	f.add("started-damaged", "%d (must be 0): %d with payment records changed or unreadable, %d with only request records changed, %d other records (none reported by the scrub); %d served a record changed, %d sold with money damage",
		n["damaged"], n["damaged payments"], n["damaged requests"], n["damaged other"], n["damaged served"], n["damaged sold"])
	f.add("hung or crashed", "%d (must be 0)", n["hung"])
	f.add("wall time", "%s", time.Since(began).Round(time.Millisecond))
	f.print()
	for _, s := range notes[:min(10, len(notes))] {
		t.Log(s)
	}
	if n["damaged"]+n["hung"]+n["unclear"]+n["changed"] > 0 {
		t.Errorf("started-damaged %d, hung or crashed %d, refused without naming the file %d, refused but changed the file %d",
			n["damaged"], n["hung"], n["unclear"], n["changed"])
	}
}

// pristineStore is the undamaged store every case starts from.
type pristineStore struct {
	path     string
	file     []byte
	key      []byte // terminal.key, so the signer stays the same
	sealKey  []byte // seal.key, whose check the store holds
	list     []payment
	dump     map[string]string
	requests int
}

// makeStore runs posd once and takes n payments, then stops it cleanly.
func makeStore(ctx context.Context, t *testing.T, log *slog.Logger, n int) (*pristineStore, error) {
	dir := t.TempDir()
	d := newDaemon(t, log, dir, terminalConfig(t, dir, "", ""))
	d.quiet = true // a failure here is returned; later ones are the cases'
	if _, err := d.start(ctx); err != nil {
		return nil, err
	}
	keys := make([]*ecdsaKey, 10)
	for i := range keys {
		k, _ := crypto.GenerateKey()
		keys[i] = &ecdsaKey{k: k}
	}
	requests := 0
	for i := range n {
		req, err := d.newRequest(ctx, "0.00"+strconv.Itoa(1+i%9))
		if err != nil {
			return nil, err
		}
		requests++
		k := keys[i%len(keys)]
		tx, err := paytx.Build(req, k.k, paytx.Options{Nonce: k.nonce, FeeCap: big.NewInt(2e9)})
		if err != nil {
			return nil, err
		}
		raw, _ := tx.MarshalBinary()
		r, err := d.pay(ctx, req.ID, raw)
		if err != nil || r.status != http.StatusAccepted {
			return nil, fmt.Errorf("pay: %v %d %s", err, r.status, r.body)
		}
		k.nonce++
	}
	// Some requests stay unpaid, and a few are cancelled.
	for i := range 20 {
		req, err := d.newRequest(ctx, "0.5")
		if err != nil {
			return nil, err
		}
		requests++
		if i%2 == 0 {
			if r, err := d.operator(ctx, "POST", "/v1/requests/"+req.ID+"/cancel", nil); err != nil || r.status != http.StatusOK {
				return nil, fmt.Errorf("cancel: %v %d", err, r.status)
			}
		}
	}
	list, err := d.payments(ctx)
	if err != nil {
		return nil, err
	}
	if err := d.stop(); err != nil {
		return nil, err
	}
	p := &pristineStore{path: filepath.Join(dir, "data", "showpos.db"), list: list, requests: requests}
	if p.file, err = os.ReadFile(p.path); err != nil {
		return nil, err
	}
	if p.key, err = os.ReadFile(filepath.Join(dir, "data", "terminal.key")); err != nil {
		return nil, err
	}
	if p.sealKey, err = os.ReadFile(filepath.Join(dir, "data", "seal.key")); err != nil {
		return nil, err
	}
	if p.dump, err = dumpStore(p.path); err != nil {
		return nil, err
	}
	log.Info("pristine store", "payments", len(list), "bytes", len(p.file))
	return p, nil
}

type ecdsaKey struct {
	k     *ecdsa.PrivateKey
	nonce uint64
}

// differs compares what the started daemon serves, and then (stopped) its
// file's every key and value, with the pristine store. It returns "" when
// all is equal, else which part differs ("payments": a payment record
// changed, gone or unreadable; "requests": only request records; "other":
// indexes, counters) and how.
func (p *pristineStore) differs(ctx context.Context, d *daemon, store string) (part, why string) {
	list, err := d.payments(ctx)
	if err != nil {
		return "payments", "listing payments: " + err.Error()
	}
	if !reflect.DeepEqual(list, p.list) {
		return "payments", fmt.Sprintf("payments listed differ (%d listed, %d stored)", len(list), len(p.list))
	}
	if err := d.stop(); err != nil {
		return "payments", "stop: " + err.Error()
	}
	dump, err := dumpStore(store)
	if err != nil {
		return "payments", err.Error()
	}
	changed := map[string][]string{}
	for k, v := range p.dump {
		if w, ok := dump[k]; !ok || w != v {
			bucket, _, _ := strings.Cut(k, "/")
			changed[bucket] = append(changed[bucket], k)
		}
	}
	for k := range dump {
		if _, ok := p.dump[k]; !ok {
			bucket, _, _ := strings.Cut(k, "/")
			changed[bucket] = append(changed[bucket], k+" (new)")
		}
	}
	switch {
	case len(changed) == 0:
		return "", ""
	case changed["payments"] != nil:
		return "payments", fmt.Sprintf("payment records changed, listed as stored: %v", changed["payments"])
	case changed["requests"] != nil && len(changed) == 1:
		return "requests", fmt.Sprintf("request records changed: %v", changed["requests"])
	}
	return "other", fmt.Sprintf("records changed: %v", changed)
}

// scrubReport is the store's scrub as the status reports it.
type scrubReport struct {
	State        string `json:"state"`
	Damaged      int    `json:"damaged"`
	MoneyDamaged bool   `json:"moneyDamaged"`
}

// waitScrub waits until the status says the store's scrub has finished.
func waitScrub(ctx context.Context, d *daemon, within time.Duration) (scrubReport, error) {
	deadline := time.Now().Add(within)
	for {
		r, err := d.operator(ctx, "GET", "/v1/status", nil)
		if err != nil {
			if !d.running() {
				b, _ := os.ReadFile(d.logPath)
				return scrubReport{}, fmt.Errorf("exited (%s) while the scrub ran: %s", d.cmd.ProcessState, crashLines(b))
			}
			return scrubReport{}, err
		}
		var s struct {
			Store struct {
				Scrub *scrubReport `json:"scrub"`
			} `json:"store"`
		}
		if r.status != http.StatusOK {
			return scrubReport{}, fmt.Errorf("status: %d %s", r.status, r.body)
		}
		if err := json.Unmarshal(r.body, &s); err != nil {
			return scrubReport{}, fmt.Errorf("status: %w", err)
		}
		if s.Store.Scrub == nil {
			return scrubReport{}, fmt.Errorf("status has no store scrub: %s", r.body)
		}
		if s.Store.Scrub.State == "done" {
			return *s.Store.Scrub, nil
		}
		if time.Now().After(deadline) {
			return scrubReport{}, fmt.Errorf("the store scrub did not finish within %s (state %s)", within, s.Store.Scrub.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// servedOrRefused reads every stored payment, one by one, from the
// started daemon: each must be served as it was stored, or refused with
// store_damaged. It returns how many were refused, whether a new sale
// (a request) was taken, and, if one was served changed or gone, why.
func (p *pristineStore) servedOrRefused(ctx context.Context, d *daemon) (refused int, sold bool, why string) {
	for _, want := range p.list {
		q := url.Values{"limit": {"1"}, "after": {fmt.Sprint(want.Seq - 1)}}
		r, err := d.operator(ctx, "GET", "/v1/payments?"+q.Encode(), nil)
		if err != nil {
			return refused, false, "payment " + want.TxHash + ": " + err.Error()
		}
		if r.status == http.StatusInternalServerError && r.code() == "store_damaged" {
			refused++
			continue
		}
		var page struct {
			Payments []payment `json:"payments"`
		}
		if r.status != http.StatusOK || json.Unmarshal(r.body, &page) != nil {
			return refused, false, fmt.Sprintf("payment %s: %d %s", want.TxHash, r.status, r.body)
		}
		if len(page.Payments) != 1 || !reflect.DeepEqual(page.Payments[0], want) {
			return refused, false, fmt.Sprintf("payment %s (seq %d) served changed or gone: %+v", want.TxHash, want.Seq, page.Payments)
		}
	}
	r, err := d.operator(ctx, "POST", "/v1/requests", map[string]string{"amount": "0.7"})
	if err != nil {
		return refused, false, "new request: " + err.Error()
	}
	switch {
	case r.status == http.StatusCreated:
		sold = true
	case r.status != http.StatusInternalServerError || r.code() != "store_damaged":
		return refused, false, fmt.Sprintf("new request: %d %s, want 201 or 500 store_damaged", r.status, r.body)
	}
	return refused, sold, ""
}

// damage is one corruption case.
type damage struct {
	i        int
	truncate bool
	length   int64   // truncate to
	offsets  []int64 // flip the byte at each
	masks    []byte
}

func (c damage) kind() string {
	if c.truncate {
		return "truncated"
	}
	if len(c.offsets) == 0 {
		return "control"
	}
	return "flipped"
}

func (c damage) String() string {
	if c.truncate {
		return fmt.Sprintf("case %d: truncated to %d bytes", c.i, c.length)
	}
	return fmt.Sprintf("case %d: bytes flipped at %v (xor %x)", c.i, c.offsets, c.masks)
}

func (c damage) apply(file []byte) []byte {
	if c.truncate {
		return bytes.Clone(file[:c.length])
	}
	b := bytes.Clone(file)
	for j, off := range c.offsets {
		b[off] ^= c.masks[j]
	}
	return b
}

// corruption draws case i: 0 is the undamaged control; 1 truncates to 0
// bytes (the most common real truncation); other odd cases truncate (half
// of them at a page boundary, which passes the size check), even ones
// flip 1–3 bytes, each in the two meta pages one time in four and else
// anywhere in the pages in use (past those, nothing is read).
func corruption(rng *rand.Rand, i int, size, hw, ps int64) damage {
	c := damage{i: i}
	switch {
	case i == 0:
	case i == 1:
		c.truncate = true // to 0 bytes
	case i%2 == 1:
		c.truncate = true
		if rng.IntN(2) == 0 {
			c.length = (1 + rng.Int64N(size/ps-1)) * ps
		} else {
			c.length = 1 + rng.Int64N(size-1)
		}
	default:
		for range 1 + rng.IntN(3) {
			limit := hw
			if rng.IntN(4) == 0 {
				limit = 2 * ps
			}
			c.offsets = append(c.offsets, rng.Int64N(limit))
			c.masks = append(c.masks, byte(1+rng.IntN(255)))
		}
	}
	return c
}

// outcome is how a start on a damaged store ended.
type outcome struct {
	kind      string // refused, started, hung
	msg       string
	namesFile bool
	took      time.Duration
}

func tryStart(ctx context.Context, d *daemon, store string) outcome {
	began := time.Now()
	if err := d.spawn(); err != nil {
		return outcome{kind: "hung", msg: err.Error()}
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if !d.running() {
			b, _ := os.ReadFile(d.logPath)
			o := outcome{kind: "refused", msg: lastLine(b), took: time.Since(began)}
			// posd's refusal is one error line and exit status 1; a panic
			// or a fatal error exits 2, a fault kills it by signal.
			if d.cmd.ProcessState.ExitCode() != 1 {
				o.kind, o.msg = "hung", fmt.Sprintf("crashed (%s): %s", d.cmd.ProcessState, crashLines(b))
			}
			o.namesFile = bytes.Contains([]byte(o.msg), []byte(store))
			return o
		}
		if r, err := d.operator(ctx, "GET", "/v1/status", nil); err == nil && r.status == http.StatusOK {
			return outcome{kind: "started", took: time.Since(began)}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return outcome{kind: "hung", msg: "neither started nor refused within 20s"}
}

func lastLine(b []byte) string { return tail(b, 1) }

func tail(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return string(bytes.Join(lines[max(0, len(lines)-n):], []byte(" | ")))
}

// crashLines is what a crash printed that says what it was: the panic or
// fatal error line and the first frames of the goroutine it was in.
func crashLines(b []byte) string {
	lines := bytes.Split(b, []byte("\n"))
	for i, l := range lines {
		if bytes.HasPrefix(l, []byte("panic:")) || bytes.HasPrefix(l, []byte("fatal error:")) || bytes.HasPrefix(l, []byte("unexpected fault")) {
			return string(bytes.Join(lines[i:min(len(lines), i+24)], []byte(" | ")))
		}
	}
	return tail(b, 6)
}
