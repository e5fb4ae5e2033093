package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/locale"
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
//
// The HTML speaks the terminal's language, loc's at each request (a fleet
// bundle may change terminal.locale live; nil is English): its words,
// amounts and time, and its lang attribute. The JSON is what is signed and
// stays the same in every language.
func receiptPage(src Receipts, loc func() locale.Locale, log *slog.Logger) http.Handler {
	if loc == nil {
		loc = func() locale.Locale { return locale.English }
	}
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
		if err := receiptHTML.Execute(&buf, htmlReceipt(loc(), s)); err != nil {
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
<html lang="{{.Lang}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.W.Receipt}} {{.RequestID}}</title>
<style>{{.CSS}}</style></head>
<body>
<h1>{{if .MerchantName}}{{.MerchantName}}{{else}}{{.W.Receipt}}{{end}}</h1>
<p class="sub">{{.W.Terminal}} {{.TerminalID}} · {{.Time}}</p>
<div class="state {{.State}}">{{.StateWords}}</div>
{{if .Reason}}<p class="reason">{{.Reason}}</p>{{end}}
<dl>
{{if .Fiat}}<dt>{{.W.Total}}</dt><dd class="big">{{.Fiat}}</dd>{{end}}
<dt>{{.W.Amount}}</dt><dd{{if not .Fiat}} class="big"{{end}}>{{.Amount}}</dd>
{{if .Tip}}<dt>{{.W.Tip}}</dt><dd>{{.Tip}}</dd>{{end}}
{{if .Rate}}<dt>{{.W.Rate}}</dt><dd>{{.Rate}}</dd>{{end}}
{{if .Token}}<dt>{{.W.Token}}</dt><dd><code>{{.Token}}</code></dd>{{end}}
<dt>{{.W.PaidTo}}</dt><dd><code>{{.Merchant}}</code></dd>
<dt>{{.W.Network}}</dt><dd>{{.Chain}}</dd>
{{if .Memo}}<dt>{{.W.Memo}}</dt><dd>{{.Memo}}</dd>{{end}}
<dt>{{.W.Request}}</dt><dd><code>{{.RequestID}}</code></dd>
{{if .From}}<dt>{{.W.PaidBy}}</dt><dd><code>{{.From}}</code></dd>{{end}}
{{if .Method}}<dt>{{.W.Method}}</dt><dd>{{.Method}}</dd>{{end}}
{{if .AuthNonce}}<dt>{{.W.AuthNonce}}</dt><dd><code>{{.AuthNonce}}</code></dd>{{end}}
{{if .TxHash}}<dt>{{if .AuthNonce}}{{.W.Settlement}}{{else}}{{.W.Transaction}}{{end}}</dt><dd><code>{{.TxHash}}</code></dd>{{end}}
</dl>
<section>
<dl>
<dt>{{.W.SignedBy}}</dt><dd><code>{{.Signer}}</code> {{.W.TheTerminal}}</dd>
<dt>{{.W.Signature}}</dt><dd><code>{{.Signature}}</code></dd>
</dl>
<p>{{.HowTo}}</p>
</section>
</body></html>
`))

// htmlView is a receipt as the page shows it, in one language.
type htmlView struct {
	CSS                                  template.CSS
	Lang                                 string
	W                                    pageWords
	RequestID, TerminalID, MerchantName  string
	Time, State, StateWords, Reason      string
	Fiat, Amount, Tip, Rate, Token, Memo string
	Merchant, From, Method, AuthNonce    string
	TxHash, Signer, Signature, Chain     string
	HowTo                                template.HTML
}

// pageWords are the page's labels, in one language.
type pageWords struct {
	Receipt, Terminal, Total, Amount, Tip, Rate, Token, PaidTo, Network string
	Memo, Request, PaidBy, Method, AuthNonce, Settlement, Transaction   string
	SignedBy, TheTerminal, Signature                                    string
}

func wordsIn(l locale.Locale) pageWords {
	return pageWords{
		Receipt: l.T(locale.PageReceipt), Terminal: l.T(locale.ReceiptTerminal), Total: l.T(locale.ReceiptTotal),
		Amount: l.T(locale.ReceiptAmount), Tip: l.T(locale.ReceiptTip), Rate: l.T(locale.ReceiptRate),
		Token: l.T(locale.PageToken), PaidTo: l.T(locale.PagePaidTo), Network: l.T(locale.PageNetwork),
		Memo: l.T(locale.ReceiptMemo), Request: l.T(locale.ReceiptRequest), PaidBy: l.T(locale.ReceiptPayer),
		Method: l.T(locale.PageMethod), AuthNonce: l.T(locale.ReceiptAuthNonce), Settlement: l.T(locale.ReceiptSettled),
		Transaction: l.T(locale.ReceiptTx), SignedBy: l.T(locale.PageSignedBy), TheTerminal: l.T(locale.PageTheTerminal),
		Signature: l.T(locale.PageSignature),
	}
}

// stateWords are each state's big words on the page: the printed
// receipt's (terminal/receipt), accepted's two lines joined by a dash.
var stateWords = map[receipt.State][]locale.Key{
	receipt.StatePaid:     {locale.ReceiptPaid},
	receipt.StateAccepted: {locale.ReceiptAccepted, locale.ReceiptWillSettle},
	receipt.StateRejected: {locale.ReceiptRejected},
	receipt.StateUnpaid:   {locale.ReceiptNotPaid},
}

// unpaidWords are an unpaid request's statuses (its receipt's reason).
var unpaidWords = map[string]locale.Key{
	string(store.RequestPending):   locale.PagePending,
	string(store.RequestExpired):   locale.PageExpired,
	string(store.RequestCancelled): locale.PageCancelled,
}

// methodWords are how a payment came (receipt.Method*).
var methodWords = map[string]locale.Key{
	receipt.MethodHandover:      locale.PageHandover,
	receipt.MethodChain:         locale.PageOnChain,
	receipt.MethodAuthorization: locale.PageAuthorization,
}

// howTo is the paragraph on checking the signature: the catalog's words,
// escaped, around the link to the JSON and the signer's address.
func howTo(l locale.Locale, chainID uint64, signer string) template.HTML {
	link := `<a href="?format=json">` + textEscaper.Replace(l.T(locale.PageJSONLink)) + `</a>`
	code := `<code>` + textEscaper.Replace(signer) + `</code>`
	return template.HTML(fmt.Sprintf(textEscaper.Replace(l.Text(locale.PageHowTo)), chainID, link, code)) // every piece is escaped here
}

// chainIn is the network a receipt's payment was made on: "chain 42161",
// after the terminal's name for it where the request named its networks
// ("arbitrum · chain 42161").
func chainIn(l locale.Locale, r receipt.Receipt) string {
	c := l.T(locale.PageChain, r.ChainID)
	if r.Network != "" {
		return r.Network + " · " + c
	}
	return c
}

// textEscaper escapes text between tags (quotes need no escaping there,
// and the English paragraph keeps its apostrophes as they always were).
var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// htmlReceipt is s as the page shows it in l: only words, separators and
// the time's layout change with l, every digit and address stays.
func htmlReceipt(l locale.Locale, s receipt.Signed) htmlView {
	r := s.Receipt
	sym := r.Asset.Symbol
	v := htmlView{
		CSS: template.CSS(receiptCSS), Lang: l.String(), W: wordsIn(l),
		RequestID: r.RequestID, TerminalID: r.TerminalID, MerchantName: r.MerchantName,
		Time: l.Stamp(r.Time.UTC()) + " UTC", State: string(r.State), StateWords: stateIn(l, r.State),
		Reason: reasonIn(l, r), Amount: l.Amount(asset.FormatAmount(r.Amount, r.Asset.Decimals)) + " " + sym, Memo: r.Memo,
		Merchant: r.Merchant.Hex(), Method: methodIn(l, r.Method), Chain: chainIn(l, r),
		Signer: s.Signer.Hex(), Signature: hexutil.Encode(s.Signature),
		HowTo: howTo(l, r.ChainID, s.Signer.Hex()),
	}
	if !r.Asset.Native() {
		v.Token = r.Asset.Token.Hex()
	}
	if r.Currency != "" {
		v.Fiat = l.Amount(r.FiatAmount) + " " + r.Currency
		if r.Rate != "" {
			v.Rate = "1 " + sym + " = " + l.Amount(r.Rate) + " " + r.Currency
		}
	}
	if r.Tip != nil && r.Tip.Sign() > 0 {
		v.Tip = l.Amount(asset.FormatAmount(r.Tip, r.Asset.Decimals)) + " " + sym
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

// stateIn is state's big words in l; a state the catalog lacks, as it is.
func stateIn(l locale.Locale, st receipt.State) string {
	keys, ok := stateWords[st]
	if !ok {
		return strings.ToUpper(string(st))
	}
	words := make([]string, len(keys))
	for i, k := range keys {
		words[i] = l.T(k)
	}
	return strings.Join(words, " — ")
}

// reasonIn is r's reason (kept and signed in English) in l: an unpaid
// request's status, or a refusal or failure the catalog has; anything else
// (a reason from the chain, say) as it is.
func reasonIn(l locale.Locale, r receipt.Receipt) string {
	if k, ok := unpaidWords[r.Reason]; ok && r.State == receipt.StateUnpaid {
		return l.T(k)
	}
	return l.Reason(r.Reason)
}

// methodIn is how a payment came, in l; a method the catalog lacks, as it
// is.
func methodIn(l locale.Locale, m string) string {
	if k, ok := methodWords[m]; ok {
		return l.T(k)
	}
	return m
}
