package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/receipt"
	"showpos/terminal/store"
)

// Receipts is what GET /receipt/{id} serves from: a receipt.Issuer.
type Receipts interface {
	Receipt(id string) (receipt.Signed, error)
}

// receiptPage serves a request's signed receipt, unauthenticated like the
// payer page (it says what the request's own QR code already tells, and
// who paid, which the chain tells anyone):
//
//	GET /receipt/{id}               HTML for people
//	GET /receipt/{id}?format=json   JSON: {typedData, signature, signer, link}
//
// JSON is also served when the Accept header names application/json and
// not text/html (?format=html forces HTML). A request with no payment is
// answered 200 with a receipt in state unpaid (its status as the reason),
// signed like any other: a payer holding a slip of a refused payment reads
// from the terminal itself that it holds no payment for it. An unknown id
// is 404 unknown_request, in the API's error shape whatever was asked.
func receiptPage(src Receipts, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*") // signed: any page may read it
		w.Header().Set("Vary", "Accept")
		id, ok := strings.CutPrefix(r.URL.Path, receipt.Path)
		if !ok || id == "" || strings.Contains(id, "/") {
			writeCoded(w, http.StatusNotFound, codeNotFound, "no such endpoint: "+r.URL.Path)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeCoded(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, "use GET")
			return
		}
		if len(id) > maxIDLen {
			writeCoded(w, http.StatusBadRequest, codeBadRequest, "id is too long")
			return
		}
		s, err := src.Receipt(id)
		if errors.Is(err, store.ErrUnknownRequest) {
			writeCoded(w, http.StatusNotFound, string(check.CodeUnknownRequest), "this terminal has no payment request "+id)
			return
		}
		if err != nil {
			writeError(w, log, err)
			return
		}
		if wantsJSON(r) {
			writeJSON(w, http.StatusOK, s)
			return
		}
		var buf bytes.Buffer
		if err := receiptHTML.Execute(&buf, htmlReceipt(s)); err != nil {
			log.Error("receipt page", "request", id, "err", err)
			writeCoded(w, http.StatusInternalServerError, codeUnavailable, "the receipt page could not be made")
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", receiptCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		_, _ = w.Write(buf.Bytes())
	})
}

// wantsJSON: ?format=json, or an Accept naming JSON but not HTML (a
// browser's navigation names text/html; fetch and curl -H name JSON).
func wantsJSON(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "json":
		return true
	case "html":
		return false
	}
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/json") && !strings.Contains(a, "text/html")
}

// receiptCSS is the page's only style, allowed by its hash: the page
// loads nothing, runs nothing.
const receiptCSS = `body{font:16px/1.4 system-ui,sans-serif;margin:0 auto;padding:1em;max-width:32em;color:#111}
h1{font-size:1.3em;margin:0}.sub{color:#555;margin:0 0 1em}
.state{font-size:2em;font-weight:700;text-align:center;padding:.4em;border-radius:.3em;margin:.5em 0}
.paid{background:#d9f5dd}.accepted{background:#fff3cd}.rejected,.unpaid{background:#f8d7da}
.reason{text-align:center;margin:0 0 1em}dl{display:grid;grid-template-columns:auto 1fr;gap:.3em 1em;margin:1em 0}
dt{color:#555}dd{margin:0;overflow-wrap:anywhere}code{font-size:.85em;overflow-wrap:anywhere}
.big{font-size:1.4em;font-weight:700}section{border-top:1px solid #ccc;margin-top:1em}`

var receiptCSP = "default-src 'none'; style-src 'sha256-" + cssHash() + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func cssHash() string {
	h := sha256.Sum256([]byte(receiptCSS))
	return base64.StdEncoding.EncodeToString(h[:])
}

var receiptHTML = template.Must(template.New("receipt").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Receipt {{.RequestID}}</title>
<style>{{.CSS}}</style></head>
<body>
<h1>{{if .MerchantName}}{{.MerchantName}}{{else}}Receipt{{end}}</h1>
<p class="sub">Terminal {{.TerminalID}} · {{.Time}}</p>
<div class="state {{.State}}">{{.StateWords}}</div>
{{if .Reason}}<p class="reason">{{.Reason}}</p>{{end}}
<dl>
{{if .Fiat}}<dt>Total</dt><dd class="big">{{.Fiat}}</dd>{{end}}
<dt>Amount</dt><dd{{if not .Fiat}} class="big"{{end}}>{{.Amount}}</dd>
{{if .Tip}}<dt>Tip</dt><dd>{{.Tip}}</dd>{{end}}
{{if .Rate}}<dt>Rate</dt><dd>{{.Rate}}</dd>{{end}}
{{if .Token}}<dt>Token</dt><dd><code>{{.Token}}</code></dd>{{end}}
<dt>Paid to</dt><dd><code>{{.Merchant}}</code></dd>
<dt>Network</dt><dd>chain {{.ChainID}}</dd>
{{if .Memo}}<dt>Memo</dt><dd>{{.Memo}}</dd>{{end}}
<dt>Request</dt><dd><code>{{.RequestID}}</code></dd>
{{if .From}}<dt>Paid by</dt><dd><code>{{.From}}</code></dd>{{end}}
{{if .Method}}<dt>Method</dt><dd>{{.Method}}</dd>{{end}}
{{if .AuthNonce}}<dt>Authorization nonce</dt><dd><code>{{.AuthNonce}}</code></dd>{{end}}
{{if .TxHash}}<dt>{{if .AuthNonce}}Settlement{{else}}Transaction{{end}}</dt><dd><code>{{.TxHash}}</code></dd>{{end}}
</dl>
<section>
<dl>
<dt>Signed by</dt><dd><code>{{.Signer}}</code> (the terminal)</dd>
<dt>Signature</dt><dd><code>{{.Signature}}</code></dd>
</dl>
<p>How to check it: this receipt is EIP-712 typed data (primary type Receipt, domain showpos version 1,
chain {{.ChainID}}) signed by the terminal's key. Fetch <a href="?format=json">its JSON</a> and give its
typedData and signature to any EIP-712 library, e.g. ethers' verifyTypedData(domain, types, message,
signature): it must give <code>{{.Signer}}</code>, the same address that signed the payment request you were shown.</p>
</section>
</body></html>
`))

// htmlView is a receipt as the page shows it.
type htmlView struct {
	CSS                                  template.CSS
	RequestID, TerminalID, MerchantName  string
	Time, State, StateWords, Reason      string
	Fiat, Amount, Tip, Rate, Token, Memo string
	Merchant, From, Method, AuthNonce    string
	TxHash, Signer, Signature            string
	ChainID                              uint64
}

var stateWords = map[receipt.State]string{
	receipt.StatePaid:     "PAID",
	receipt.StateAccepted: "ACCEPTED — WILL SETTLE",
	receipt.StateRejected: "REJECTED",
	receipt.StateUnpaid:   "NOT PAID",
}

func htmlReceipt(s receipt.Signed) htmlView {
	r := s.Receipt
	sym := r.Asset.Symbol
	v := htmlView{
		CSS:       template.CSS(receiptCSS),
		RequestID: r.RequestID, TerminalID: r.TerminalID, MerchantName: r.MerchantName,
		Time: r.Time.UTC().Format("2006-01-02 15:04:05 UTC"), State: string(r.State), StateWords: stateWords[r.State],
		Reason: r.Reason, Amount: asset.FormatAmount(r.Amount, r.Asset.Decimals) + " " + sym, Memo: r.Memo,
		Merchant: r.Merchant.Hex(), Method: r.Method, ChainID: r.ChainID,
		Signer: s.Signer.Hex(), Signature: hexutil.Encode(s.Signature),
	}
	if !r.Asset.Native() {
		v.Token = r.Asset.Token.Hex()
	}
	if r.Currency != "" {
		v.Fiat = r.FiatAmount + " " + r.Currency
		if r.Rate != "" {
			v.Rate = "1 " + sym + " = " + r.Rate + " " + r.Currency
		}
	}
	if r.Tip != nil && r.Tip.Sign() > 0 {
		v.Tip = asset.FormatAmount(r.Tip, r.Asset.Decimals) + " " + sym
	}
	if r.From != (common.Address{}) {
		v.From = r.From.Hex()
	}
	if r.AuthNonce != (common.Hash{}) {
		v.AuthNonce = r.AuthNonce.Hex()
	}
	if r.TxHash != (common.Hash{}) {
		v.TxHash = r.TxHash.Hex()
	}
	return v
}
