package cashier

import (
	"context"
	"errors"
	"math/big"
	"strings"

	"showpos/device"
	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/fiat"
	"showpos/terminal/locale"
	"showpos/terminal/screen"
)

// Keying in the shop's currency and tips. The amount screen takes the
// amount in the asset or, when the terminal has a shop currency
// (Options.Currency), in it: F3 switches between the two. A new amount
// starts in the currency when the asset has a rate, else in the asset
// ("no rate: key ETH"). With tips on (Options.Tips), OK on the amount
// shows the payer the tip screen: keys 1 to 3 choose a percentage, 0 no
// tip, Cancel goes back to the amount; the request is made from there.

// unit is what the amount is being keyed in: the currency's code or the
// asset's symbol.
func (c *Cashier) unit() string {
	if c.inFiat {
		return c.o.Currency.Code
	}
	return c.asset().Symbol
}

// hasRate reports whether an amount keyed in the shop's currency can be
// charged in the current asset now.
func (c *Cashier) hasRate() bool {
	if c.o.Currency.Code == "" {
		return false
	}
	_, err := c.o.Till.Quote("1", c.asset().Symbol)
	var r *check.Refusal
	return !(errors.As(err, &r) && (r.Code == checkout.CodeRateUnavailable || r.Code == checkout.CodeNoCurrency))
}

// startAmount begins keying a new amount: in the currency if it has a rate.
func (c *Cashier) startAmount() {
	c.mode = modeAmount
	c.inFiat = c.hasRate()
	c.entry = entry{decimals: c.entryDecimals()}
}

func (c *Cashier) entryDecimals() uint8 {
	if c.inFiat {
		return c.o.Currency.Minor
	}
	return c.asset().Decimals
}

// rekey keeps what of the entry fits the unit's decimals after the unit
// changed (asset or currency).
func (c *Cashier) rekey() {
	c.entry.decimals = c.entryDecimals()
	text := c.entry.text
	c.entry.text = ""
	for _, r := range text {
		c.entry.press(keyOf(r))
	}
}

// toggleFiat is F3 on the amount screen: key in the other unit. Without a
// rate the currency is refused (the terminal beeps).
func (c *Cashier) toggleFiat() {
	if c.o.Currency.Code == "" || (!c.inFiat && !c.hasRate()) {
		c.signal(device.SignalAttention)
		return
	}
	c.inFiat = !c.inFiat
	c.rekey()
}

// amountView is the amount screen: the entry, its unit, the quote line
// and the keys.
func (c *Cashier) amountView() screen.Amount {
	w := c.o.Locale
	hint := w.T(locale.HintCharge)
	if len(c.o.Assets) > 1 {
		hint += w.T(locale.HintAsset)
	}
	v := screen.Amount{Entry: w.Amount(c.entry.text), Asset: c.unit()}
	if c.o.Currency.Code != "" {
		other := c.o.Currency.Code
		if c.inFiat {
			other = c.asset().Symbol
		}
		hint += w.T(locale.HintOtherUnit, other)
		switch {
		case !c.hasRate():
			v.Quote = w.T(locale.NoRate, c.asset().Symbol)
		case c.inFiat && !c.entry.empty():
			if units, err := c.o.Till.Quote(c.entry.amount(), c.asset().Symbol); err == nil {
				v.Quote = "≈ " + w.Amount(approx(units, c.asset().Decimals)) + " " + c.asset().Symbol
			}
		}
	}
	v.Hint = hint
	return v
}

// approx writes base units for a glance, rounded down: four significant
// digits below 1 ("0.001799"), two decimals above ("5.5", "1234.56").
func approx(units *big.Int, decimals uint8) string {
	s := asset.FormatAmount(units, decimals)
	whole, frac, ok := strings.Cut(s, ".")
	if !ok {
		return s
	}
	keep := 2
	if whole == "0" {
		keep = len(frac) - len(strings.TrimLeft(frac, "0")) + 4
	}
	frac = strings.TrimRight(frac[:min(keep, len(frac))], "0")
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

// keyedTip returns percent % of the keyed amount as the tip screen shows
// it, in the unit keyed.
func (c *Cashier) keyedTip(percent uint) string {
	if c.inFiat {
		m, err := c.o.Currency.Parse(c.entry.amount())
		if err != nil {
			return "?"
		}
		return c.o.Locale.Amount(c.o.Currency.Format(fiat.Tip(m, percent)))
	}
	u, err := asset.ParseAmount(c.entry.amount(), c.asset().Decimals)
	if err != nil {
		return "?"
	}
	return c.o.Locale.Amount(asset.FormatAmount(fiat.Tip(u, percent), c.asset().Decimals))
}

// tipView is the tip screen for the keyed amount.
func (c *Cashier) tipView() screen.Tip {
	amount := c.entry.amount()
	if m, err := c.o.Currency.Parse(amount); c.inFiat && err == nil {
		amount = c.o.Currency.Format(m) // "4.50", as the currency writes it
	}
	v := screen.Tip{Amount: c.unit() + " " + c.o.Locale.Amount(amount), Hint: c.o.Locale.T(locale.HintTipBack)}
	for _, p := range c.o.Tips {
		v.Options = append(v.Options, screen.TipOption{Percent: p, Tip: c.keyedTip(p)})
	}
	return v
}

// tipKey handles a key on the tip screen.
func (c *Cashier) tipKey(ctx context.Context, k device.Key) {
	if k == device.KeyCancel {
		c.mode = modeAmount
		return
	}
	d, ok := k.Digit()
	switch {
	case ok && d == 0:
		c.makeRequest(ctx, 0)
	case ok && d >= 1 && d <= len(c.o.Tips):
		c.makeRequest(ctx, c.o.Tips[d-1])
	default:
		c.signal(device.SignalAttention)
	}
}

// charge is OK on the amount screen: the tip screen when tips are on,
// else the request.
func (c *Cashier) charge(ctx context.Context) {
	if c.entry.empty() {
		c.signal(device.SignalAttention)
		return
	}
	if len(c.o.Tips) > 0 {
		c.mode = modeTip
		return
	}
	c.makeRequest(ctx, 0)
}

// makeRequest asks the till for the request of the keyed amount and the
// tip (a percentage; 0 none), and shows it, or the refusal.
func (c *Cashier) makeRequest(ctx context.Context, tipPercent uint) {
	c.resultFor = "" // a refusal of this amount is about no request
	o := checkout.Order{Symbol: c.asset().Symbol, TipPercent: tipPercent}
	if c.inFiat {
		o.Fiat = c.entry.amount()
	} else {
		o.Amount = c.entry.amount()
	}
	doc, err := c.o.Till.Make(ctx, o)
	if err != nil {
		c.log.Info("request refused", "err", err)
		c.reject(shortReason(c.o.Locale, err))
		return
	}
	c.mode = modeRequest
	c.setRequest(doc)
}
