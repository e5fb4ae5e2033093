package pricefeed_test

import (
	"errors"
	"fmt"
	"math/big"

	"showpos/sync/pricefeed"
)

// A pegged asset always has its rate; an asset without a source has none,
// and the till then takes amounts in the asset only.
func Example() {
	rates, err := pricefeed.New(pricefeed.Options{Sources: []pricefeed.Source{
		{Symbol: "USDC", Currency: "USD", PegAnswer: big.NewInt(1)},
	}})
	if err != nil {
		panic(err)
	}
	q, err := rates.Latest("USDC")
	fmt.Println(q.Answer, q.Decimals, q.Source, err)
	_, err = rates.Latest("ETH")
	fmt.Println(errors.Is(err, pricefeed.ErrNoSource), err)
	// Output:
	// 1 0 peg <nil>
	// true ETH: no exchange rate source
}
