package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"showpos/terminal/asset"
	"showpos/terminal/fiat"
	"showpos/terminal/request"
	"showpos/tools/paytx"
)

// maxImage caps a QR image read from a URL.
const maxImage = 8 << 20

var httpClient = &http.Client{Timeout: 10 * time.Second}

// pay does one payment (or one wrong payment) and reports what happened.
func pay(ctx context.Context, o *options, out *printer) (*result, error) {
	res := &result{Via: o.via, Wrong: o.wrong, Expected: expectedCode[o.wrong]}
	if o.via == "authorization" {
		res.Expected = expectedAuthCode[o.wrong]
	}
	doc, src, qrChain, err := readRequest(ctx, o)
	res.Source = src
	if err != nil {
		return res, err
	}
	// The network paid on: -network's, else the QR code's, else the
	// request's own; every later step pays doc as rebuilt for it.
	sel := o.network
	if qrChain != 0 && qrChain != doc.ChainID {
		qs := strconv.FormatUint(qrChain, 10)
		if sel == "" {
			sel = qs
		} else if opt, _, err := onNetwork(doc, sel); err == nil && opt.ChainID != qrChain {
			return res, fmt.Errorf("refusing to pay: the QR code is for chain %d, -network %q is chain %d", qrChain, sel, opt.ChainID)
		}
	}
	res.Offered = 1 + len(doc.Also)
	doc, chosen, err := onNetwork(doc, sel)
	if err != nil {
		return res, err
	}
	res.Network = chosen.Network
	if res.Offered > 1 {
		out.line("network", "%s of %d offered (chain %d, token %s; rebuilt from the signed options)", chosen.Network, res.Offered, chosen.ChainID, tokenName(tokenOf(chosen.Token)))
	}
	res.RequestID, res.Merchant, res.ChainID = doc.ID, doc.Merchant.Hex(), doc.ChainID
	res.Amount = doc.AmountDisplay + " " + doc.Asset.Symbol
	signer := doc.Signer
	res.Signer, res.SignerPinned = signer.Hex(), o.signer != nil
	memo := ""
	if doc.Memo != "" {
		memo = fmt.Sprintf(" (%q)", doc.Memo)
	}
	out.line("request", "%s: %s to %s on chain %d%s, from %s, expires %s", doc.ID, res.Amount, res.Merchant,
		doc.ChainID, memo, src, doc.ExpiresAt.Format(time.RFC3339))
	if f := doc.Fiat; f != nil {
		// Verify (in readRequest) checked it is signed and that the amount
		// is what it converts to at the signed rate.
		c, _ := fiat.Lookup(f.Rate.Currency)
		res.Fiat = c.Format(f.Amount) + " " + c.Code
		if f.Tip != nil {
			res.Fiat += " (tip " + c.Format(f.Tip) + ")"
		}
		res.Fiat += " at " + f.Rate.Price() + " " + c.Code + " per " + doc.Asset.Symbol
		out.line("price", "%s, rate from %s at %s (signed)", res.Fiat, f.Rate.Source, f.Rate.At.Format(time.RFC3339))
	} else if doc.Tip != nil {
		out.line("price", "includes a tip of %s %s (signed)", asset.FormatAmount(doc.Tip, doc.Asset.Decimals), doc.Asset.Symbol)
	}
	out.line("signer", "%s", signerNote(o, signer))
	note, err := checkCertificate(o, doc, signer, time.Now())
	res.Certificate = note
	out.line("fleet", "%s", note)
	if err != nil {
		return res, err
	}
	if err := checkRequest(o, doc, signer, time.Now()); err != nil {
		return res, err
	}
	if o.printRequest && !o.json {
		b, _ := doc.MarshalJSON()
		fmt.Fprintf(out.w, "%s\n", b)
	}

	from := crypto.PubkeyToAddress(o.key.PublicKey)
	res.From = from.Hex()
	st, err := loadState(o.stateDir, from)
	if err != nil {
		return res, err
	}
	if o.via == "authorization" {
		return res, payAuthorization(ctx, o, out, res, doc, src, st)
	}
	var raw []byte
	var txHash common.Hash
	if o.wrong == "reused" {
		raw, txHash, err = reusedTx(doc, st)
		if err != nil {
			return res, err
		}
		out.line("payer", "%s sends again tx %s, which paid request %s", from.Hex(), txHash.Hex(), st.Last.RequestID)
	} else {
		nonce, source, err := pickNonce(ctx, o, doc.ChainID, from, st)
		if err != nil {
			return res, err
		}
		res.Nonce, res.NonceSource = &nonce, source
		out.line("payer", "%s nonce %d (%s)", from.Hex(), nonce, source)
		tx, err := buildTx(doc, o, from, nonce)
		if err != nil {
			return res, err
		}
		if raw, err = tx.MarshalBinary(); err != nil {
			return res, fmt.Errorf("encode tx: %w", err)
		}
		txHash = tx.Hash()
		what := "pays"
		if o.wrong != "" {
			what = "wrong on purpose (" + o.wrong + "):"
		}
		out.line("tx", "%s %s type %d, chain %s, fee cap %s wei, tip %s wei", txHash.Hex(), what, tx.Type(), tx.ChainId(), tx.GasFeeCap(), tx.GasTipCap())
	}
	res.TxHash = txHash.Hex()

	accepted := false
	switch o.via {
	case "http":
		url := doc.BroadcastURL
		if o.terminalSet || src == "api" {
			url = o.terminal + "/api/showpos/broadcastTx"
		}
		status, body, code, err := broadcast(ctx, url, doc.ID, raw)
		if err != nil {
			return res, err
		}
		res.HTTPStatus, res.Answer, res.Code = status, body, code
		accepted = status == http.StatusOK || status == http.StatusAccepted
		out.line("answer", "%d %s", status, bytes.TrimSpace(body))
		switch {
		case o.wrong == "" && accepted:
			res.OK = true
		case o.wrong == "":
			return res, fmt.Errorf("the terminal refused the payment: %s", codeOr(code, status))
		case accepted:
			return res, fmt.Errorf("the terminal accepted a %s payment; it should have refused it with %s", o.wrong, res.Expected)
		case code != res.Expected:
			return res, fmt.Errorf("the terminal refused with %s, want %s", codeOr(code, status), res.Expected)
		default:
			res.OK = true
			out.line("refused", "%s, as expected", code)
		}
	case "scanner":
		if err := writeScanner(ctx, o.scanner, raw); err != nil {
			return res, err
		}
		out.line("scanned", "wrote %d bytes (0x + hex + CR) to %s", 2+2*len(raw)+1, o.scanner)
		accepted, res.OK = true, true
	case "nfc":
		if err := tapSim(ctx, o.sim, raw); err != nil {
			return res, err
		}
		out.line("tapped", "the phone was held to the reader at %s until the terminal released it", o.sim)
		accepted, res.OK = true, true
	case "chain":
		block, err := sendToChain(ctx, o.rpc, doc.ChainID, raw)
		if err != nil {
			return res, err
		}
		res.Block = &block
		out.line("mined", "in block %d of %s; the terminal learns of it from the chain alone", block, o.rpc)
		accepted, res.OK = true, true
	}
	if accepted && o.wrong == "" && res.Nonce != nil {
		if *res.Nonce+1 > st.NextNonce {
			st.NextNonce = *res.Nonce + 1
		}
		st.Last = &lastSent{RequestID: doc.ID, RawTx: hexutil.Encode(raw), TxHash: txHash.Hex()}
		if err := saveState(o.stateDir, from, st); err != nil {
			// The payment is made; only the offline counter is behind.
			fmt.Fprintln(out.errW, "payer: warning:", err)
		}
	}
	return res, nil
}

func codeOr(code string, status int) string {
	if code != "" {
		return code
	}
	return "HTTP " + strconv.Itoa(status)
}

// readRequest gets the request document, verified, from the payer API or
// from the QR code's req URL; src says which, and qrChain is the chain the
// QR code pays on (one of the document's networks; 0 from the API).
func readRequest(ctx context.Context, o *options) (_ *request.Document, src string, qrChain uint64, _ error) {
	if o.qrFile == "" && o.fromScreen == "" {
		body, err := get(ctx, o.docURL(), request.MaxDocumentSize+1)
		if err != nil {
			return nil, "api", 0, fmt.Errorf("get payment request: %w", err)
		}
		d, err := verifiedDocument(body)
		return d, "api", 0, err
	}
	var img []byte
	var err error
	src = "qr-file"
	if o.qrFile != "" {
		img, err = os.ReadFile(o.qrFile)
	} else {
		src = "screen"
		img, err = get(ctx, o.fromScreen, maxImage)
	}
	if err != nil {
		return nil, src, 0, fmt.Errorf("read QR image: %w", err)
	}
	text, err := decodeQR(img)
	if err != nil {
		return nil, src, 0, err
	}
	if text, err = followShortLink(ctx, text); err != nil {
		return nil, src, 0, err
	}
	uri, err := parseURI(text)
	if err != nil {
		return nil, src, 0, fmt.Errorf("QR code %q: %w", clip(text), err)
	}
	if uri.RequestURL == "" {
		return nil, src, 0, fmt.Errorf("QR code %q has no req parameter: a plain EIP-681 wallet could pay it, but this payer only pays signed requests", clip(text))
	}
	body, err := get(ctx, uri.RequestURL, request.MaxDocumentSize+1)
	if err != nil {
		return nil, src, 0, fmt.Errorf("get the signed request named by the QR code: %w", err)
	}
	d, err := verifiedDocument(body)
	if err != nil {
		return nil, src, 0, err
	}
	// A QR code of another network the request offers (the keypad
	// switched it) is checked against that network's terms.
	shown := d
	if uri.ChainID != d.ChainID {
		if shown, _, err = onNetwork(d, strconv.FormatUint(uri.ChainID, 10)); err != nil {
			return nil, src, 0, fmt.Errorf("refusing to pay: the QR code's chain id is %d but the signed request is not offered there (%w)", uri.ChainID, err)
		}
	}
	if err := uriMatches(uri, text, shown); err != nil {
		return nil, src, 0, err
	}
	return d, src, uri.ChainID, nil
}

// followShortLink returns the EIP-681 URI a short link (what a small
// screen's QR code carries: public_url/R/CODE) sends an app to, as its
// 303's Location; any other text as it is.
func followShortLink(ctx context.Context, text string) (string, error) {
	l := strings.ToLower(text)
	if !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
		return text, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, text, nil)
	if err != nil {
		return "", fmt.Errorf("QR code %q: %w", clip(text), err)
	}
	req.Header.Set("Accept", "application/json")
	c := *httpClient
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("follow the QR code's short link: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "ethereum:") {
		return "", fmt.Errorf("follow the QR code's short link %s: %s, Location %q: %s", text, resp.Status, clip(loc), clip(string(bytes.TrimSpace(body))))
	}
	return loc, nil
}

// verifiedDocument parses a document and checks its signature.
func verifiedDocument(body []byte) (*request.Document, error) {
	d, err := request.ParseDocument(body)
	if err != nil {
		return nil, fmt.Errorf("refusing to pay: %w", err)
	}
	if _, err := d.Verify(); err != nil {
		return nil, fmt.Errorf("refusing to pay: %w", err)
	}
	return d, nil
}

// uriMatches checks the QR code says what the signed document says: field
// by field for a readable message, then byte for byte.
func uriMatches(u *paymentURI, text string, d *request.Document) error {
	fail := func(what string, qr, doc any) error {
		return fmt.Errorf("refusing to pay: the QR code's %s is %v but the signed request says %v", what, qr, doc)
	}
	var token *common.Address
	if !d.Asset.Native() {
		t := d.Asset.Token
		token = &t
	}
	switch {
	case u.ChainID != d.ChainID:
		return fail("chain id", u.ChainID, d.ChainID)
	case (u.Token == nil) != (token == nil) || (token != nil && *u.Token != *token):
		return fail("asset", tokenName(u.Token), tokenName(token))
	case u.Merchant != d.Merchant:
		return fail("recipient", u.Merchant.Hex(), d.Merchant.Hex())
	case u.Amount.Cmp(d.Amount) != 0:
		return fail("amount", u.Amount, d.Amount)
	case u.RequestURL != d.RequestURL:
		return fail("request URL", u.RequestURL, d.RequestURL)
	case text != d.URI:
		return fail("URI", text, d.URI)
	}
	return nil
}

func tokenName(t *common.Address) string {
	if t == nil {
		return "the native coin"
	}
	return "token " + t.Hex()
}

// get fetches url, at most limit bytes, and wants 200.
func get(ctx context.Context, url string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, clip(string(bytes.TrimSpace(body))))
	}
	if int64(len(body)) >= limit {
		return nil, fmt.Errorf("GET %s: answer over %d bytes", url, limit-1)
	}
	return body, nil
}

// pickNonce decides the nonce: -nonce N, else the chain's pending nonce,
// else (chain unreachable) the local counter.
func pickNonce(ctx context.Context, o *options, chainID uint64, from common.Address, st payerState) (uint64, string, error) {
	if o.nonce != "auto" {
		n, _ := strconv.ParseUint(o.nonce, 10, 64) // checked by parseFlags
		return n, "-nonce", nil
	}
	n, err := chainNonce(ctx, o.rpc, chainID, from)
	if errors.Is(err, errWrongNetwork) {
		return 0, "", err
	}
	if err != nil {
		return st.NextNonce, fmt.Sprintf("chain unreachable (%v): local counter %s", err, statePath(o.stateDir, from)), nil
	}
	return n, "chain pending nonce", nil
}

var errWrongNetwork = errors.New("the -rpc chain is not the request's chain")

func chainNonce(ctx context.Context, rpc string, chainID uint64, from common.Address) (uint64, error) {
	if rpc == "" {
		return 0, errors.New("no -rpc")
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := ethclient.DialContext(ctx, rpc)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	id, err := c.ChainID(ctx)
	if err != nil {
		return 0, err
	}
	if !id.IsUint64() || id.Uint64() != chainID {
		return 0, fmt.Errorf("%w: %s is chain %s, the request is for %d", errWrongNetwork, rpc, id, chainID)
	}
	return c.PendingNonceAt(ctx, from)
}

// buildTx signs the payment, made wrong as o.wrong asks.
func buildTx(d *request.Document, o *options, from common.Address, nonce uint64) (*types.Transaction, error) {
	r := d.Request()
	po := paytx.Options{Type: o.txType, Nonce: nonce, FeeCap: o.feeCap, TipCap: o.tip}
	switch o.wrong {
	case "underpaid":
		po.Amount = new(big.Int).Sub(r.Amount, big.NewInt(1))
	case "overpaid":
		po.Amount = new(big.Int).Add(r.Amount, big.NewInt(1))
	case "wrong-chain":
		po.ChainID = new(big.Int).SetUint64(r.ChainID + 1)
	case "wrong-recipient":
		po.To = &from
	case "expired-fee":
		po.FeeCap, po.TipCap = new(big.Int), new(big.Int)
	}
	return paytx.Build(r, o.key, po)
}

// reusedTx is the last payment handed over, to be sent again for d.
func reusedTx(d *request.Document, st payerState) ([]byte, common.Hash, error) {
	if st.Last == nil {
		return nil, common.Hash{}, errors.New("-wrong reused: no earlier payment from this payer to send again; pay a request first")
	}
	if st.Last.RequestID == d.ID {
		return nil, common.Hash{}, fmt.Errorf("-wrong reused: the last payment already paid request %s (the terminal would answer it as a repeat); create a new request of the same amount", d.ID)
	}
	raw, err := hexutil.Decode(st.Last.RawTx)
	if err != nil {
		return nil, common.Hash{}, fmt.Errorf("-wrong reused: stored transaction: %w", err)
	}
	var tx types.Transaction
	if err := tx.UnmarshalBinary(raw); err != nil {
		return nil, common.Hash{}, fmt.Errorf("-wrong reused: stored transaction: %w", err)
	}
	// The terminal checks the terms before it looks the hash up: only a
	// request of the same terms draws tx_reused.
	if !paysTerms(&tx, d) {
		return nil, common.Hash{}, fmt.Errorf("-wrong reused: the last payment (request %s) does not pay %s to %s, so the terminal would refuse it for the amount or recipient before noticing the reuse; create a request of the same amount and asset", st.Last.RequestID, d.AmountDisplay+" "+d.Asset.Symbol, d.Merchant.Hex())
	}
	return raw, tx.Hash(), nil
}

// paysTerms reports whether tx pays d's amount of d's asset to d's merchant.
func paysTerms(tx *types.Transaction, d *request.Document) bool {
	if tx.To() == nil || tx.ChainId().Cmp(new(big.Int).SetUint64(d.ChainID)) != 0 {
		return false
	}
	if d.Asset.Native() {
		return *tx.To() == d.Merchant && tx.Value().Cmp(d.Amount) == 0 && len(tx.Data()) == 0
	}
	return *tx.To() == d.Asset.Token && tx.Value().Sign() == 0 && bytes.Equal(tx.Data(), paytx.TransferData(d.Merchant, d.Amount))
}
