package tokendomain_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/sync/chain"
	"showpos/sync/tokendomain"
	"showpos/terminal/checkout"
	"showpos/terminal/config"
	"showpos/terminal/config/configtest"
	"showpos/terminal/store"
	"showpos/tools/devchain"
)

// The dev token's DOMAIN_SEPARATOR() against what the terminal computes:
// the right domain is offered; a wrong name is logged as a mismatch, the
// till then advertises no x402 requirements for the asset and refuses
// authorizations wrong_asset. An unreachable chain decides nothing.
func TestTheTokensDomainSeparatorDecidesWhetherTheMethodIsOffered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dc, err := devchain.Start(ctx, devchain.Options{Payers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	c, err := chain.New(chain.Options{Endpoints: []string{dc.Endpoint()}, ChainID: configtest.ChainID})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if want, err := tokendomain.Separator(configtest.ChainID, devchain.TokenAddr, devchain.TokenName, devchain.TokenVersion); err != nil {
		t.Fatal(err)
	} else if got, err := c.CallContract(ctx, devchain.TokenAddr, []byte{0x36, 0x44, 0xe5, 0x15}); err != nil || [32]byte(got) != want {
		t.Fatalf("DOMAIN_SEPARATOR() = %x (%v), computed %s", got, err, want)
	}

	for _, tc := range []struct {
		name, domainName string
		match            bool
	}{
		{"the token's own domain", devchain.TokenName, true},
		{"USDC's name on the dev token", "USD Coin", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := configtest.New(t, `
[[assets]]
symbol = "TUSD"
authorization = "eip3009"
domain_name = "`+tc.domainName+`"
domain_version = "2"
`)
			st, err := store.Open(filepath.Join(t.TempDir(), "showpos.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			key, _ := crypto.GenerateKey()
			till := checkout.New(checkout.Options{Config: cfg, Key: key, Store: st})
			var mu sync.Mutex
			var got []checkout.DomainVerdict
			chk := tokendomain.New(tokendomain.Options{Caller: func(uint64) tokendomain.Caller { return c }, Config: till.Config, OnVerdict: func(v checkout.DomainVerdict) {
				mu.Lock()
				got = append(got, v)
				mu.Unlock()
				till.SetDomainVerdict(v)
			}})
			chk.Check(ctx)
			chk.Check(ctx) // checked once per config
			if len(got) != 1 || got[0].Match != tc.match || got[0].Symbol != "TUSD" {
				t.Fatalf("verdicts %+v", got)
			}
			doc, err := till.NewRequest(ctx, "1", "TUSD", "")
			if err != nil {
				t.Fatal(err)
			}
			if (doc.X402 != nil) != tc.match {
				t.Fatalf("x402 requirements offered: %v, want %v", doc.X402 != nil, tc.match)
			}
			if !tc.match {
				_, err := till.PayAuthorization(ctx, doc.ID, []byte(`{}`))
				if err == nil || err.Error()[:len("wrong_asset")] != "wrong_asset" {
					t.Fatalf("authorization with a wrong domain: %v", err)
				}
			}
		})
	}

	// Offline: nothing is decided, the method stays offered.
	off, err := chain.New(chain.Options{Endpoints: []string{"http://127.0.0.1:1"}, ChainID: configtest.ChainID})
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	cfg := configtest.New(t, "[[assets]]\nsymbol = \"TUSD\"\nauthorization = \"eip3009\"\ndomain_name = \"x\"\ndomain_version = \"2\"\n")
	n := 0
	tokendomain.New(tokendomain.Options{Caller: func(uint64) tokendomain.Caller { return off }, Config: func() *config.Config { return cfg }, OnVerdict: func(checkout.DomainVerdict) { n++ }}).Check(ctx)
	if n != 0 {
		t.Fatalf("%d verdicts with the chain unreachable", n)
	}
}
