package request

import (
	"fmt"
	"math/big"
	"strconv"
	"time"

	"showpos/terminal/fiat"
)

// Fiat is what a request was priced at in the shop's currency: the amount
// keyed there, converted into the asset at Rate (fiat.ToBase, rounded up).
type Fiat struct {
	// Amount is the total the payer pays in minor units of Rate.Currency
	// (tip included), > 0.
	Amount *big.Int
	// Tip is the tip part of Amount in minor units; nil when no tip.
	Tip *big.Int
	// Rate is the rate Amount was converted at; its Currency is the
	// currency of Amount and Tip.
	Rate fiat.Rate
}

// MaxFiatSlack bounds how far above the converted fiat amount a request's
// amount may be, in base units (exclusive): the till adds up to 999 base
// units to make a pending amount unique (checkout.Tail), and nothing else.
const MaxFiatSlack = 1000

// priced reports whether r carries a tip or a fiat price, and so is signed
// with the priced schema (see types).
func (r *Request) priced() bool { return r.Tip != nil || r.Fiat != nil }

// validatePrice checks the tip and the fiat price: the tip (base units)
// above zero and below the amount; the fiat amount valid in its currency,
// its tip above zero and below it, and present exactly when the request
// has a tip; a valid rate in whole UTC seconds; and the asset amounts what
// the fiat ones convert to: Tip = ToBase(Fiat.Tip) exactly, Amount =
// ToBase(Fiat.Amount) plus less than MaxFiatSlack.
func (r *Request) validatePrice() error {
	if r.Tip != nil && (r.Tip.Sign() <= 0 || r.Tip.Cmp(r.Amount) >= 0) {
		return fmt.Errorf("%w: tip %s base units, want above zero and below the amount %s", ErrPrice, r.Tip, r.Amount)
	}
	f := r.Fiat
	if f == nil {
		return nil
	}
	if err := f.Rate.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrPrice, err)
	}
	if f.Rate.At.Location() != time.UTC || !f.Rate.At.Equal(f.Rate.At.Truncate(time.Second)) || f.Rate.At.Unix() < 0 || f.Rate.At.Unix() > maxUnixTime {
		return fmt.Errorf("%w: rate time %s is not a UTC time in whole seconds", ErrPrice, f.Rate.At)
	}
	c, _ := fiat.Lookup(f.Rate.Currency) // Validate: known
	if !c.Valid(f.Amount) {
		return fmt.Errorf("%w: fiat amount %s %s, want above zero and at most %d", ErrPrice, c.Format(f.Amount), c, fiat.MaxMajor)
	}
	if (f.Tip == nil) != (r.Tip == nil) {
		return fmt.Errorf("%w: a tip in %s but not in %s, or the other way round", ErrPrice, c, r.Asset.Symbol)
	}
	if f.Tip == nil {
		if base := fiat.ToBase(f.Amount, c, f.Rate, r.Asset.Decimals); !withinSlack(r.Amount, base) {
			return fmt.Errorf("%w: %s %s at %s is %s base units of %s, but the amount is %s", ErrPrice, c.Format(f.Amount), c, f.Rate.Price(), base, r.Asset.Symbol, r.Amount)
		}
		return nil
	}
	if f.Tip.Sign() <= 0 || f.Tip.Cmp(f.Amount) >= 0 {
		return fmt.Errorf("%w: fiat tip %s %s, want above zero and below the amount %s", ErrPrice, c.Format(f.Tip), c, c.Format(f.Amount))
	}
	if tip := fiat.ToBase(f.Tip, c, f.Rate, r.Asset.Decimals); tip.Cmp(r.Tip) != 0 {
		return fmt.Errorf("%w: a tip of %s %s at %s is %s base units, but the tip is %s", ErrPrice, c.Format(f.Tip), c, f.Rate.Price(), tip, r.Tip)
	}
	if base := fiat.ToBase(f.Amount, c, f.Rate, r.Asset.Decimals); !withinSlack(r.Amount, base) {
		return fmt.Errorf("%w: %s %s at %s is %s base units of %s, but the amount is %s", ErrPrice, c.Format(f.Amount), c, f.Rate.Price(), base, r.Asset.Symbol, r.Amount)
	}
	return nil
}

// withinSlack reports base ≤ amount < base + MaxFiatSlack.
func withinSlack(amount, base *big.Int) bool {
	d := new(big.Int).Sub(amount, base)
	return d.Sign() >= 0 && d.Cmp(big.NewInt(MaxFiatSlack)) < 0
}

// pricedFields are the fields the priced schema adds after expiresAt.
// With no fiat price the strings are empty and rateAt is 0; with no tip,
// tip is 0 and fiatTip empty.
var pricedFields = []struct{ Name, Type string }{
	{"tip", "uint256"},
	{"fiatCurrency", "string"},
	{"fiatAmount", "string"},
	{"fiatTip", "string"},
	{"rate", "string"},
	{"rateSource", "string"},
	{"rateAt", "uint64"},
}

// pricedMessage returns the values of pricedFields for r, as TypedData
// writes them.
func (r *Request) pricedMessage() map[string]string {
	m := map[string]string{"tip": "0", "fiatCurrency": "", "fiatAmount": "", "fiatTip": "", "rate": "", "rateSource": "", "rateAt": "0"}
	if r.Tip != nil {
		m["tip"] = r.Tip.String()
	}
	if f := r.Fiat; f != nil {
		c := fiat.Currency{Code: f.Rate.Currency}
		c, _ = fiat.Lookup(c.Code)
		m["fiatCurrency"] = c.Code
		m["fiatAmount"] = c.Format(f.Amount)
		if f.Tip != nil {
			m["fiatTip"] = c.Format(f.Tip)
		}
		m["rate"] = f.Rate.Price()
		m["rateSource"] = f.Rate.Source
		m["rateAt"] = strconv.FormatInt(f.Rate.At.Unix(), 10)
	}
	return m
}

func cloneFiat(f *Fiat) *Fiat {
	if f == nil {
		return nil
	}
	out := &Fiat{Amount: cloneInt(f.Amount), Tip: cloneInt(f.Tip), Rate: f.Rate}
	out.Rate.Answer = cloneInt(f.Rate.Answer)
	return out
}

func cloneInt(v *big.Int) *big.Int {
	if v == nil {
		return nil
	}
	return new(big.Int).Set(v)
}
