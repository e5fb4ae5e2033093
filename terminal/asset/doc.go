// Package asset names what a payment is made in and converts amounts between
// the decimal strings people type and the exact base units the chain counts.
//
// An [Asset] is either the chain's native coin (ETH, with 18 decimals and the
// zero token address) or an ERC-20 token, named by its contract address and the
// number of decimals its decimals() function reports. A price of "12.50" TUSD
// with 6 decimals is 12500000 base units on chain; the terminal never holds an
// amount as a float64, because a float cannot represent 0.1 exactly and a
// payment terminal that is off by one base unit refuses an honest payer.
//
// [ParseAmount] reads what a cashier keys or an integrator sends:
//
//   - digits with at most one '.' as the decimal point: "12", "12.5",
//     "0.000001", and ".5" (a keypad user often starts with the point);
//   - leading zeros are harmless ("007.50" is 7.5);
//   - zeros past the asset's precision are accepted because they change
//     nothing ("1.500000000" for a 6-decimal token is exactly 1.5); a nonzero
//     digit past the precision is refused with [ErrPrecision], never rounded;
//   - refused with [ErrSyntax]: a trailing point ("5." looks like an entry cut
//     short before the cents, so the terminal asks rather than guesses),
//     exponents ("1e5"), thousands separators or a decimal comma ("1,5"),
//     spaces anywhere (trim before calling if your input has them), a plus
//     sign, several points, a lone ".", non-ASCII digits, and anything longer
//     than [MaxAmountLength] characters (checked before any big-number work);
//   - refused with [ErrEmpty], [ErrNegative] and [ErrOverflow] (more than
//     2^256-1 base units, the largest amount an EVM uint256 holds).
//
// Zero parses: whether zero is an acceptable price is the caller's rule.
//
// [FormatAmount] is the inverse: plain digits, a point only when there is a
// fraction, no trailing zeros and no exponent, so that
// ParseAmount(FormatAmount(u, d), d) == u for every u in range.
//
// Every refusal wraps one of the sentinel errors below, so callers can test
// with errors.Is, and carries a message a cashier or integrator can act on,
// for example:
//
//	parse amount "0.1234567": too many decimal places: 7 decimal places, at most 6
package asset
