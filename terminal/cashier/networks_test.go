package cashier_test

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/device/clock/clocktest"
	"showpos/terminal/cashier"
	"showpos/terminal/checkout"
	"showpos/terminal/nfcpay"
	"showpos/terminal/request"
	"showpos/terminal/screen"
	"showpos/tools/qrread"
)

// arbitrum is the second network of the requests twoNetworks makes: USDC's
// contract on Arbitrum One.
var arbitrum = request.Option{Network: "arbitrum", ChainID: 42161, Token: common.HexToAddress("0xaf88d065e77c8cC2239327C5EDb3A432268e5831")}

// withOffers is doc as a till on two networks serves it: its primary
// offer (named base, its own chain and URI) and arbitrum's, each with its
// EIP-681 URI. Until the till fills Offers (issue 18's checkout work),
// twoNetworks adds them by hand, as the request package builds them.
func withOffers(doc *request.Document) *request.Document {
	d := *doc
	r := *doc.Request()
	r.ChainID, r.Asset.Token = arbitrum.ChainID, arbitrum.Token
	d.Offers = []request.Offer{
		{Option: request.Option{Network: "base", ChainID: doc.ChainID, Token: doc.Asset.Token}, URI: doc.URI},
		{Option: arbitrum, URI: r.URI(doc.RequestURL)},
	}
	return &d
}

// twoNetworks is the real till whose requests offer two networks
// (withOffers).
type twoNetworks struct{ cashier.Till }

func (t twoNetworks) Make(ctx context.Context, o checkout.Order) (*request.Document, error) {
	d, err := t.Till.Make(ctx, o)
	if err != nil {
		return nil, err
	}
	return withOffers(d), nil
}

// oneOffer is the real till whose requests list their one network as an
// offer: a terminal with one network configured as [[networks]].
type oneOffer struct{ cashier.Till }

func (t oneOffer) Make(ctx context.Context, o checkout.Order) (*request.Document, error) {
	d, err := t.Till.Make(ctx, o)
	if err != nil {
		return nil, err
	}
	w := withOffers(d)
	w.Offers = w.Offers[:1]
	return w, nil
}

// requestView is the request screen of doc as the cashier draws it at
// clk's time, in English.
func requestView(doc *request.Document, now time.Time) screen.Request {
	return screen.Request{URI: doc.URI, ShortURI: checkout.ShortLink(doc),
		Amount: checkout.ShownAmount(doc.Amount, doc.Asset.Decimals), Asset: doc.Asset.Symbol,
		Remaining: doc.ExpiresAt.Sub(now).Truncate(time.Second)}
}

// On a request payable on two networks the screen shows the primary's QR
// code named "base 1/2"; F4 shows arbitrum's (its own EIP-681 URI, read
// back by a QR decoder), F4 again base's; Cancel still cancels.
func TestF4ShowsEachNetworksQRCodeInTurn(t *testing.T) {
	clk := clocktest.NewFake(time.Now())
	s := openShopWith(t, func(o *cashier.Options) { o.Till, o.Clock = twoNetworks{o.Till}, clk })
	s.press("2", "F1") // TUSD: a token, whose contract differs per network
	doc := withOffers(s.charge())
	base, arb := requestView(doc, clk.Now()), requestView(doc, clk.Now())
	base.Network, base.Offer, base.Offers = "base", 1, 2
	arb.URI, arb.Network, arb.Offer, arb.Offers = doc.Offers[1].URI, "arbitrum", 2, 2
	s.waitScreen(s.screens.Request(base))

	for _, step := range []struct {
		view screen.Request
		uri  string
	}{
		{arb, doc.Offers[1].URI},
		{base, doc.URI},
		{arb, doc.Offers[1].URI},
	} {
		s.press("F4")
		s.waitScreen(s.screens.Request(step.view))
		if got, err := qrread.Read(s.board.Screen()); err != nil || got != step.uri {
			t.Fatalf("after F4 the QR code reads %q (%v), want %s's URI %q", got, err, step.view.Network, step.uri)
		}
	}
	s.press("cancel")
	s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop"}))
	if d, _ := s.till.Request(doc.ID); d.Status != "cancelled" {
		t.Errorf("request %s after Cancel, want cancelled", d.Status)
	}
}

// A request on one network, whether it lists no offers (today's) or one,
// looks as it always did, and F4 changes nothing.
func TestOneNetworkRequestIgnoresF4(t *testing.T) {
	for _, tc := range []struct {
		name string
		till func(cashier.Till) cashier.Till
	}{
		{"no offers", func(t cashier.Till) cashier.Till { return t }},
		{"one offer", func(t cashier.Till) cashier.Till { return oneOffer{t} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktest.NewFake(time.Now())
			s := openShopWith(t, func(o *cashier.Options) { o.Till, o.Clock = tc.till(o.Till), clk })
			doc := s.charge("3")
			want := s.screens.Request(requestView(doc, clk.Now()))
			s.waitScreen(want)
			s.press("F4", "1")
			time.Sleep(50 * time.Millisecond) // nothing to wait for: the keys change nothing
			s.waitScreen(want)
		})
	}
}

// The idle screen and the menu's queue page say which network is offline
// when another is online; with all offline, or one network, OFFLINE says
// it, as before.
func TestIdleNamesTheOfflineNetworks(t *testing.T) {
	var states atomic.Pointer[[]cashier.NetworkState]
	s := openShopWith(t, func(o *cashier.Options) {
		o.Networks = func() []cashier.NetworkState {
			if p := states.Load(); p != nil {
				return *p
			}
			return nil
		}
	})
	for _, tc := range []struct {
		name    string
		states  []cashier.NetworkState
		online  bool
		offline []string
		queue   string // the queue page's first line
	}{
		{"both online", []cashier.NetworkState{{"base", true}, {"arbitrum", true}}, true, nil, "ONLINE"},
		{"arbitrum offline", []cashier.NetworkState{{"base", true}, {"arbitrum", false}}, true, []string{"arbitrum"}, "OFFLINE: arbitrum"},
		{"base offline", []cashier.NetworkState{{"base", false}, {"arbitrum", true}}, true, []string{"base"}, "OFFLINE: base"},
		{"two of three offline", []cashier.NetworkState{{"base", false}, {"arbitrum", true}, {"optimism", false}}, true, []string{"base", "optimism"}, "OFFLINE: base, optimism"},
		{"both offline", []cashier.NetworkState{{"base", false}, {"arbitrum", false}}, false, nil, "OFFLINE"},
		{"one network offline", []cashier.NetworkState{{"base", false}}, false, nil, "OFFLINE"},
		{"one network online", []cashier.NetworkState{{"base", true}}, true, nil, "ONLINE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			states.Store(&tc.states)
			s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop", Online: tc.online, Offline: tc.offline}))
			s.press("F2", "F2", "F2") // the queue page
			s.waitScreen(s.screens.Menu(screen.Menu{Title: "QUEUE", Hint: "F4 sync now  CANCEL back",
				Lines: []string{tc.queue, "0 waiting to settle"}}))
			s.press("enter")
		})
	}
}

// The NFC tag of a request on two networks holds the request's link
// first (a phone opens it: the payer page, which offers both), then each
// network's EIP-681 URI, the primary first, for an app that reads the
// tag's records; F4 changes the QR code, not the tag. A terminal whose
// one network is listed as an offer keeps the link alone, as ever.
func TestTheTagOfARequestOnTwoNetworksHoldsItsLinkThenEachNetworksURI(t *testing.T) {
	for _, tc := range []struct {
		name string
		till func(cashier.Till) cashier.Till
		uris func(doc *request.Document) []string
	}{
		{"two networks", func(t cashier.Till) cashier.Till { return twoNetworks{t} },
			func(doc *request.Document) []string { return []string{doc.Offers[0].URI, doc.Offers[1].URI} }},
		{"one network listed as an offer", func(t cashier.Till) cashier.Till { return oneOffer{t} },
			func(*request.Document) []string { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag := &recordingTag{msgs: make(chan []byte, 64)}
			s := openShopWith(t, func(o *cashier.Options) {
				o.Till = tc.till(o.Till)
				o.NFCTag = tag
				o.NFCTiming = nfcpay.Timing{Reader: 20 * time.Millisecond, Tag: 20 * time.Millisecond}
			})
			s.press("2", "F1")
			doc := withOffers(s.charge())
			want, held, err := nfcpay.TagMessage(doc.RequestURL, tc.uris(doc))
			if err != nil || held != len(tc.uris(doc)) {
				t.Fatalf("TagMessage holds %d URIs, %v", held, err)
			}
			presses := []bool{false}
			if tc.uris(doc) != nil {
				presses = append(presses, true)
			}
			for i, press := range presses {
				if press {
					s.press("F4")
					s.waitQR(&request.Document{URI: doc.Offers[1].URI})
				}
				// Drain what was presented before; the next presentation is of
				// the request as it stands.
				for len(tag.msgs) > 0 {
					<-tag.msgs
				}
				select {
				case got := <-tag.msgs:
					if !bytes.Equal(got, want) {
						t.Errorf("presentation %d: the tag holds % X, want the request's link %s then the URIs %q", i, got, doc.RequestURL, tc.uris(doc))
					}
				case <-time.After(5 * time.Second):
					t.Fatal("the tag never held the request")
				}
			}
		})
	}
}
