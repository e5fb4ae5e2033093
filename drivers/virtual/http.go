package virtual

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"showpos/device"
	"showpos/terminal/strictjson"
)

//go:embed web
var webFiles embed.FS

// sseHeartbeat keeps an idle event stream's connection checked.
const sseHeartbeat = 15 * time.Second

// handler serves the page and its endpoints:
//
//	GET  /                the simulated terminal (HTML; ?selftest=1 runs the page's self-test)
//	GET  /web/…           its script and style, embedded
//	GET  /sim/screen.png  the screen now, as PNG (header X-Screen-Version)
//	GET  /sim/state       JSON: size, mono, screen version, signals, scanner path, key names
//	GET  /sim/events      Server-Sent Events: "screen" {"version":n} after each Draw,
//	                      "signal" {"signal":"accepted","seq":n} after each Signal,
//	                      "printer" {"version":n} after each print or switch
//	POST /sim/key         {"key":"7"} presses a key (names as device.Key.String):
//	                      204; 400 unknown key; 503 queue full or keypad halted
//	GET  /sim/printer     JSON: the printer's paper width, switches and the
//	                      receipts on its paper (the last 20), laid out
//	POST /sim/printer     {"paperOut":b,"paperLow":b,"coverOpen":b,"gone":b} sets
//	                      the printer's switches: 204; 400 bad JSON
//	GET  /sim/printer/qr/{seq}/{line}  a printed QR code as PNG; 404 when
//	                      that receipt has left the paper
//	POST /sim/scan        the body is one payload, as if scanned: 204; 400 empty or
//	                      several lines; 413 over MaxPayload (ReadPayload then
//	                      reports device.ErrTooLarge); 503 queue full or halted
func (b *Board) handler() http.Handler {
	sub, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, sub, "index.html")
	})
	files := http.StripPrefix("/web/", http.FileServerFS(sub))
	mux.HandleFunc("GET /web/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /sim/screen.png", b.serveScreen)
	mux.HandleFunc("GET /sim/state", b.serveState)
	mux.HandleFunc("GET /sim/events", b.serveEvents)
	mux.HandleFunc("POST /sim/key", b.serveKey)
	mux.HandleFunc("POST /sim/scan", b.serveScan)
	mux.HandleFunc("POST /sim/tap", b.serveTap)
	mux.HandleFunc("GET /sim/printer", b.servePrinter)
	mux.HandleFunc("POST /sim/printer", b.setPrinter)
	mux.HandleFunc("GET /sim/printer/qr/{seq}/{line}", b.servePrinterQR)
	return guard(mux)
}

// guard refuses requests that did not come from a page of this board: a
// Host that is not loopback (DNS rebinding), and state changes from another
// origin (a web page POSTing to 127.0.0.1). curl sends neither header and
// passes. The security headers keep the page out of frames and other
// origins from embedding its resources.
func guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "+
			"img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		if !loopbackHost(r.Host) {
			http.Error(w, "virtual: host must be loopback", http.StatusMisdirectedRequest)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
				http.Error(w, "virtual: cross-origin request refused", http.StatusForbidden)
				return
			}
			switch r.Header.Get("Sec-Fetch-Site") {
			case "", "same-origin", "none":
			default:
				http.Error(w, "virtual: cross-site request refused", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (b *Board) serveScreen(w http.ResponseWriter, r *http.Request) {
	img, v := b.display.snapshot()
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Screen-Version", strconv.FormatUint(v, 10))
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}

// state is GET /sim/state's answer.
type state struct {
	Width     int      `json:"width"`
	Height    int      `json:"height"`
	Mono      bool     `json:"mono"`
	Version   uint64   `json:"version"`
	Signal    string   `json:"signal,omitempty"`
	SignalSeq uint64   `json:"signalSeq"`
	Signals   []string `json:"signals"`
	Scanner   string   `json:"scanner"`
	Keys      []string `json:"keys"`
	// PrinterVersion counts prints and switch changes: the page fetches
	// /sim/printer when it moves.
	PrinterVersion uint64 `json:"printerVersion"`
}

func (b *Board) serveState(w http.ResponseWriter, r *http.Request) {
	bounds := b.display.Bounds()
	st := state{
		Width:   bounds.Dx(),
		Height:  bounds.Dy(),
		Mono:    b.opts.Mono,
		Version: b.display.currentVersion(),
		Scanner: b.scanner.path,
		Signals: []string{},

		PrinterVersion: b.printer.version(),
	}
	var last device.Signal
	last, st.SignalSeq = b.indicator.last()
	st.Signal = signalNames[last]
	for _, s := range b.Signals() {
		st.Signals = append(st.Signals, signalNames[s])
	}
	for k := device.Key0; keyName(k) != ""; k++ {
		st.Keys = append(st.Keys, k.String())
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, st)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// serveEvents streams the screen version and the latest signal: the
// current ones at once, then each change. Changes made while a write is
// under way coalesce; the page only needs the latest.
func (b *Board) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// A stream outlives the server's timeouts: no read deadline (there is
	// no body), a write deadline per message, a heartbeat to notice a
	// vanished page.
	rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	heartbeat := time.NewTicker(sseHeartbeat)
	defer heartbeat.Stop()
	sentVersion, sentSeq, sentPrinter := ^uint64(0), uint64(0), ^uint64(0)
	msg := "retry: 1000\n\n"
	for {
		changed := b.hub.changed()
		if v := b.display.currentVersion(); v != sentVersion {
			msg += fmt.Sprintf("event: screen\ndata: {\"version\":%d}\n\n", v)
			sentVersion = v
		}
		if s, seq := b.indicator.last(); seq != sentSeq {
			msg += fmt.Sprintf("event: signal\ndata: {\"signal\":%q,\"seq\":%d}\n\n", signalNames[s], seq)
			sentSeq = seq
		}
		if v := b.printer.version(); v != sentPrinter {
			msg += fmt.Sprintf("event: printer\ndata: {\"version\":%d}\n\n", v)
			sentPrinter = v
		}
		if msg != "" {
			rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(w, msg); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			msg = ""
		}
		select {
		case <-changed:
		case <-heartbeat.C:
			msg = ": ping\n\n"
		case <-r.Context().Done():
			return
		case <-b.done:
			return
		}
	}
}

func (b *Board) serveKey(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Key string `json:"key"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err == nil {
		err = strictjson.Decode(body, &req)
	}
	if err != nil {
		http.Error(w, "virtual keypad: want {\"key\": name}: "+err.Error(), http.StatusBadRequest)
		return
	}
	key, ok := device.ParseKey(req.Key)
	if !ok {
		http.Error(w, fmt.Sprintf("virtual keypad: unknown key %q", req.Key), http.StatusBadRequest)
		return
	}
	if err := b.keypad.press(key); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (b *Board) serveScan(w http.ResponseWriter, r *http.Request) {
	max := b.scanner.max
	// Room for a CRLF after a payload of exactly max bytes.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(max)+2))
	var tooBig *http.MaxBytesError
	if err != nil && !errors.As(err, &tooBig) {
		http.Error(w, "virtual scanner: "+err.Error(), http.StatusBadRequest)
		return
	}
	raw := bytes.TrimRight(body, "\r\n")
	if tooBig != nil || len(raw) > max {
		// What a scanner on the pty would cause: the terminal hears of it.
		if _, err := b.scanner.offer(scanItem{err: device.ErrTooLarge}); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		http.Error(w, fmt.Sprintf("virtual scanner: payload over %d bytes", max), http.StatusRequestEntityTooLarge)
		return
	}
	p := bytes.TrimSpace(raw)
	switch {
	case len(p) == 0:
		http.Error(w, "virtual scanner: empty payload", http.StatusBadRequest)
		return
	case bytes.ContainsAny(p, "\r\n"):
		http.Error(w, "virtual scanner: one payload (line) per request", http.StatusBadRequest)
		return
	}
	ok, err := b.scanner.offer(scanItem{payload: bytes.Clone(p)})
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	if !ok {
		http.Error(w, "virtual scanner: queue full", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// maxTapBody caps a POST /sim/tap body: a signed transaction, hex-encoded.
const maxTapBody = 300 << 10

// tapWait is how long POST /sim/tap holds the phone to the reader.
const tapWait = 10 * time.Second

// serveTap presents the phone Opts.TapPhone makes of the body, as a
// payer holding a phone to the reader, and answers once the terminal has
// released it (204), or why not.
func (b *Board) serveTap(w http.ResponseWriter, r *http.Request) {
	if b.opts.TapPhone == nil {
		http.Error(w, "virtual nfc: this board takes no taps over HTTP", http.StatusNotImplemented)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTapBody))
	if err != nil {
		http.Error(w, "virtual nfc: "+err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	phone, err := b.opts.TapPhone(body)
	if err != nil {
		http.Error(w, "virtual nfc: "+err.Error(), http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), tapWait)
	defer cancel()
	if err := b.Tap(ctx, phone); err != nil {
		http.Error(w, "virtual nfc: "+err.Error(), http.StatusConflict)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (b *Board) servePrinter(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, b.printer.view())
}

func (b *Board) setPrinter(w http.ResponseWriter, r *http.Request) {
	var s PrinterState
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err == nil {
		err = strictjson.Decode(body, &s)
	}
	if err != nil {
		http.Error(w, "virtual printer: want {\"paperOut\":…,\"paperLow\":…,\"coverOpen\":…,\"gone\":…}: "+err.Error(), http.StatusBadRequest)
		return
	}
	b.printer.set(s)
	w.WriteHeader(http.StatusNoContent)
}

// servePrinterQR draws a printed QR code, 4 px a module with its quiet
// zone, as the printer would have.
func (b *Board) servePrinterQR(w http.ResponseWriter, r *http.Request) {
	seq, err1 := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	line, err2 := strconv.Atoi(r.PathValue("line"))
	if err1 != nil || err2 != nil {
		http.NotFound(w, r)
		return
	}
	payload := ""
	for _, rc := range b.printer.view().Receipts {
		if rc.Seq == seq && line >= 0 && line < len(rc.Lines) {
			payload = rc.Lines[line].QR
		}
	}
	if payload == "" {
		http.NotFound(w, r)
		return
	}
	q, err := qrcode.New(payload, qrcode.Medium)
	if err != nil {
		http.Error(w, "virtual printer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	img, err := q.PNG(-4)
	if err != nil {
		http.Error(w, "virtual printer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Cache-Control", "max-age=3600")
	w.Write(img)
}
