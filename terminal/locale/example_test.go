package locale_test

import (
	"fmt"
	"time"

	"showpos/terminal/locale"
)

func Example() {
	de, err := locale.Parse("de-AT") // terminal.locale
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 12, 7, 14, 5, 9, 0, time.UTC)
	fmt.Println(de, de.T(locale.Paid), de.T(locale.ManyQueued, 3))
	fmt.Println(de.Amount("1234.50"), "EUR,", de.Stamp(at))
	fmt.Println(de.Reason("underpaid"), "/", locale.EnglishReason(de, "zu wenig bezahlt"))
	// Output:
	// de BEZAHLT 3 Zahlungen warten
	// 1.234,50 EUR, 07.12.2026 14:05:09
	// zu wenig bezahlt / underpaid
}
