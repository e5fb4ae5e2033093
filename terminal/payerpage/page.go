package payerpage

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"
)

// Prefix is where the page lives: Prefix+id is the page of request id,
// Prefix alone the page of the request on screen, Prefix+"assets/" its
// files.
const Prefix = "/pay/"

// CSP is the Content-Security-Policy of every answer: nothing but the
// terminal's own script, style and API, no frames, forms or base changes.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

//go:embed assets/index.html assets/page.css assets/page.js assets/eip712.js all:assets/vendor
var assets embed.FS

var page = template.Must(template.ParseFS(assets, "assets/index.html"))

// Options configure the page.
type Options struct {
	// MerchantName gives the merchant's display name as the running config
	// says it, read at every page load (a fleet bundle may change it); nil
	// or "" shows none.
	MerchantName func() string
	Logger       *slog.Logger // nil: discard
}

// Handler serves the page and its files:
//
//	GET /pay/                the page of the request on screen
//	GET /pay/{id}            the page of request id
//	GET /pay/assets/{file}   its script, style and vendored libraries
//
// The page itself holds no request data: its script reads the request from
// the payer API on the same origin, so one page serves every request.
func Handler(o Options) http.Handler {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	files, err := fs.Sub(assets, "assets")
	if err != nil {
		panic("payerpage: " + err.Error()) // the embed pattern names the folder
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix+"assets/{file...}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		if name == "index.html" {
			http.NotFound(w, r)
			return
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if strings.HasSuffix(name, ".js") {
			ct = "text/javascript; charset=utf-8" // module scripts need a JavaScript type
		}
		if ct == "" {
			ct = "text/plain; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	})
	serve := func(w http.ResponseWriter, r *http.Request) {
		name := ""
		if o.MerchantName != nil {
			name = o.MerchantName()
		}
		var buf bytes.Buffer
		if err := page.Execute(&buf, struct{ Merchant string }{name}); err != nil {
			log.Error("payer page", "err", err)
			http.Error(w, "page unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(buf.Bytes())
	}
	mux.HandleFunc("GET "+Prefix+"{$}", serve)
	mux.HandleFunc("GET "+Prefix+"{id}", serve)
	mux.HandleFunc(Prefix, http.NotFound) // other methods and deeper paths
	return secure(mux)
}

// secure sets the headers every answer carries.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", CSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}
