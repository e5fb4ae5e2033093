package fiat_test

import (
	"fmt"
	"math/big"

	"showpos/terminal/fiat"
)

// A cashier keys 4.50 EUR and the payer adds 15 %; ETH is at 2500.12345678
// EUR (a Chainlink answer of 8 decimals). The payer is asked the total in
// wei, rounded up.
func ExampleToBase() {
	eur, _ := fiat.Lookup("EUR")
	keyed, _ := eur.Parse("4.50")
	tip := fiat.Tip(keyed, 15)
	total := new(big.Int).Add(keyed, tip)
	rate := fiat.Rate{Answer: big.NewInt(250012345678), Decimals: 8, Currency: "EUR", Source: "peg"}
	fmt.Println(eur.Format(tip), eur.Format(total), rate.Price())
	fmt.Println(fiat.ToBase(total, eur, rate, 18), "wei")
	// Output:
	// 0.68 5.18 2500.12345678
	// 2071897684073374 wei
}
