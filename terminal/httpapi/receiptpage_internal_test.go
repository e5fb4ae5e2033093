package httpapi

import (
	"bytes"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/asset"
	"showpos/terminal/locale"
	"showpos/terminal/receipt"
)

// fixedReceipts are receipts made by hand, every field set, for the
// page's golden files.
func fixedReceipts() map[string]receipt.Signed {
	sig := make([]byte, 65)
	for i := range sig {
		sig[i] = byte(i)
	}
	tusd := asset.Asset{Symbol: "TUSD", Decimals: 6, Token: common.HexToAddress("0x00000000000000000000000000000000000000aa")}
	base := receipt.Receipt{
		RequestID: "0123456789abcdef0123456789abcdef", TerminalID: "till-1", MerchantName: "Café <Zur Post>",
		Merchant: common.HexToAddress("0x1111111111111111111111111111111111111111"), ChainID: 1337,
		Time: time.Date(2026, 12, 7, 14, 5, 9, 0, time.UTC), Asset: tusd,
	}
	paid := base
	paid.State, paid.Method = receipt.StateAccepted, receipt.MethodAuthorization
	paid.Amount, paid.Tip = big.NewInt(1234_560000), big.NewInt(100_000000)
	paid.FiatAmount, paid.Currency, paid.Rate = "1135.79", "EUR", "0.92"
	paid.Memo = "table 4"
	paid.From = common.HexToAddress("0x2222222222222222222222222222222222222222")
	paid.AuthNonce = common.HexToHash("0x33")
	paid.TxHash = common.HexToHash("0x44")
	rejected := base
	rejected.MerchantName = ""
	rejected.State, rejected.Reason, rejected.Method = receipt.StateRejected, "underpaid", receipt.MethodHandover
	rejected.Amount = big.NewInt(5_000000)
	rejected.From = common.HexToAddress("0x2222222222222222222222222222222222222222")
	rejected.TxHash = common.HexToHash("0x55")
	unpaid := base
	unpaid.State, unpaid.Reason, unpaid.Amount = receipt.StateUnpaid, "pending", big.NewInt(20_000000)
	out := map[string]receipt.Signed{}
	for name, r := range map[string]receipt.Receipt{"accepted": paid, "rejected": rejected, "unpaid": unpaid} {
		out[name] = receipt.Signed{Receipt: r, Signature: sig, Signer: common.HexToAddress("0x9999999999999999999999999999999999999999")}
	}
	return out
}

var update = flag.Bool("update", false, "rewrite the golden receipt pages in testdata")

// The page of each kind of receipt, in each language, is its golden file
// (testdata/receipt-<state>.<lang>.html): a change to any word, amount or
// time of any of them shows up in review. English is the page as it was
// before it spoke other languages, but for the how-to paragraph's line
// breaks and its one escaped apostrophe.
func TestReceiptPageGolden(t *testing.T) {
	for name, s := range fixedReceipts() {
		for _, l := range locale.All() {
			var buf bytes.Buffer
			if err := receiptHTML.Execute(&buf, htmlReceipt(l, s)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "receipt-"+name+"."+l.String()+".html")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from its golden file (go test -run TestReceiptPageGolden -update, and read the diff):\n%s", path, buf.Bytes())
			}
		}
	}
}

// A receipt of a payment on a named network shows the name before the
// chain id; one without a name shows the chain id alone, as before.
func TestReceiptPageNamesTheNetwork(t *testing.T) {
	for _, tc := range []struct {
		name    string
		network string
		chain   uint64
		want    string
	}{
		{"a named network", "arbitrum", 42161, "<dd>arbitrum · chain 42161</dd>"},
		{"an unnamed network", "", 1337, "<dd>chain 1337</dd>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fixedReceipts()["accepted"]
			s.Receipt.Network, s.Receipt.ChainID = tc.network, tc.chain
			var buf bytes.Buffer
			if err := receiptHTML.Execute(&buf, htmlReceipt(locale.English, s)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(buf.Bytes(), []byte(tc.want)) {
				t.Errorf("page lacks %s:\n%s", tc.want, buf.String())
			}
		})
	}
}
