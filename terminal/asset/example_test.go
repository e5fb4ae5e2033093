package asset_test

import (
	"errors"
	"fmt"

	"showpos/terminal/asset"
)

func Example() {
	tusd := asset.Asset{Symbol: "TUSD", Decimals: 6}

	units, err := asset.ParseAmount("12.50", tusd.Decimals)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(units, "base units")
	fmt.Println(asset.FormatAmount(units, tusd.Decimals), tusd.Symbol)

	_, err = asset.ParseAmount("0.1234567", tusd.Decimals)
	fmt.Println(errors.Is(err, asset.ErrPrecision), err)
	// Output:
	// 12500000 base units
	// 12.5 TUSD
	// true parse amount "0.1234567": too many decimal places: 7 decimal places, at most 6
}
