package checkout_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/device/clock/clocktest"
	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/config"
	"showpos/terminal/config/configtest"
	"showpos/terminal/request"
	"showpos/terminal/store"
	"showpos/tools/paytx"
)

// putOldRequest stores a request exactly as builds before the compact form
// did: Sign, NewDocument, and the whole JSON document in Request.Doc.
func putOldRequest(t *testing.T, st *store.Store, cfg *config.Config, key *ecdsa.PrivateKey, now time.Time) *request.Document {
	t.Helper()
	a, _ := cfg.Asset("TUSD")
	units, err := asset.ParseAmount("4.20", a.Decimals)
	if err != nil {
		t.Fatal(err)
	}
	r, err := request.New(request.Params{
		TerminalID: cfg.Terminal.ID, Merchant: cfg.Merchant, ChainID: cfg.ChainID, Asset: a.Asset,
		Amount: units, Memo: "before the upgrade", Now: now, TTL: cfg.Terminal.RequestTTL,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := request.Sign(r, key)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := request.NewDocument(r, sig, cfg.Terminal.PublicURL+checkout.RequestPath+"?id="+r.ID, cfg.Terminal.PublicURL+checkout.BroadcastPath)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	err = st.PutRequest(context.Background(), store.Request{
		ID: r.ID, Asset: a.Symbol, Amount: units, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt,
		Status: store.RequestPending, Doc: raw,
	})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func jsonOf(t *testing.T, d *request.Document) []byte {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A terminal upgraded with requests pending keeps serving and taking payment
// for them (their store records hold the whole JSON document), and serves
// and takes payment for the requests it makes now (compact records) the
// same way, across a restart: the document served is byte for byte the one
// first served.
func TestStoredRequestsOfBothFormsAreServedAndPaid(t *testing.T) {
	st, path := openStore(t)
	now := clocktest.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	cfg := configtest.New(t, withToken)
	key, _ := crypto.GenerateKey()
	ctx := context.Background()

	old := putOldRequest(t, st, cfg, key, now.Now())
	before := checkout.New(checkout.Options{Config: cfg, Key: key, Store: st, Clock: now})
	fresh, err := before.NewRequest(ctx, "7", "TUSD", "after the upgrade")
	if err != nil {
		t.Fatal(err)
	}

	// What is on disk: the old record as it was, the new one compact.
	oldRec, err := st.Request(old.ID)
	if err != nil {
		t.Fatal(err)
	}
	freshRec, err := st.Request(fresh.ID)
	if err != nil {
		t.Fatal(err)
	}
	if oldRec.Doc[0] != '{' {
		t.Errorf("old record rewritten: starts %q", oldRec.Doc[:1])
	}
	if freshRec.Doc[0] != request.CompactVersion || len(freshRec.Doc) > 300 {
		t.Errorf("new record is %d bytes starting %#x, want the compact form (at most 300 bytes)", len(freshRec.Doc), freshRec.Doc[0])
	}
	t.Logf("stored document: %d bytes as JSON, %d compact", len(oldRec.Doc), len(freshRec.Doc))

	// Restart: the store reopened (and checked whole), a till with nothing
	// cached.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = store.Open(path, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	till := checkout.New(checkout.Options{Config: cfg, Key: key, Store: st, Clock: now})

	old.Status = string(store.RequestPending)
	payer, _ := crypto.GenerateKey()
	for i, first := range []*request.Document{old, fresh} {
		t.Run([]string{"JSON record", "compact record"}[i], func(t *testing.T) {
			served, err := till.Request(first.ID)
			if err != nil {
				t.Fatalf("Request: %v", err)
			}
			if got, want := jsonOf(t, served), jsonOf(t, first); !bytes.Equal(got, want) {
				t.Errorf("served after restart:\n%s\nfirst served:\n%s", got, want)
			}
			if signer, err := served.Verify(); err != nil || signer != till.Signer() {
				t.Errorf("served document verifies to %s, %v; want %s", signer.Hex(), err, till.Signer().Hex())
			}

			// The terms are read from the stored record: less is refused.
			short, _ := paytx.Build(served.Request(), payer, paytx.Options{Nonce: 10 + uint64(i), Amount: big.NewInt(1)})
			shortRaw, _ := short.MarshalBinary()
			if _, err := till.Pay(ctx, first.ID, shortRaw); !isRefusal(err, check.CodeUnderpaid) {
				t.Errorf("underpayment: err = %v, want refusal %s", err, check.CodeUnderpaid)
			}
			tx, err := paytx.Build(served.Request(), payer, paytx.Options{Nonce: uint64(i)})
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := tx.MarshalBinary()
			rec, err := till.Pay(ctx, first.ID, raw)
			if err != nil || rec.Repeat || rec.TxHash != tx.Hash() {
				t.Fatalf("Pay = %+v, %v", rec, err)
			}

			paid, err := till.Request(first.ID)
			if err != nil {
				t.Fatal(err)
			}
			if paid.Status != string(store.RequestPaid) || paid.PaidTx != tx.Hash().Hex() || paid.PaidState != string(store.PaymentQueued) {
				t.Errorf("after payment: status %q, paidTx %q (%q); want paid, %s (queued)", paid.Status, paid.PaidTx, paid.PaidState, tx.Hash().Hex())
			}
			want := *first
			want.Status, want.PaidTx, want.PaidState = paid.Status, paid.PaidTx, paid.PaidState
			if got, want := jsonOf(t, paid), jsonOf(t, &want); !bytes.Equal(got, want) {
				t.Errorf("paid document:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// A record whose document does not parse, or is another request's, is
// damage in the store (store.ErrCorrupt) for that one request: never a
// crash, never taken for the caller's mistake, and no payment is stored
// against it.
func TestUnreadableStoredRequest(t *testing.T) {
	st, _ := openStore(t)
	now := clocktest.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	till := newTill(t, withToken, st, now)
	ctx := context.Background()
	other, err := till.NewRequest(ctx, "0.01", "ETH", "")
	if err != nil {
		t.Fatal(err)
	}
	othersDoc, err := other.Compact()
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name string
		doc  []byte
	}{
		{"neither form", []byte{request.CompactVersion, 0x00, 0x01}},
		{"another request's document", othersDoc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("0123456789abcdef0123456789abcde%d", i)
			err := st.PutRequest(ctx, store.Request{
				ID: id, Asset: "ETH", Amount: big.NewInt(int64(1 + i)), CreatedAt: now.Now(), ExpiresAt: now.Now().Add(time.Minute),
				Status: store.RequestPending, Doc: tc.doc,
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := till.Request(id); !errors.Is(err, store.ErrCorrupt) {
				t.Errorf("Request = %v, want ErrCorrupt", err)
			}
			payer, _ := crypto.GenerateKey()
			r := &request.Request{ID: id, Merchant: common.HexToAddress("0x000000000000000000000000000000000000dEaD"), ChainID: 1337,
				Asset: asset.Asset{Symbol: "ETH", Decimals: 18}, Amount: big.NewInt(1)}
			tx, err := paytx.Build(r, payer, paytx.Options{})
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := tx.MarshalBinary()
			if _, err := till.Pay(ctx, id, raw); !errors.Is(err, store.ErrCorrupt) {
				t.Errorf("Pay = %v, want ErrCorrupt", err)
			}
			if _, err := st.Payment(tx.Hash()); !errors.Is(err, store.ErrUnknownPayment) {
				t.Errorf("payment for an unreadable request stored: %v", err)
			}
		})
	}
}

// A key whose public half is not its private key's would sign documents
// naming the wrong signer, which every payer then refuses: the till makes
// no request with it, and stores nothing.
func TestATillWithAMismatchedKeyMakesNoRequest(t *testing.T) {
	cfg := configtest.New(t, withToken)
	st, _ := openStore(t)
	key, _ := crypto.GenerateKey()
	other, _ := crypto.GenerateKey()
	mismatched := *key
	mismatched.PublicKey = other.PublicKey
	till := checkout.New(checkout.Options{Config: cfg, Key: &mismatched, Store: st})
	doc, err := till.NewRequest(context.Background(), "1", "", "")
	if !errors.Is(err, request.ErrKey) || doc != nil {
		t.Fatalf("NewRequest with a mismatched key = %v, %v; want ErrKey", doc, err)
	}
	if got := till.Signer(); got != (common.Address{}) {
		t.Errorf("Signer() = %s; want the zero address for a key that cannot sign", got.Hex())
	}
	if d, err := till.Request(""); err == nil {
		t.Errorf("a request %s is current after the refusal; want none", d.ID)
	}
}
