package cashier_test

import (
	"context"
	"image"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"go.bug.st/serial"

	"showpos/device"
	"showpos/drivers/virtual"
	"showpos/terminal/asset"
	"showpos/terminal/cashier"
	"showpos/terminal/checkout"
	"showpos/terminal/config/configtest"
	"showpos/terminal/screen"
	"showpos/terminal/store"
	"showpos/tools/paytx"
)

// timedDisplay notes when each frame is drawn.
type timedDisplay struct {
	device.Display
	drawn chan time.Time
}

func (d *timedDisplay) Draw(r image.Rectangle, src image.Image, sp image.Point) error {
	err := d.Display.Draw(r, src, sp)
	select {
	case d.drawn <- time.Now():
	default:
	}
	return err
}

// BenchmarkScanToResult measures a scanner payload written to the
// simulator's pty until the result screen is drawn: the pty, the check,
// the fsync'd commit and the render. It reports p50 and p99.
func BenchmarkScanToResult(b *testing.B) {
	cfg := configtest.New(b, cfgText)
	st, err := store.Open(filepath.Join(b.TempDir(), "showpos.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	board, err := virtual.New(&virtual.Opts{Width: 320, Height: 240})
	if err != nil {
		b.Fatal(err)
	}
	defer board.Close()
	screens, _ := screen.New(screen.Size{W: 320, H: 240})
	key, _ := crypto.GenerateKey()
	payer, _ := crypto.GenerateKey()
	till := checkout.New(checkout.Options{Config: cfg, Key: key, Store: st})
	disp := &timedDisplay{Display: board.Display(), drawn: make(chan time.Time, 8)}
	c := cashier.New(cashier.Options{
		Till: till, Screens: screens, Display: disp, Keypad: board.Keypad(), Scanner: board.Scanner(),
		Merchant: "Bench", Assets: []asset.Asset{cfg.Assets[0].Asset}, ResultFor: time.Hour,
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { c.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	port, err := serial.Open(board.ScannerPath(), &serial.Mode{BaudRate: 9600})
	if err != nil {
		b.Fatal(err)
	}
	defer port.Close()

	drain := func() {
		for {
			select {
			case <-disp.drawn:
			case <-time.After(20 * time.Millisecond):
				return
			}
		}
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		for _, k := range []device.Key{device.KeyCancel, device.Key1, device.KeyEnter} {
			board.Press(k)
		}
		var id string
		for id == "" {
			if d, err := till.Request(""); err == nil && d.Status == "pending" {
				id = d.ID
				tx, err := paytx.Build(d.Request(), payer, paytx.Options{Nonce: uint64(i)})
				if err != nil {
					b.Fatal(err)
				}
				raw, _ := tx.MarshalBinary()
				drain()
				b.StartTimer()
				start := time.Now()
				if _, err := port.Write([]byte(hexutil.Encode(raw) + "\r")); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, (<-disp.drawn).Sub(start))
				b.StopTimer()
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
