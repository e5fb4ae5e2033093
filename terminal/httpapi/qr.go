package httpapi

import (
	"bytes"
	"image/png"
	"log/slog"
	"net/http"
	"strconv"

	"showpos/terminal/request"
)

// defaultModuleSize is the QR module size in pixels when none is asked for:
// a phone reads it comfortably from a printed page or a monitor.
const defaultModuleSize = 6

// writeQR answers with the request's EIP-681 URI as a PNG QR code, at the
// module size in the "module" query parameter.
func writeQR(w http.ResponseWriter, r *http.Request, log *slog.Logger, get func(id string) (*request.Document, error), id string) {
	size := defaultModuleSize
	if s := r.URL.Query().Get("module"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > request.MaxModuleSize {
			writeCoded(w, http.StatusBadRequest, codeBadRequest, "module must be 1.."+strconv.Itoa(request.MaxModuleSize)+" pixels")
			return
		}
		size = n
	}
	doc, err := get(id)
	if err != nil {
		writeError(w, log, err)
		return
	}
	img, err := request.QR(doc.URI, size)
	if err != nil {
		writeError(w, log, err)
		return
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		writeError(w, log, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}
