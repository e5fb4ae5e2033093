package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"showpos/terminal/checkout"
	"showpos/terminal/request"
)

// codeAmbiguousCode answers a short code that matches two payable
// requests (checkout.ErrAmbiguousCode): about once in 10^9 requests with
// a thousand payable at once.
const codeAmbiguousCode = "ambiguous_code"

// shortLinks is what the short link route needs from the till; the
// payer API's Till has it when it is a checkout.Service.
type shortLinks interface {
	RequestByCode(code string) (*request.Document, error)
}

// shortAnswer is the body sent with a short link's redirect to a client
// that is not a browser.
type shortAnswer struct {
	RequestID string `json:"requestId"`
	URI       string `json:"uri"` // the EIP-681 URI, as in Location
}

// mountShortLinks serves the request screen's short links,
// GET /R/{code} (and /r/{code}: a browser keeps the path's case, a person
// typing it may not), unauthenticated like the payer API, when t can look
// codes up:
//
//   - a browser (Accept names text/html, as a navigation does: a phone's
//     camera opening the link, a wallet's in-app browser) is sent (303) to
//     the payer page of the request, ../pay/{id}, relative so that a
//     public_url with a path behind a proxy keeps it;
//   - any other client (a payer app, a wallet's link handler, curl) is
//     sent (303) to the request's EIP-681 URI, with its req link, in
//     Location, and gets {"requestId","uri"} as the body for a client that
//     does not follow a redirect to a non-HTTP scheme;
//   - without the payer page, everyone gets the second answer.
//
// An unknown, malformed, expired, paid or cancelled code is 404
// unknown_request in the API's error shape; two payable requests with the
// code, 409 ambiguous_code. Answers are not cached: a code lives as long
// as its request can be paid.
func mountShortLinks(mux *http.ServeMux, t Till, page bool, log *slog.Logger) {
	sl, ok := t.(shortLinks)
	if !ok {
		return
	}
	h := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept")
		doc, err := sl.RequestByCode(r.PathValue("code"))
		if errors.Is(err, checkout.ErrAmbiguousCode) {
			writeCoded(w, http.StatusConflict, codeAmbiguousCode, "this short code matches more than one payment request: pay through the full link or NFC")
			return
		}
		if err != nil {
			writeError(w, log, err)
			return
		}
		if page && strings.Contains(r.Header.Get("Accept"), "text/html") {
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Location", "../pay/"+url.PathEscape(doc.ID))
			w.WriteHeader(http.StatusSeeOther)
			return
		}
		w.Header().Set("Location", doc.URI)
		writeJSON(w, http.StatusSeeOther, shortAnswer{RequestID: doc.ID, URI: doc.URI})
	}
	for _, p := range []string{checkout.ShortPath, strings.ToLower(checkout.ShortPath)} {
		mux.HandleFunc("GET "+p+"{code}", h)
	}
}
