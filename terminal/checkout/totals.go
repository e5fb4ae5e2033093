package checkout

import (
	"errors"
	"fmt"
	"math/big"
	"sort"
	"time"

	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/fiat"
	"showpos/terminal/request"
	"showpos/terminal/store"
)

// Totals sums the payments accepted in [From, To) per network and asset,
// and those of requests priced in a currency per currency.
type Totals struct {
	From   time.Time    `json:"from"`
	To     time.Time    `json:"to"`
	Assets []AssetTotal `json:"assets"` // by symbol, then network in config order
	// Fiat sums the taken payments (as in AssetTotal.Taken) of requests
	// keyed in a currency, at the amounts signed in them; by currency.
	Fiat []FiatTotal `json:"fiat,omitempty"`
}

// FiatTotal is one currency's sums of taken payments of requests priced
// in it: their fiat amounts (tips included) and, apart, their tips.
type FiatTotal struct {
	Currency string  `json:"currency"`
	Taken    FiatSum `json:"taken"`
	Tips     FiatSum `json:"tips"`
}

// FiatSum is a count and an amount in a currency ("12.40").
type FiatSum struct {
	Count  int    `json:"count"`
	Amount string `json:"amount"`
}

// AssetTotal is one asset's sums. Taken is every payment the terminal
// accepted and has not seen fail: Confirmed plus Pending (queued or
// broadcast, still to settle, or seen on chain and not yet confirmed).
// Failed payments are counted apart and are not in Taken. Unmatched is the
// money that reached the merchant on chain in the period (by block time)
// and paid no request: not a sale, never in Taken, for the operator to
// refund or settle by hand.
//
// One AssetTotal is one asset on one network: USDC taken on two networks
// is two of them. Network is the network's name in the config
// ("chain-<id>" for one no longer configured), ChainID its chain.
type AssetTotal struct {
	Asset     string `json:"asset"`
	Network   string `json:"network,omitempty"`
	ChainID   uint64 `json:"chainId,omitempty"`
	Decimals  uint8  `json:"decimals"`
	Taken     Sum    `json:"taken"`
	Confirmed Sum    `json:"confirmed"`
	Pending   Sum    `json:"pending"`
	Failed    Sum    `json:"failed"`
	Unmatched Sum    `json:"unmatched"`
	// Tips sums the tip parts of the Taken payments' requests (a tip is
	// inside its payment's amount, so it is in Taken too); nil when none
	// had a tip.
	Tips *Sum `json:"tips,omitempty"`
}

// Sum is a count of payments and their amount, in base units and for
// display in the asset's unit.
type Sum struct {
	Count         int    `json:"count"`
	Amount        string `json:"amount"`
	AmountDisplay string `json:"amountDisplay"`
}

// Day returns the bounds of the calendar day of t in t's location: from its
// first instant to the next day's. Both ends come from the calendar date,
// so consecutive days meet exactly even where a daylight-saving change
// skips or repeats midnight.
func Day(t time.Time) (from, to time.Time) {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location()), time.Date(y, m, d+1, 0, 0, 0, 0, t.Location())
}

// totalsPage is how many payments one store read returns while summing.
const totalsPage = 500

// Totals sums the payments accepted from from (inclusive) to to
// (exclusive), per network and asset. A payment stored before payments
// carried their chain counts on the default network.
func (s *Service) Totals(from, to time.Time) (Totals, error) {
	type sum struct {
		n      int
		amount big.Int
	}
	type acc struct {
		decimals                                           uint8
		taken, confirmed, pending, failed, unmatched, tips sum
	}
	type fiatAcc struct {
		c           fiat.Currency
		taken, tips sum
	}
	byCurrency := map[string]*fiatAcc{}
	add := func(s *sum, v *big.Int) { s.n++; s.amount.Add(&s.amount, v) }
	cfg := s.Config()
	type key struct {
		chainID uint64
		symbol  string
	}
	byAsset := map[key]*acc{}
	accOf := func(p store.Payment) *acc {
		k := key{chainOf(cfg, p), p.Asset}
		a := byAsset[k]
		if a == nil {
			a = &acc{decimals: s.decimals(cfg, p)}
			byAsset[k] = a
		}
		return a
	}
	var after uint64
	for {
		ps, err := s.store.Payments(store.PaymentFilter{Since: from, Until: to, AfterSeq: after, Limit: totalsPage})
		if err != nil {
			return Totals{}, fmt.Errorf("totals: %w", err)
		}
		for _, p := range ps {
			after = p.Seq
			a := accOf(p)
			switch p.State {
			case store.PaymentFailed:
				add(&a.failed, p.Amount)
				continue
			case store.PaymentConfirmed, store.PaymentFinal:
				// Final is confirmed money whose block is final.
				add(&a.confirmed, p.Amount)
			default:
				add(&a.pending, p.Amount)
			}
			add(&a.taken, p.Amount)
			if p.RequestID == "" {
				continue
			}
			tip, price, err := s.requestPrice(p.RequestID)
			if err != nil {
				return Totals{}, fmt.Errorf("totals: %w", err)
			}
			if tip != nil {
				add(&a.tips, tip)
			}
			if price != nil {
				f := byCurrency[price.Rate.Currency]
				if f == nil {
					c, _ := fiat.Lookup(price.Rate.Currency)
					f = &fiatAcc{c: c}
					byCurrency[price.Rate.Currency] = f
				}
				add(&f.taken, price.Amount)
				if price.Tip != nil {
					add(&f.tips, price.Tip)
				}
			}
		}
		if len(ps) < totalsPage {
			break
		}
	}
	after = 0
	for {
		ps, err := s.store.Payments(store.PaymentFilter{State: store.PaymentUnmatched, Since: from, Until: to, AfterSeq: after, Limit: totalsPage})
		if err != nil {
			return Totals{}, fmt.Errorf("totals: %w", err)
		}
		for _, p := range ps {
			after = p.Seq
			a := accOf(p)
			add(&a.unmatched, p.Amount)
		}
		if len(ps) < totalsPage {
			break
		}
	}
	out := Totals{From: from, To: to, Assets: []AssetTotal{}}
	for code, f := range byCurrency {
		view := func(s *sum) FiatSum { return FiatSum{Count: s.n, Amount: f.c.Format(&s.amount)} }
		out.Fiat = append(out.Fiat, FiatTotal{Currency: code, Taken: view(&f.taken), Tips: view(&f.tips)})
	}
	sort.Slice(out.Fiat, func(i, j int) bool { return out.Fiat[i].Currency < out.Fiat[j].Currency })
	for k, a := range byAsset {
		view := func(s *sum) Sum {
			return Sum{Count: s.n, Amount: s.amount.String(), AmountDisplay: asset.FormatAmount(&s.amount, a.decimals)}
		}
		at := AssetTotal{Asset: k.symbol, Network: networkName(cfg, k.chainID), ChainID: k.chainID, Decimals: a.decimals, Taken: view(&a.taken),
			Confirmed: view(&a.confirmed), Pending: view(&a.pending), Failed: view(&a.failed), Unmatched: view(&a.unmatched)}
		if a.tips.n > 0 {
			tips := view(&a.tips)
			at.Tips = &tips
		}
		out.Assets = append(out.Assets, at)
	}
	order := func(chainID uint64) int {
		for i, n := range cfg.Networks {
			if n.ChainID == chainID {
				return i
			}
		}
		return len(cfg.Networks)
	}
	sort.Slice(out.Assets, func(i, j int) bool {
		x, y := out.Assets[i], out.Assets[j]
		if x.Asset != y.Asset {
			return x.Asset < y.Asset
		}
		if ox, oy := order(x.ChainID), order(y.ChainID); ox != oy {
			return ox < oy
		}
		return x.ChainID < y.ChainID
	})
	return out, nil
}

// requestPrice returns the tip (base units) and fiat price of the request
// a payment paid, nil for none, from the parsed-request cache or the store.
func (s *Service) requestPrice(id string) (*big.Int, *request.Fiat, error) {
	r, err := s.lookup(id)
	if err != nil {
		var refusal *check.Refusal
		if errors.As(err, &refusal) && refusal.Code == check.CodeUnknownRequest {
			return nil, nil, nil // its asset no longer taken: no price to count
		}
		return nil, nil, err
	}
	return r.Tip, r.Fiat, nil
}
