package httpapi

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"showpos/terminal/memo"
	"showpos/terminal/request"
)

// defaultModuleSize is the QR module size in pixels when none is asked for:
// a phone reads it comfortably from a printed page or a monitor.
const defaultModuleSize = 6

// The bounds on what QR codes served over HTTP may cost. Anyone on the
// shop's network may ask for one (the payer API is open), so each costs at
// most a paint of request.MaxModuleSize pixels a module (1.2 MB for a
// typical request, under 9 MB for the largest QR code there is), at most
// qrPaintSlots paints run at once per server, and a painted PNG is kept so
// asking again costs no paint.
const (
	// qrPaintSlots is how many paints run at once: one per core of a small
	// board. Painting is CPU work; more at once would not finish sooner.
	qrPaintSlots = 2
	// qrSlotWait is how long a request waits for a paint slot before it is
	// answered 503 busy. A paint takes 12 ms here (1104 pixels square) and
	// perhaps five times that on a board's core, so a full wait means a
	// queue no payer is in.
	qrSlotWait = 2 * time.Second
	// qrCacheEntries PNGs are kept, the last asked for: a few requests a
	// minute at a few sizes each. Bigger than qrMaxCachedPNG, a PNG is not
	// kept (none the terminal makes is: a typical one at 16 pixels a
	// module is 6 KB), so the cache holds at most 2 MiB.
	qrCacheEntries = 32
	qrMaxCachedPNG = 64 << 10
)

// codeBusy answers a QR code that could not get a paint slot in time.
const codeBusy = "busy"

// qrKey is what a served PNG is a picture of. The PNG is a function of the
// painted text and the module size alone, so keying by them can never
// serve one request's picture for another, whatever their ids.
type qrKey struct {
	content string
	module  int
}

// qrPainter serves requests' QR codes as PNG within the bounds above. One
// serves a whole API (its payer and register routes); it is safe for
// concurrent use.
type qrPainter struct {
	cache *memo.Cache[qrKey, []byte]
	slots chan struct{}
	wait  time.Duration
}

func newQRPainter() *qrPainter {
	return &qrPainter{
		cache: memo.New[qrKey, []byte](qrCacheEntries),
		slots: make(chan struct{}, qrPaintSlots),
		wait:  qrSlotWait,
	}
}

var errBusy = errors.New("qr: no paint slot")

// png returns content's QR code as PNG at module pixels a module: from the
// cache, or painted when a slot frees within p.wait (else errBusy).
func (p *qrPainter) png(ctx context.Context, content string, module int) ([]byte, error) {
	k := qrKey{content, module}
	if b, ok := p.cache.Get(k); ok {
		return b, nil
	}
	t := time.NewTimer(p.wait)
	defer t.Stop()
	select {
	case p.slots <- struct{}{}:
	case <-t.C:
		return nil, errBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.slots }()
	// Those who waited for the same picture find it painted.
	if b, ok := p.cache.Get(k); ok {
		return b, nil
	}
	img, err := request.QR(content, module)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if len(b) <= qrMaxCachedPNG {
		b = bytes.Clone(b) // what is kept is the PNG, not the buffer's spare room
		p.cache.Put(k, b)
	}
	return b, nil
}

// write answers with the request's EIP-681 URI as a PNG QR code, at the
// module size in the "module" query parameter.
func (p *qrPainter) write(w http.ResponseWriter, r *http.Request, log *slog.Logger, get func(id string) (*request.Document, error), id string) {
	size := defaultModuleSize
	if s := r.URL.Query().Get("module"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > request.MaxModuleSize {
			writeCoded(w, http.StatusBadRequest, codeBadRequest, "module must be 1.."+strconv.Itoa(request.MaxModuleSize)+" pixels (scale the picture by a whole factor for a bigger one)")
			return
		}
		size = n
	}
	doc, err := get(id)
	if err != nil {
		writeError(w, log, err)
		return
	}
	b, err := p.png(r.Context(), doc.URI, size)
	switch {
	case errors.Is(err, errBusy):
		w.Header().Set("Retry-After", "1")
		writeCoded(w, http.StatusServiceUnavailable, codeBusy, "the terminal is drawing other QR codes; ask again in a second")
		return
	case r.Context().Err() != nil:
		return // the client went away while it waited
	case err != nil:
		writeError(w, log, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}
