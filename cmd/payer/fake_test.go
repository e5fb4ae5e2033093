package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"image/png"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/asset"
	"showpos/terminal/request"
)

// fakeTerminal serves one signed request on the payer API paths and
// records what is posted to broadcastTx, answering 202. It is the terminal
// as the payer sees it, without the checks (those are terminal/check's).
type fakeTerminal struct {
	t      *testing.T
	srv    *httptest.Server
	key    *ecdsa.PrivateKey
	doc    *request.Document
	docRaw []byte
	// network and also, when set before sign, make the request one on
	// several networks (request.Params.Network and Also).
	network string
	also    []request.Option

	mu     sync.Mutex
	posted []postedTx
}

type postedTx struct {
	RequestID string
	Tx        *types.Transaction
}

func newFakeTerminal(t *testing.T, a asset.Asset, amount int64) *fakeTerminal {
	t.Helper()
	f := &fakeTerminal{t: t}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/showpos/getPaymentRequest", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(f.docRaw)
	})
	mux.HandleFunc("POST /api/showpos/broadcastTx", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ RequestID, RawTx string }
		json.NewDecoder(r.Body).Decode(&in)
		raw, err := hexutil.Decode(in.RawTx)
		var tx types.Transaction
		if err == nil {
			err = tx.UnmarshalBinary(raw)
		}
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"code":"invalid_tx","message":"no"}}`)
			return
		}
		f.mu.Lock()
		f.posted = append(f.posted, postedTx{in.RequestID, &tx})
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"requestId":"`+in.RequestID+`","txHash":"`+tx.Hash().Hex()+`","status":"queued"}`)
	})
	// The short link of any code, as the terminal answers an app.
	mux.HandleFunc("GET /R/{code}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", f.doc.URI)
		w.WriteHeader(http.StatusSeeOther)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	f.key = key
	f.sign(t, key, a, amount)
	return f
}

// sign makes and serves a new request signed with key.
func (f *fakeTerminal) sign(t *testing.T, key *ecdsa.PrivateKey, a asset.Asset, amount int64) {
	t.Helper()
	r, err := request.New(request.Params{
		TerminalID: "fake-till",
		Merchant:   common.HexToAddress(merchantHex),
		ChainID:    1337,
		Asset:      a,
		Amount:     big.NewInt(amount),
		Memo:       "two coffees",
		Network:    f.network,
		Also:       f.also,
		Now:        time.Now(),
		TTL:        time.Minute,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := request.Sign(r, key)
	if err != nil {
		t.Fatal(err)
	}
	base := f.srv.URL + "/api/showpos/"
	doc, err := request.NewDocument(r, sig, base+"getPaymentRequest?id="+r.ID, base+"broadcastTx")
	if err != nil {
		t.Fatal(err)
	}
	doc.Status = "pending"
	f.doc = doc
	if f.docRaw, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeTerminal) signer() string { return crypto.PubkeyToAddress(f.key.PublicKey).Hex() }

func (f *fakeTerminal) txs() []postedTx {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]postedTx(nil), f.posted...)
}

// qrFile writes the QR code of uri as a PNG and returns its path.
func qrFile(t *testing.T, uri string) string {
	t.Helper()
	img, err := request.QR(uri, 4)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runPayer runs the command in-process.
func runPayer(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	t.Logf("payer %s\n-> exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	return code, out.String(), errb.String()
}

// unreachable is an RPC address nothing listens on: the offline case.
const unreachable = "http://127.0.0.1:1"

var eth = asset.Asset{Symbol: "ETH", Decimals: 18}

// paysRequest reports whether tx pays doc exactly.
func paysRequest(tx *types.Transaction, doc *request.Document) bool { return paysTerms(tx, doc) }

func readFileT(t *testing.T, p string) ([]byte, error) { t.Helper(); return os.ReadFile(p) }
