package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"fmt"
	"math/big"
	"runtime"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/check"
	"showpos/terminal/request"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// The authorization rows' terminal takes TUSD, the dev chain's token, by
// EIP-3009 authorization too: the token's EIP-712 domain is the dev
// chain's (devchain.TokenName, devchain.TokenVersion, like USDC's "2").
var authDomain = check.Domain{Name: devchain.TokenName, Version: devchain.TokenVersion}

// authConfigFor is configFor with TUSD taking authorizations.
func authConfigFor(data string) string {
	tusd := `token = "` + benchToken + `"
decimals = 6
`
	return strings.Replace(configFor(data, ""), tusd, tusd+fmt.Sprintf("authorization = \"eip3009\"\ndomain_name = %q\ndomain_version = %q\n",
		authDomain.Name, authDomain.Version), 1)
}

// authRequirements are the x402 requirements a request of erc20's amount
// advertises on the authorizing terminal (what an x402 client signs for).
func authRequirements() *request.PaymentRequirements {
	return &request.PaymentRequirements{Scheme: "exact", Network: fmt.Sprintf("eip155:%d", benchChainID), Amount: erc20.Amount,
		Asset: erc20.Asset.Token, PayTo: common.HexToAddress(benchMerchant), MaxTimeoutSeconds: 90_000,
		Name: authDomain.Name, Version: authDomain.Version}
}

// authTerms are the check's terms for an authorization paying erc20's
// amount, taken at now.
func authTerms(now time.Time) check.AuthorizationTerms {
	return check.AuthorizationTerms{Terms: erc20.terms(), Domain: authDomain, Now: now}
}

// newAuthorization signs an authorization from key paying req, valid from
// 10 minutes before now to 48 hours after (past the default settle window
// of 24 h), with a random nonce, and returns it as the x402 v2 payload an
// x402 client hands over.
func newAuthorization(key *ecdsa.PrivateKey, req *request.PaymentRequirements, now time.Time) ([]byte, error) {
	a := devchain.Authorization{From: crypto.PubkeyToAddress(key.PublicKey), To: req.PayTo, Value: req.Amount,
		ValidAfter: big.NewInt(now.Unix() - 600), ValidBefore: big.NewInt(now.Add(48 * time.Hour).Unix())}
	if _, err := rand.Read(a.Nonce[:]); err != nil {
		return nil, err
	}
	sig, err := devchain.SignAuthorization(key, big.NewInt(benchChainID), a)
	if err != nil {
		return nil, err
	}
	return paytx.PaymentPayload(req, paytx.Authorization{From: a.From, To: a.To, Value: a.Value, ValidAfter: a.ValidAfter,
		ValidBefore: a.ValidBefore, Nonce: a.Nonce, Signature: sig})
}

// signedAuthorizations signs n distinct authorizations of erc20's amount
// to the merchant from payers keys, as x402 v2 payloads; every one passes
// the check at now.
func signedAuthorizations(n, payers int, now time.Time) ([][]byte, error) {
	keys := make([]*ecdsa.PrivateKey, payers)
	for i := range keys {
		var err error
		if keys[i], err = crypto.GenerateKey(); err != nil {
			return nil, err
		}
	}
	req := authRequirements()
	out := make([][]byte, n)
	c, terms := checker(), authTerms(now)
	for i := range out {
		var err error
		if out[i], err = newAuthorization(keys[i%payers], req, now); err != nil {
			return nil, err
		}
		// Every one must pass the check, or the figures measure refusals.
		if _, err := c.CheckPaymentPayload(out[i], terms); err != nil {
			return nil, fmt.Errorf("signed authorization %d refused: %w", i, err)
		}
	}
	return out, nil
}

// authCheckRate is checkRate for authorizations: terminal/check's
// ParsePaymentPayload then CheckAuthorization (what the till runs on a
// handed-over payload) over payloads, round and round, on one goroutine
// with GOMAXPROCS=1, for about d after a warm-up pass, at the fixed time
// now. It returns checks per second.
func authCheckRate(payloads [][]byte, now time.Time, d time.Duration) (float64, error) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	c, terms := checker(), authTerms(now)
	one := func(raw []byte) error {
		a, err := check.ParsePaymentPayload(raw)
		if err != nil {
			return err
		}
		_, err = c.CheckAuthorization(a, terms)
		return err
	}
	for _, raw := range payloads[:min(len(payloads), 200)] {
		if err := one(raw); err != nil {
			return 0, err
		}
	}
	n := 0
	stop := time.Now().Add(d)
	start := time.Now()
	for i := 0; ; i++ {
		if err := one(payloads[i%len(payloads)]); err != nil {
			return 0, fmt.Errorf("check: %w", err)
		}
		n++
		if n%32 == 0 && time.Now().After(stop) {
			break
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// authCheckRow measures the authorization check's rate on one core, beside
// txRate, the ERC-20 transaction check's rate measured in the same run (0:
// not measured), and ethers v6's verifyTypedData in Node over the same
// payloads.
func authCheckRow(ctx context.Context, o options, dir string, txRate float64) row {
	what := "Check rate, authorization (EIP-3009, x402 exact), one core"
	now := time.Now()
	progress("signing %d authorizations", o.checkTxs)
	payloads, err := signedAuthorizations(o.checkTxs, 16, now)
	if err != nil {
		return failed(what, err)
	}
	progress("check rate, authorization, one core")
	r, err := authCheckRate(payloads, now, o.checkFor)
	if err != nil {
		return failed(what, err)
	}
	rw := row{What: what, Value: rate(r, "authorizations"),
		How: fmt.Sprintf("terminal/check's ParsePaymentPayload then CheckAuthorization (what the till runs on a handed-over payload: strict JSON decode, "+
			"EIP-712 digest over the token's domain, signer recovery, terms, validity window against a 24 h settle window) over %d distinct x402 v2 payloads "+
			"of 12.5 TUSD from 16 keys, each signed with tools/devchain.SignAuthorization (random nonces), one goroutine, GOMAXPROCS=1, for %s after a warm-up pass; "+
			"peers: the ERC-20 transaction check's one-core rate above (same run, same method), and tools/js/authrate.mjs, ethers v6 JSON.parse then "+
			"verifyTypedData over the same payloads (the same signers recovered), after one warm-up pass",
			len(payloads), o.checkFor)}
	rw.Peer, rw.Ratio = "ERC-20 transaction check: not measured", "—"
	if txRate > 0 {
		rw.Peer, rw.Ratio = "ERC-20 transaction check: "+rate(txRate, "tx"), ratio(r, txRate)
	}
	progress("ethers v6 in Node, authorizations")
	peer, err := ethersAuthRate(ctx, dir, payloads, o.checkFor)
	if err != nil {
		rw.Peer += "; ethers: not measured (" + err.Error() + ")"
	} else {
		rw.Peer += fmt.Sprintf("; ethers %s verifyTypedData, Node %s: %s", peer.Ethers, peer.Node, rate(peer.PerSecond, "authorizations"))
		rw.Ratio += "; ethers " + ratio(r, peer.PerSecond)
	}
	return rw
}
