package checkout

import (
	"fmt"
	"math/big"

	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/config"
	"showpos/terminal/fiat"
	"showpos/terminal/request"
)

// Rates is where the till gets the current rate of an asset in the shop's
// currency (terminal.currency). An error (no rate known, the last one
// older than the asset's max_rate_age) means amounts cannot be keyed in
// the currency now: the till refuses them with rate_unavailable and amounts
// keyed in the asset work as ever.
type Rates interface {
	// Rate returns the price of one whole unit of the asset with this
	// symbol in the shop's currency.
	Rate(symbol string) (fiat.Rate, error)
}

// Order is what a new request is made from: an amount keyed in the asset
// (Amount) or in the shop's currency (Fiat), and optionally a tip, as an
// amount in the same unit (Tip) or a percentage of the keyed amount
// (TipPercent, 1..100, rounded half up to that unit's smallest digit).
type Order struct {
	Symbol     string // the asset; "" means the default (the first configured)
	Amount     string // in the asset's unit, e.g. "0.0013"; or
	Fiat       string // in terminal.currency, e.g. "4.50"
	Tip        string // in the unit keyed; or
	TipPercent uint
	Memo       string
}

// priced is an order turned into what the request asks: base units in
// total (tip included), the tip part, and the fiat price if keyed in fiat.
type priced struct {
	units, tip *big.Int
	fiat       *request.Fiat
	keyed      string // what was keyed, for the log: "4.50 EUR"
}

// price works out what o asks in asset a. Every refusal is a
// *check.Refusal of a stable code (invalid_fiat, no_currency,
// rate_unavailable, invalid_tip) or an asset amount error (invalid_amount).
func (s *Service) price(cfg *config.Config, a config.Asset, o Order) (priced, error) {
	if o.Tip != "" && o.TipPercent != 0 {
		return priced{}, check.Refuse(CodeInvalidTip, "give a tip as an amount or as a percentage, not both")
	}
	if o.TipPercent > fiat.MaxTipPercent {
		return priced{}, check.Refuse(CodeInvalidTip, "a tip of %d%% is above %d%%", o.TipPercent, fiat.MaxTipPercent)
	}
	if o.Fiat == "" {
		units, err := asset.ParseAmount(o.Amount, a.Decimals)
		if err != nil {
			return priced{}, fmt.Errorf("amount %q: %w", o.Amount, err)
		}
		tip, err := tipOf(units, o, func(s string) (*big.Int, error) { return asset.ParseAmount(s, a.Decimals) })
		if err != nil {
			return priced{}, err
		}
		p := priced{units: units, keyed: asset.FormatAmount(units, a.Decimals) + " " + a.Symbol}
		if tip != nil {
			p.tip, p.units = tip, new(big.Int).Add(units, tip)
		}
		return p, nil
	}
	if o.Amount != "" {
		return priced{}, check.Refuse(CodeInvalidFiat, "key the amount in %s or in the shop's currency, not both", a.Symbol)
	}
	if cfg.Terminal.Currency == "" {
		return priced{}, check.Refuse(CodeNoCurrency, "this terminal has no shop currency (terminal.currency); key the amount in %s", a.Symbol)
	}
	c, err := fiat.Lookup(cfg.Terminal.Currency)
	if err != nil {
		return priced{}, check.Refuse(CodeNoCurrency, "terminal.currency: %v", err)
	}
	minor, err := c.Parse(o.Fiat)
	if err != nil {
		return priced{}, &check.Refusal{Code: CodeInvalidFiat, Msg: err.Error(), Err: err}
	}
	tip, err := tipOf(minor, o, c.Parse)
	if err != nil {
		return priced{}, err
	}
	rate, err := s.rate(a.Symbol, c)
	if err != nil {
		return priced{}, err
	}
	total := minor
	if tip != nil {
		total = new(big.Int).Add(minor, tip)
	}
	p := priced{
		units: fiat.ToBase(total, c, rate, a.Decimals),
		fiat:  &request.Fiat{Amount: total, Tip: tip, Rate: rate},
		keyed: c.Format(minor) + " " + c.Code,
	}
	if !c.Valid(total) {
		return priced{}, check.Refuse(CodeInvalidFiat, "%s %s with the tip is above %d %s", c.Format(total), c, fiat.MaxMajor, c)
	}
	if p.units.BitLen() > 256 {
		return priced{}, check.Refuse(CodeInvalidFiat, "%s %s is more %s than a uint256 holds", c.Format(total), c, a.Symbol)
	}
	if tip != nil {
		p.tip = fiat.ToBase(tip, c, rate, a.Decimals)
		if p.tip.Cmp(p.units) >= 0 {
			// Only for an asset so coarse that tip and total round up to
			// the same base units.
			return priced{}, check.Refuse(CodeInvalidTip, "a tip of %s %s is not less than the whole in %s at this rate", c.Format(tip), c, a.Symbol)
		}
	}
	return p, nil
}

// tipOf returns o's tip on amount (in amount's unit, parsed by parse), or
// nil for none (a percentage that rounds to nothing is none).
func tipOf(amount *big.Int, o Order, parse func(string) (*big.Int, error)) (*big.Int, error) {
	var tip *big.Int
	switch {
	case o.Tip != "":
		t, err := parse(o.Tip)
		if err != nil {
			return nil, &check.Refusal{Code: CodeInvalidTip, Msg: "tip: " + err.Error(), Err: err}
		}
		tip = t
	case o.TipPercent != 0:
		tip = fiat.Tip(amount, o.TipPercent)
	}
	if tip == nil || tip.Sign() == 0 {
		return nil, nil
	}
	return tip, nil
}

// rate asks Rates for the asset's rate in c and checks it is one.
func (s *Service) rate(symbol string, c fiat.Currency) (fiat.Rate, error) {
	if s.rates == nil {
		return fiat.Rate{}, check.Refuse(CodeRateUnavailable, "no rate source for %s in %s; key the amount in %s", symbol, c, symbol)
	}
	r, err := s.rates.Rate(symbol)
	if err != nil {
		return fiat.Rate{}, &check.Refusal{Code: CodeRateUnavailable, Msg: fmt.Sprintf("no current rate of %s in %s (%v); key the amount in %s", symbol, c, err, symbol), Err: err}
	}
	if r.Currency != c.Code {
		return fiat.Rate{}, check.Refuse(CodeRateUnavailable, "the rate of %s is in %s, not %s; key the amount in %s", symbol, r.Currency, c, symbol)
	}
	if err := r.Validate(); err != nil {
		return fiat.Rate{}, &check.Refusal{Code: CodeRateUnavailable, Msg: fmt.Sprintf("the rate of %s is unusable (%v); key the amount in %s", symbol, err, symbol), Err: err}
	}
	if r.At.Unix() <= 0 || r.At.Unix() > 253402300799 {
		// Signed as Unix seconds: a rate must say when it was true.
		return fiat.Rate{}, check.Refuse(CodeRateUnavailable, "the rate of %s has no time; key the amount in %s", symbol, symbol)
	}
	return r, nil
}

// Quote is what an amount keyed in the shop's currency comes to in an
// asset now, for a screen to show before the request is made ("EUR 4.50 ≈
// 0.0013 ETH"): the base units ToBase gives, or the refusal Make would
// give (no_currency, invalid_fiat, rate_unavailable).
func (s *Service) Quote(fiatAmount, symbol string) (*big.Int, error) {
	cfg := s.Config()
	if symbol == "" {
		symbol = cfg.Assets[0].Symbol
	}
	// The asset as the first network taking it has it: Make's primary.
	offers := cfg.Offers(symbol)
	if len(offers) == 0 {
		return nil, fmt.Errorf("quote: %w %q", ErrUnknownAsset, symbol)
	}
	p, err := s.price(cfg, offers[0].Asset, Order{Fiat: fiatAmount})
	if err != nil {
		return nil, err
	}
	return p.units, nil
}

// Currency is the shop's currency (terminal.currency), or ok false when
// the terminal has none.
func (s *Service) Currency() (c fiat.Currency, ok bool) {
	c, err := fiat.Lookup(s.Config().Terminal.Currency)
	return c, err == nil
}
