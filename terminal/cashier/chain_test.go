package cashier_test

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/device"
	"showpos/terminal/checkout"
	"showpos/terminal/config/configtest"
	"showpos/terminal/request"
	"showpos/terminal/screen"
	"showpos/terminal/store"
)

// ledger is the chain watcher's Ledger over the shop's store, telling its
// cashier, as the daemon wires it.
func (s *shop) ledger() *checkout.Ledger {
	return checkout.NewLedger(checkout.LedgerOptions{Store: s.store.Chain(configtest.ChainID), Till: s.till,
		OnAccept: s.c.Accepted, OnUnmatched: s.c.Unmatched, OnSettle: s.c.Settled, OnRewind: s.c.Undone})
}

func (s *shop) onChain(l *checkout.Ledger, block uint64, amount *big.Int, tx byte) {
	s.t.Helper()
	tr := store.Transfer{Block: block, BlockHash: common.Hash{byte(block)}, BlockTime: time.Now(), TxHash: common.Hash{tx},
		From: common.Address{9}, Asset: "ETH", Amount: amount}
	if err := l.RecordRange(context.Background(), store.WatchCursor{Height: block}, []store.Transfer{tr}); err != nil {
		s.t.Fatal(err)
	}
}

// A wallet's own transfer of the request's amount shows SEEN at once and
// PAID once confirmed, without any handover.
func TestTransferSeenOnChainShowsSeenThenPaid(t *testing.T) {
	s := openShop(t)
	l := s.ledger()
	doc := s.charge("3")
	s.onChain(l, 5, doc.Amount, 0xaa)
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultSeen, Reason: "confirming…"}))
	if err := l.Settle(context.Background(), 5, 0); err != nil {
		t.Fatal(err)
	}
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultPaid}))
}

// A transfer of the wrong amount while the sale is on screen is said under
// it, and the sale stays open: the right amount then pays it.
func TestWrongAmountOnChainIsSaidUnderTheSale(t *testing.T) {
	s := openShop(t)
	l := s.ledger()
	doc := s.charge("0", ".", "0", "5")
	s.onChain(l, 5, big.NewInt(49_000_000_000_000_000), 0xbb)
	waitSignal(t, s.board, device.SignalAttention)
	s.waitRequest(doc, "0.05", "RECEIVED 0.049 ETH, NOT 0.05")
	s.onChain(l, 6, doc.Amount, 0xcc)
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultSeen, Reason: "confirming…"}))
}

// A second sale of the same amount while the first is pending carries a
// tail of 1 wei; the screen shows the amount as asked.
func TestTailedAmountShowsAsAsked(t *testing.T) {
	s := openShop(t)
	ctx := context.Background()
	if _, err := s.till.NewRequest(ctx, "0.05", "ETH", ""); err != nil {
		t.Fatal(err)
	}
	doc, err := s.till.NewRequest(ctx, "0.05", "ETH", "") // a cash register's: shown at once
	if err != nil || doc.Amount.String() != "50000000000000001" {
		t.Fatalf("second request of 0.05 ETH: %v, %v", doc.Amount, err)
	}
	s.waitRequest(doc, "0.05", "")
}

// waitRequest waits until the screen shows doc's request screen with the
// amount and note given (the countdown as the clock has it).
func (s *shop) waitRequest(doc *request.Document, amount, note string) {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := doc.ExpiresAt.Sub(time.Now()).Truncate(time.Second)
		want := s.screens.Request(screen.Request{URI: doc.URI, ShortURI: doc.Request().URI(""), Amount: amount, Asset: doc.Asset.Symbol,
			Remaining: left, Note: note})
		if screen.SamePicture(s.board.Screen(), want) {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the request screen never showed %s with note %q", amount, note)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
