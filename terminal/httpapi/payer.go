package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/request"
)

// Till is what the payer API needs from the terminal.
type Till interface {
	Request(id string) (*request.Document, error)
	// PayHandover pays by a signed transaction or an EIP-3009
	// authorization (checkout.ParseHandover reads which).
	PayHandover(ctx context.Context, h checkout.Handover) (checkout.Receipt, error)
}

// maxBroadcastBody caps a broadcastTx body: the largest transaction the
// check takes, hex-encoded, plus room for the JSON around it.
const maxBroadcastBody = 2*check.MaxTxSize + 4<<10

// QRPath serves a request's QR code as PNG, for a second screen or a
// printed bill.
const QRPath = "/api/showpos/qr.png"

// maxIDLen bounds a request id given by a client.
const maxIDLen = 64

// Payer returns the payer API handler:
//
//	GET  /api/showpos/getPaymentRequest?id=ID   the request (no id: the one on screen)
//	GET  /api/showpos/qr.png?id=ID&module=N     the request's EIP-681 URI as a QR code (no id: on screen)
//	POST /api/showpos/broadcastTx               {"requestId","rawTx"} or {"requestId","payment"} → 202 receipt (200 on a repeat)
//
// It answers any origin (CORS): payer web apps call it from the browser,
// and every payload it serves or takes is signed.
func Payer(t Till, log *slog.Logger) http.Handler {
	return payerAPI(t, log, newQRPainter())
}

// payerAPI is Payer painting QR codes with qr, which the network API
// shares with its register routes.
func payerAPI(t Till, log *slog.Logger, qr *qrPainter) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &payer{till: t, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc(checkout.RequestPath, p.getRequest)
	mux.HandleFunc(checkout.BroadcastPath, p.broadcast)
	mux.HandleFunc("GET "+QRPath, func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		if len(id) > maxIDLen {
			writeCoded(w, http.StatusBadRequest, codeBadRequest, "id is too long")
			return
		}
		qr.write(w, r, p.log, t.Request, id)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeCoded(w, http.StatusNotFound, codeNotFound, "no such endpoint: "+r.URL.Path)
	})
	return cors(mux)
}

type payer struct {
	till Till
	log  *slog.Logger
}

func cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (p *payer) getRequest(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeCoded(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, "use GET")
		return
	}
	id := r.URL.Query().Get("id")
	if len(id) > maxIDLen {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "id is too long")
		return
	}
	doc, err := p.till.Request(id)
	if err != nil {
		writeError(w, p.log, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

func (p *payer) broadcast(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeCoded(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, "use POST")
		return
	}
	body, err := readBody(w, r, maxBroadcastBody)
	if err != nil {
		writeBodyError(w, err)
		return
	}
	h, err := checkout.ParseHandover(body)
	if errors.Is(err, checkout.ErrBadHandover) {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "body must be JSON {\"requestId\":…,\"rawTx\":\"0x…\"} or {\"requestId\":…,\"payment\":{…}}: "+err.Error())
		return
	}
	if err != nil {
		writeError(w, p.log, err)
		return
	}
	rec, err := p.till.PayHandover(r.Context(), h)
	if err != nil {
		writeError(w, p.log, err)
		return
	}
	status := http.StatusAccepted
	if rec.Repeat {
		status = http.StatusOK
	}
	writeJSON(w, status, rec)
}

var errBodyTooLarge = errors.New("body too large")

// readBody reads at most limit bytes of the body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errBodyTooLarge
	}
	return b, err
}

func writeBodyError(w http.ResponseWriter, err error) {
	if errors.Is(err, errBodyTooLarge) {
		writeCoded(w, http.StatusRequestEntityTooLarge, codeBodyTooLarge, "request body is too large")
		return
	}
	writeCoded(w, http.StatusBadRequest, codeBadRequest, "could not read the request body")
}
