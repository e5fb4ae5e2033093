package check

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/tools/jstools"
)

// jsTools returns the tools/js directory with its node_modules installed, or
// skips the test (fails it when SHOWPOS_REQUIRE_JS=1, as in CI).
func jsTools(t *testing.T) string { return jstools.Dir(t, "ethers", "@x402/evm", "@x402/core", "viem") }

// x402pay runs tools/js/x402pay.js in mode with input as its stdin and
// returns the payment payload it printed.
func x402pay(t *testing.T, dir, mode string, input any) []byte {
	t.Helper()
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "x402pay.js"), mode)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node x402pay.js %s: %v\n%s", mode, err, stderr.Bytes())
	}
	return bytes.TrimSpace(stdout.Bytes())
}

// Payloads made by independent payer libraries are accepted offline:
// @x402/evm's exact client (v2 and v1, as an x402 client answering a 402)
// and ethers v6 signTypedData. The clients read the real clock, so the
// check does too; a client's default maxTimeoutSeconds of 300 gets the
// settle-window refusal, which is why requests must advertise the window.
func TestIndependentPayersAuthorizationsAreAccepted(t *testing.T) {
	dir := jsTools(t)
	p := newPayer(t)
	key := "0x" + hex.EncodeToString(crypto.FromECDSA(p.key))
	requirements := func(timeout int) map[string]any {
		return map[string]any{
			"scheme": "exact", "network": "eip155:" + testChain.String(), "amount": usdAmount.String(),
			"asset": token.Hex(), "payTo": merchant.Hex(), "maxTimeoutSeconds": timeout,
			"extra": map[string]any{"name": usdcDomain.Name, "version": usdcDomain.Version},
		}
	}
	const day = 25 * 3600 // a little over the default settle window
	v1 := map[string]any{
		"scheme": "exact", "network": "sepolia", "maxAmountRequired": usdAmount.String(),
		"resource": "https://pos.example/pay/r1", "description": "", "mimeType": "",
		"asset": token.Hex(), "payTo": merchant.Hex(), "maxTimeoutSeconds": day,
		"extra": map[string]any{"name": usdcDomain.Name, "version": usdcDomain.Version},
	}
	for _, tc := range []struct {
		name, mode string
		input      any
		version    int
		code       Code
	}{
		{"@x402/evm v2", "x402", map[string]any{"privateKey": key, "paymentRequired": map[string]any{
			"x402Version": 2, "resource": map[string]any{"url": "https://pos.example/pay/r1"},
			"accepts": []any{requirements(day)}}}, 2, ""},
		{"@x402/evm v1", "x402", map[string]any{"privateKey": key, "paymentRequired": map[string]any{
			"x402Version": 1, "accepts": []any{v1}}}, 1, ""},
		{"ethers v6 signTypedData", "ethers", map[string]any{"privateKey": key, "requirements": requirements(day)}, 2, ""},
		{"@x402/evm v2 with x402's usual 300 seconds", "x402", map[string]any{"privateKey": key, "paymentRequired": map[string]any{
			"x402Version": 2, "resource": map[string]any{"url": "https://pos.example/pay/r1"},
			"accepts": []any{requirements(300)}}}, 2, CodeAuthorizationExpiresTooSoon},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := x402pay(t, dir, tc.mode, tc.input)
			t.Logf("%s", raw)
			a, err := ParsePaymentPayload(raw)
			if err != nil {
				t.Fatal(err)
			}
			if a.X402Version != tc.version || a.From != p.addr {
				t.Fatalf("x402Version %d from %s; want %d %s", a.X402Version, a.From.Hex(), tc.version, p.addr.Hex())
			}
			terms := authTerms()
			terms.Now = time.Now()
			pay, err := New(testPolicy()).CheckAuthorization(a, terms)
			if tc.code != "" {
				var r *Refusal
				if !errors.As(err, &r) || r.Code != tc.code {
					t.Fatalf("err = %v, want %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pay.From != p.addr || pay.Paid.Cmp(usdAmount) != 0 || pay.Nonce != a.Nonce || pay.To != merchant {
				t.Errorf("payment %+v", pay)
			}
			checkSignatureNormalised(t, pay)
			verifyAuthorizes(t, raw, pay, terms, testPolicy())
		})
	}
}
