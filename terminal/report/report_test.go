package report_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/device/clock/clocktest"
	"showpos/terminal/checkout"
	"showpos/terminal/config/configtest"
	"showpos/terminal/locale"
	"showpos/terminal/report"
	"showpos/terminal/store"
	"showpos/tools/paytx"
)

var update = flag.Bool("update", false, "rewrite the golden reports in testdata")

// t0 is the tests' opening time.
var t0 = time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)

type shop struct {
	t     testing.TB
	path  string
	st    *store.Store
	till  *checkout.Service
	books *report.Books
	clock *clocktest.Fake
	nonce uint64
	onZ   []uint64 // the numbers OnZ was called with
}

func openShop(t testing.TB) *shop {
	t.Helper()
	s := &shop{t: t, path: filepath.Join(t.TempDir(), "showpos.db"), clock: clocktest.NewFake(t0)}
	s.open()
	return s
}

// open opens (or, after a close, reopens: a restart) the store and wires
// a till and books over it.
func (s *shop) open() {
	st, err := store.Open(s.path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { st.Close() })
	key, _ := crypto.GenerateKey()
	s.st = st
	s.till = checkout.New(checkout.Options{Config: configtest.New(s.t, `terminal.id = "till-7"`), Key: key, Store: st, Clock: s.clock})
	s.books = report.New(report.Options{Store: st, Till: s.till, Terminal: "till-7", Clock: s.clock,
		OnZ: func(r report.Report) { s.onZ = append(s.onZ, r.Number) }})
}

func (s *shop) restart() {
	s.st.Close()
	s.open()
}

// sell makes a request for amount of symbol and pays it by a handed-over
// transaction, at the clock's time; with fail, the broadcaster then fails
// it with that reason a minute later.
func (s *shop) sell(amount, symbol, fail string) store.Payment {
	s.t.Helper()
	ctx := context.Background()
	doc, err := s.till.NewRequest(ctx, amount, symbol, "")
	if err != nil {
		s.t.Fatal(err)
	}
	payer, _ := crypto.GenerateKey()
	tx, err := paytx.Build(doc.Request(), payer, paytx.Options{})
	if err != nil {
		s.t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	if _, err := s.till.Pay(ctx, doc.ID, raw); err != nil {
		s.t.Fatalf("pay %s %s: %v", amount, symbol, err)
	}
	p, err := s.st.Payment(tx.Hash())
	if err != nil {
		s.t.Fatal(err)
	}
	if fail != "" {
		s.clock.Advance(time.Minute)
		if p, err = s.st.SetPaymentState(ctx, p.TxHash, store.PaymentFailed, fail, s.clock.Now()); err != nil {
			s.t.Fatal(err)
		}
	}
	s.clock.Advance(time.Minute)
	return p
}

func taken(r report.Report, symbol string) checkout.AssetTotal {
	for _, a := range r.Assets {
		if a.Asset == symbol {
			return a
		}
	}
	return checkout.AssetTotal{}
}

func TestXIsTheRunningTotalsSinceTheLastZ(t *testing.T) {
	s := openShop(t)
	s.sell("0.05", "ETH", "")
	s.sell("2.5", "TUSD", "")
	s.sell("0.01", "ETH", "conflict: nonce taken by 0xab…")
	x, err := s.books.X()
	if err != nil {
		t.Fatal(err)
	}
	if x.Kind != report.KindX || x.Number != 0 || !x.From.IsZero() || !x.To.Equal(s.clock.Now()) {
		t.Fatalf("X = %s #%d %s..%s", x.Kind, x.Number, x.From, x.To)
	}
	if eth := taken(x, "ETH"); eth.Taken.Count != 1 || eth.Taken.AmountDisplay != "0.05" || eth.Failed.Count != 1 || eth.Failed.AmountDisplay != "0.01" {
		t.Errorf("X ETH = %+v", eth)
	}
	if len(x.Failures) != 1 || x.Failures[0].Reason != "conflict: nonce taken by 0xab…" || x.Failures[0].AmountDisplay != "0.01" {
		t.Errorf("X failures = %+v", x.Failures)
	}
	// An X is not stored: it is read again each time.
	if _, err := s.books.Z(1); !errors.Is(err, store.ErrUnknownZ) {
		t.Errorf("Z(1) after an X: %v", err)
	}

	if _, _, err := s.books.TakeZ(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(time.Minute)
	s.sell("0.2", "ETH", "")
	x, _ = s.books.X()
	if eth := taken(x, "ETH"); eth.Taken.Count != 1 || eth.Taken.AmountDisplay != "0.2" || eth.Failed.Count != 0 || len(x.Failures) != 0 || len(x.Assets) != 1 {
		t.Errorf("X after a Z = %+v", x)
	}
}

func TestZReportsAreNumberedStoredAndTakenOncePerKey(t *testing.T) {
	ctx := context.Background()
	s := openShop(t)
	s.sell("0.05", "ETH", "")
	z1, created, err := s.books.TakeZ(ctx, "close-2026-12-07")
	if err != nil || !created || z1.Number != 1 || z1.Kind != report.KindZ {
		t.Fatalf("first Z = %+v, %v, %v", z1, created, err)
	}
	// The same call again (its answer lost): the same Z, not a second.
	s.clock.Advance(time.Hour)
	again, created, err := s.books.TakeZ(ctx, "close-2026-12-07")
	if err != nil || created || again.Number != 1 || !again.To.Equal(z1.To) {
		t.Fatalf("repeated Z = #%d created=%v to %s, %v", again.Number, created, again.To, err)
	}
	s.sell("0.3", "ETH", "reverted: out of funds")
	z2, created, err := s.books.TakeZ(ctx, "close-2026-12-08")
	if err != nil || !created || z2.Number != 2 || !z2.From.Equal(z1.To) {
		t.Fatalf("second Z = #%d from %s, %v, %v", z2.Number, z2.From, created, err)
	}
	if eth := taken(z2, "ETH"); eth.Taken.Count != 0 || eth.Failed.Count != 1 || len(z2.Failures) != 1 {
		t.Errorf("second Z covers the first's sale: %+v", z2)
	}
	// Each Z reached OnZ (to be printed) once, the repeat not at all.
	if !slices.Equal(s.onZ, []uint64{1, 2}) {
		t.Errorf("OnZ called with %v, want [1 2]", s.onZ)
	}
	// Stored: the same after a restart, and never rewritten by new sales.
	s.restart()
	s.sell("9", "TUSD", "")
	for _, want := range []report.Report{z1, z2} {
		got, err := s.books.Z(want.Number)
		if err != nil || report.Text(got.Job(32), 32) != report.Text(want.Job(32), 32) {
			t.Errorf("Z(%d) after a restart and a sale = %+v, %v", want.Number, got, err)
		}
	}
	if _, err := s.books.Z(3); !errors.Is(err, store.ErrUnknownZ) {
		t.Errorf("Z(3): %v", err)
	}
	// A clock set back before the last Z's end takes no Z.
	s.clock.Set(z2.To.Add(-time.Minute))
	if _, _, err := s.books.TakeZ(ctx, ""); !errors.Is(err, report.ErrClockBehind) {
		t.Errorf("Z with the clock behind: %v", err)
	}
}

func TestFailuresAreAcknowledgedOnceAndUnknownOnesRefused(t *testing.T) {
	ctx := context.Background()
	s := openShop(t)
	s.sell("0.01", "ETH", "conflict")
	s.sell("1.25", "TUSD", "authorization_used")
	if n, _ := s.books.OpenFailures(); n != 2 {
		t.Fatalf("open = %d", n)
	}
	f, err := s.books.Ack(ctx, 2)
	if err != nil || f.AckedAt == nil || f.Asset != "TUSD" || f.AmountDisplay != "1.25" {
		t.Fatalf("Ack(2) = %+v, %v", f, err)
	}
	if _, err := s.books.Ack(ctx, 2); err != nil {
		t.Fatalf("Ack(2) again: %v", err)
	}
	if _, err := s.books.Ack(ctx, 3); !errors.Is(err, store.ErrUnknownFailure) {
		t.Fatalf("Ack(3): %v", err)
	}
	open, _ := s.books.Failures(store.FailureFilter{Open: true})
	if len(open) != 1 || open[0].ID != 1 || open[0].Reason != "conflict" {
		t.Fatalf("open failures: %+v", open)
	}
}

// The printed report, at 58 mm (32 columns) and 80 mm (48).
func TestZReportJobGolden(t *testing.T) {
	ctx := context.Background()
	s := openShop(t)
	s.sell("0.05", "ETH", "")
	s.sell("12.5", "TUSD", "")
	s.sell("0.01", "ETH", "conflict: nonce 4 taken by another transaction")
	s.sell("3", "TUSD", "authorization_used")
	z, _, err := s.books.TakeZ(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	de, err := locale.Parse("de")
	if err != nil {
		t.Fatal(err)
	}
	// English at both widths, and German (the catalog's words, decimal
	// commas, German dates; a failure's reason as kept) on 58 mm paper.
	for _, c := range []struct {
		l    locale.Locale
		cols int
		name string
	}{{locale.English, 32, "z-32.txt"}, {locale.English, 48, "z-48.txt"}, {de, 32, "z-de-32.txt"}} {
		cols := c.cols
		got := report.Text(z.JobIn(c.l, cols), cols)
		name := filepath.Join("testdata", c.name)
		if *update {
			if err := os.WriteFile(name, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%v (run with -update to write it)", err)
		}
		if got != string(want) {
			t.Errorf("%d columns:\n%s\nwant:\n%s", cols, got, want)
		}
		for i, line := range splitLines(got) {
			if n := len([]rune(line)); n > cols {
				t.Errorf("%d columns: line %d is %d wide: %q", cols, i, n, line)
			}
		}
	}
}

func itoa(n int) string {
	if n == 32 {
		return "32"
	}
	return "48"
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		if r == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
