package receipt_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/device"
	"showpos/device/clock/clocktest"
	"showpos/terminal/receipt"
	"showpos/terminal/request"
	"showpos/terminal/screen"
	"showpos/terminal/store"
)

var merchant = common.HexToAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")

const publicURL = "https://pos.example"

// till is a real store file with requests signed by the terminal key, and
// an Issuer over it.
type till struct {
	t     *testing.T
	path  string
	st    *store.Store
	key   *ecdsa.PrivateKey
	clock *clocktest.Fake
	iss   *receipt.Issuer
	n     byte
}

func openTill(t *testing.T) *till {
	t.Helper()
	tl := &till{t: t, path: filepath.Join(t.TempDir(), "showpos.db"), key: termKey(t), clock: clocktest.NewFake(t0)}
	tl.open()
	t.Cleanup(func() { tl.st.Close() })
	return tl
}

func (tl *till) open() {
	tl.t.Helper()
	var err error
	if tl.st, err = store.Open(tl.path, nil); err != nil {
		tl.t.Fatal(err)
	}
	tl.iss, err = receipt.NewIssuer(receipt.Options{Store: tl.st, Key: tl.key, Clock: tl.clock,
		Shop: func() receipt.Shop { return receipt.Shop{MerchantName: "Test Shop", PublicURL: publicURL} }})
	if err != nil {
		tl.t.Fatal(err)
	}
}

// request stores a signed request for amount TUSD base units, on chain
// 1337 alone.
func (tl *till) request(amount int64) *request.Document {
	tl.t.Helper()
	return tl.requestOn(amount, "", nil)
}

// requestOn stores a signed request for amount TUSD base units on chain
// 1337 (named network) and the also options.
func (tl *till) requestOn(amount int64, network string, also []request.Option) *request.Document {
	tl.t.Helper()
	tl.n++
	r, err := request.New(request.Params{TerminalID: "till-1", Merchant: merchant, ChainID: 1337, Network: network, Also: also, Asset: tusd,
		Amount: big.NewInt(amount), Memo: "table 4", Now: tl.clock.Now(), TTL: 5 * time.Minute}, bytes.NewReader(bytes.Repeat([]byte{tl.n}, 64)))
	if err != nil {
		tl.t.Fatal(err)
	}
	s, err := request.NewSigner(tl.key)
	if err != nil {
		tl.t.Fatal(err)
	}
	doc, err := s.Document(r, publicURL+"/api/showpos/getPaymentRequest?id="+r.ID, publicURL+"/api/showpos/broadcastTx")
	if err != nil {
		tl.t.Fatal(err)
	}
	raw, err := doc.Compact()
	if err != nil {
		tl.t.Fatal(err)
	}
	var chains []uint64
	if len(also) > 0 {
		for _, o := range r.Options() {
			chains = append(chains, o.ChainID)
		}
	}
	if err := tl.st.PutRequest(context.Background(), store.Request{ID: r.ID, Asset: tusd.Symbol, Amount: r.Amount,
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, Status: store.RequestPending, Doc: raw, Chains: chains}); err != nil {
		tl.t.Fatal(err)
	}
	return doc
}

func hash(b byte) common.Hash { return common.BytesToHash(bytes.Repeat([]byte{b}, 32)) }

var payer = common.HexToAddress("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC")

// handover stores a handed-over payment of doc, accepted a minute after it
// was made.
func (tl *till) handover(doc *request.Document, tx common.Hash) store.Payment {
	tl.t.Helper()
	p, _, err := tl.st.Accept(context.Background(), store.Payment{TxHash: tx, Source: store.SourceHandover, RequestID: doc.ID,
		From: payer, Nonce: uint64(tx[0]), Asset: tusd.Symbol, Amount: doc.Amount, Raw: []byte{0x02, tx[0]}, State: store.PaymentQueued, ChainID: 1337},
		t0.Add(time.Minute), nil)
	if err != nil {
		tl.t.Fatal(err)
	}
	return p
}

func (tl *till) setState(tx common.Hash, s store.PaymentState, reason string) {
	tl.t.Helper()
	if _, err := tl.st.SetPaymentState(context.Background(), tx, s, reason, t0.Add(2*time.Minute)); err != nil {
		tl.t.Fatal(err)
	}
}

// What a receipt served for a request says, by what the store holds.
func TestAReceiptSaysWhatTheStoreHolds(t *testing.T) {
	nonce := hash(0xa7)
	for _, tc := range []struct {
		name string
		make func(tl *till, doc *request.Document)
		want receipt.Receipt // only the fields below are compared
	}{
		{"a pending request is unpaid, dated when made", func(*till, *request.Document) {},
			receipt.Receipt{State: receipt.StateUnpaid, Reason: "pending", Time: t0, Amount: big.NewInt(4_500_000)}},
		{"an expired request is unpaid: expired", func(tl *till, _ *request.Document) { tl.clock.Advance(time.Hour) },
			receipt.Receipt{State: receipt.StateUnpaid, Reason: "expired", Time: t0, Amount: big.NewInt(4_500_000)}},
		{"a cancelled request is unpaid: cancelled", func(tl *till, doc *request.Document) {
			if _, err := tl.st.CancelRequest(context.Background(), doc.ID, t0); err != nil {
				t.Fatal(err)
			}
		}, receipt.Receipt{State: receipt.StateUnpaid, Reason: "cancelled", Time: t0, Amount: big.NewInt(4_500_000)}},
		{"a queued handover is accepted", func(tl *till, doc *request.Document) { tl.handover(doc, hash(1)) },
			receipt.Receipt{State: receipt.StateAccepted, Method: receipt.MethodHandover, TxHash: hash(1), From: payer, Time: t0.Add(time.Minute), Amount: big.NewInt(4_500_000)}},
		{"a broadcast handover is accepted", func(tl *till, doc *request.Document) {
			tl.handover(doc, hash(2))
			tl.setState(hash(2), store.PaymentBroadcast, "")
		}, receipt.Receipt{State: receipt.StateAccepted, Method: receipt.MethodHandover, TxHash: hash(2), From: payer, Time: t0.Add(time.Minute), Amount: big.NewInt(4_500_000)}},
		{"a confirmed handover is paid", func(tl *till, doc *request.Document) {
			tl.handover(doc, hash(3))
			tl.setState(hash(3), store.PaymentConfirmed, "")
		}, receipt.Receipt{State: receipt.StatePaid, Method: receipt.MethodHandover, TxHash: hash(3), From: payer, Time: t0.Add(time.Minute), Amount: big.NewInt(4_500_000)}},
		{"a handover failed after acceptance is rejected with its reason", func(tl *till, doc *request.Document) {
			tl.handover(doc, hash(4))
			tl.setState(hash(4), store.PaymentFailed, "conflict: nonce 4 used by another transaction")
		}, receipt.Receipt{State: receipt.StateRejected, Reason: "conflict: nonce 4 used by another transaction", Method: receipt.MethodHandover,
			TxHash: hash(4), From: payer, Time: t0.Add(time.Minute), Amount: big.NewInt(4_500_000)}},
		{"an authorization is named by payer and nonce", func(tl *till, doc *request.Document) {
			p := store.Payment{TxHash: hash(5), Source: store.SourceAuthorization, RequestID: doc.ID, From: payer, Asset: tusd.Symbol,
				Amount: doc.Amount, State: store.PaymentQueued, ChainID: 1337, Authorization: &store.Authorization{Token: tusd.Token, To: merchant,
					ValidAfter: big.NewInt(0), ValidBefore: big.NewInt(t0.Add(time.Hour).Unix()), Nonce: nonce}}
			p.Authorization.Signature[64] = 27
			if _, _, err := tl.st.AcceptAuthorization(context.Background(), p, t0.Add(time.Minute), store.Limits{}); err != nil {
				t.Fatal(err)
			}
		}, receipt.Receipt{State: receipt.StateAccepted, Method: receipt.MethodAuthorization, AuthNonce: nonce, From: payer,
			Time: t0.Add(time.Minute), Amount: big.NewInt(4_500_000)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := openTill(t)
			doc := tl.request(4_500_000)
			tc.make(tl, doc)
			s, err := tl.iss.Receipt(doc.ID)
			if err != nil {
				t.Fatal(err)
			}
			got, want := s.Receipt, tc.want
			if got.State != want.State || got.Reason != want.Reason || got.Method != want.Method || got.TxHash != want.TxHash ||
				got.From != want.From || got.AuthNonce != want.AuthNonce || !got.Time.Equal(want.Time) || got.Amount.Cmp(want.Amount) != 0 {
				t.Errorf("receipt %+v\nwant state %s reason %q method %q tx %s from %s nonce %s time %s amount %s", got,
					want.State, want.Reason, want.Method, want.TxHash.Hex(), want.From.Hex(), want.AuthNonce.Hex(), want.Time, want.Amount)
			}
			if got.RequestID != doc.ID || got.TerminalID != "till-1" || got.MerchantName != "Test Shop" || got.Merchant != merchant ||
				got.ChainID != 1337 || got.Asset != tusd || got.Memo != "table 4" || got.Link != publicURL+"/receipt/"+doc.ID {
				t.Errorf("receipt of %s says %+v", doc.ID, got)
			}
			if err := s.Verify(); err != nil || s.Signer != tl.iss.Signer() {
				t.Errorf("signature: %v, signer %s", err, s.Signer.Hex())
			}
		})
	}
}

// A request offered on two networks and paid on the second: its receipt
// names the chain and token the payment was made on, not the request's
// primary ones, and its signature verifies over them.
func TestAReceiptNamesTheNetworkThePaymentWasMadeOn(t *testing.T) {
	second := request.Option{Network: "arbitrum", ChainID: 42161, Token: common.HexToAddress("0xaf88d065e77c8cC2239327C5EDb3A432268e5831")}
	for _, tc := range []struct {
		name      string
		chain     uint64
		wantToken common.Address
		network   string
	}{
		{"paid on the primary network", 1337, tusd.Token, "dev"},
		{"paid on the second network", second.ChainID, second.Token, "arbitrum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := openTill(t)
			doc := tl.requestOn(3_000_000, "dev", []request.Option{second})
			tx := hash(0x31)
			if _, _, err := tl.st.Accept(context.Background(), store.Payment{TxHash: tx, Source: store.SourceHandover, RequestID: doc.ID,
				From: payer, Nonce: 7, Asset: tusd.Symbol, Amount: doc.Amount, Raw: []byte{0x02, 7}, State: store.PaymentQueued, ChainID: tc.chain},
				t0.Add(time.Minute), nil); err != nil {
				t.Fatal(err)
			}
			tl.setState(tx, store.PaymentConfirmed, "")
			s, err := tl.iss.Receipt(doc.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := tusd
			want.Token = tc.wantToken
			if got := s.Receipt; got.ChainID != tc.chain || got.Asset != want || got.Network != tc.network || got.State != receipt.StatePaid || got.TxHash != tx {
				t.Errorf("receipt says chain %d (%q) asset %+v state %s tx %s, want chain %d (%q) asset %+v paid %s",
					got.ChainID, got.Network, got.Asset, got.State, got.TxHash.Hex(), tc.chain, tc.network, want, tx.Hex())
			}
			if err := s.Verify(); err != nil || s.Signer != tl.iss.Signer() {
				t.Errorf("signature: %v, signer %s", err, s.Signer.Hex())
			}
			// What a payer's check reads back from the wire form.
			raw, err := s.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			back, err := receipt.ParseJSON(raw)
			if err != nil {
				t.Fatalf("wire form: %v", err)
			}
			if c := back.TypedData.Domain.ChainId; c == nil || (*big.Int)(c).Uint64() != tc.chain || back.TypedData.Message["token"] != tc.wantToken.Hex() {
				t.Errorf("wire form: chain %v token %v, want %d %s", c, back.TypedData.Message["token"], tc.chain, tc.wantToken.Hex())
			}
		})
	}
}

// Nothing is stored for receipts: the receipt rebuilt after a restart,
// from the same file, has the same signature.
func TestAReceiptRebuiltAfterARestartIsTheSame(t *testing.T) {
	tl := openTill(t)
	doc := tl.request(2_000_000)
	tl.handover(doc, hash(9))
	tl.setState(hash(9), store.PaymentConfirmed, "")
	first, err := tl.iss.Receipt(doc.ID)
	if err != nil {
		t.Fatal(err)
	}
	tl.st.Close()
	tl.open()
	again, err := tl.iss.Receipt(doc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Signature, again.Signature) {
		t.Errorf("signature after a restart %x, before %x", again.Signature, first.Signature)
	}
}

func TestUnknownRequestHasNoReceipt(t *testing.T) {
	tl := openTill(t)
	if _, err := tl.iss.Receipt("0123456789abcdef0123456789abcdef"); !errors.Is(err, store.ErrUnknownRequest) {
		t.Errorf("Receipt of an unknown id = %v, want store.ErrUnknownRequest", err)
	}
}

// The cashier's receipt: the store's state where a payment is stored, the
// reason the cashier saw for a refusal (which is not stored).
func TestForResult(t *testing.T) {
	tl := openTill(t)
	refused := tl.request(1_000_000)
	tl.clock.Advance(30 * time.Second)
	s, err := tl.iss.ForResult(refused.ID, receipt.StateFor(screen.ResultRejected), "underpaid")
	if err != nil {
		t.Fatal(err)
	}
	if s.State != receipt.StateRejected || s.Reason != "underpaid" || !s.Time.Equal(t0.Add(30*time.Second)) {
		t.Errorf("a refusal's receipt: %s %q at %s", s.State, s.Reason, s.Time)
	}
	if _, err := tl.iss.ForResult(refused.ID, receipt.StateFor(screen.ResultAccepted), ""); !errors.Is(err, receipt.ErrNoPayment) {
		t.Errorf("ACCEPTED with no payment stored: %v, want ErrNoPayment", err)
	}
	// Shown ACCEPTED offline, confirmed since: the receipt says PAID.
	paid := tl.request(3_000_000)
	tl.handover(paid, hash(7))
	tl.setState(hash(7), store.PaymentConfirmed, "")
	if s, err := tl.iss.ForResult(paid.ID, receipt.StateFor(screen.ResultAccepted), ""); err != nil || s.State != receipt.StatePaid {
		t.Errorf("shown ACCEPTED, confirmed since: %s, %v", s.State, err)
	}
}

func TestStateFor(t *testing.T) {
	for k, want := range map[screen.ResultKind]receipt.State{
		screen.ResultPaid: receipt.StatePaid, screen.ResultAccepted: receipt.StateAccepted,
		screen.ResultSeen: receipt.StateAccepted, screen.ResultRejected: receipt.StateRejected,
	} {
		if got := receipt.StateFor(k); got != want {
			t.Errorf("StateFor(%s) = %s, want %s", k, got, want)
		}
	}
}

// Printing hands the printer queue the laid-out receipt of the result.
func TestPrintingQueuesTheLaidOutReceipt(t *testing.T) {
	tl := openTill(t)
	doc := tl.request(1_500_000)
	tl.handover(doc, hash(8))
	var jobs []device.PrintJob
	p := &receipt.Printing{Issuer: tl.iss, Columns: func() int { return 32 }, Enqueue: func(j device.PrintJob) { jobs = append(jobs, j) }}
	p.Print(context.Background(), doc.ID, screen.ResultAccepted, "")
	p.Print(context.Background(), "0123456789abcdef0123456789abcdef", screen.ResultPaid, "") // unknown: logged, nothing queued
	if len(jobs) != 1 {
		t.Fatalf("%d jobs queued, want 1", len(jobs))
	}
	s, err := tl.iss.ForResult(doc.ID, receipt.StateAccepted, "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(jobs[0], receipt.Job(s, 32)) {
		t.Errorf("queued %+v", jobs[0])
	}
}
