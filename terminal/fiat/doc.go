// Package fiat is money in the shop's currency: ISO 4217 currencies with
// their minor units, the amounts a cashier or an integrator keys in them
// ("4.50"), the exchange rate that turns them into an asset's base units,
// and tips.
//
// A [Rate] has the form a Chainlink price feed gives: the price of ONE
// whole unit of the asset in the currency is Answer / 10^Decimals (ETH/USD
// at 8 decimals: Answer 345678901234 is 3456.78901234 USD). Where it comes
// from (a feed, a peg) is the rate source's business; this package only
// does arithmetic on it, in math/big, never in floating point.
//
// # Rounding
//
// [ToBase] converts m minor units of currency c (c.Minor digits) into base
// units of an asset of d decimals at rate (A, r):
//
//	base = ceil( m × 10^d × 10^r / (A × 10^c.Minor) )
//
// The exact value is a rational number; ToBase rounds it up, so the payer
// pays at least the fiat amount at the stated rate (the merchant is never
// short) and at most one base unit more (less than one smallest unit of the
// asset). The property tests check both bounds on random inputs.
//
// [Tip] takes a percentage of a keyed amount in the same unit (minor units
// of the currency, or base units of the asset), rounded half up to that
// unit.
package fiat
