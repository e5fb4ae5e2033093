package asset

import "errors"

// Sentinel errors. Functions wrap them with the input and a hint, so test
// with errors.Is and show err.Error() to people.
var (
	// ErrEmpty: no amount was given.
	ErrEmpty = errors.New("empty amount")
	// ErrNegative: the amount has a minus sign.
	ErrNegative = errors.New("negative amount")
	// ErrSyntax: the input is not a plain decimal number.
	ErrSyntax = errors.New("not a plain decimal number")
	// ErrPrecision: the amount has nonzero digits past the asset's decimals.
	ErrPrecision = errors.New("too many decimal places")
	// ErrOverflow: the amount is more than 2^256-1 base units.
	ErrOverflow = errors.New("amount too large")
	// ErrAsset: an Asset is not fit to show or sign.
	ErrAsset = errors.New("invalid asset")
)
