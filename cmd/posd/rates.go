package main

import (
	"time"

	"showpos/sync/pricefeed"
	"showpos/terminal/fiat"
)

// tillRates is the till's Rates (checkout.Rates) over the price feeds: a
// feed's quote as the till takes it. A peg has no round time, so its rate
// is dated when it is quoted: the peg holds now.
type tillRates struct {
	r   *pricefeed.Rates
	now func() time.Time
}

func (t tillRates) Rate(symbol string) (fiat.Rate, error) {
	q, err := t.r.Latest(symbol)
	if err != nil {
		return fiat.Rate{}, err
	}
	at := q.UpdatedAt
	if q.Source == pricefeed.SourcePeg && at.IsZero() {
		at = t.now().UTC().Truncate(time.Second)
	}
	return fiat.Rate{Answer: q.Answer, Decimals: q.Decimals, Currency: q.Currency, Source: q.Source, At: at}, nil
}
