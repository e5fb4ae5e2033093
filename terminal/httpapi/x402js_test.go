package httpapi_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/checkout"

	"showpos/tools/jstools"
)

// A request's advertised x402 requirements, exactly as the payer API
// serves them, given to @x402/evm's exact client (tools/js/x402pay.js, as
// an x402 client answering a 402 whose accepts list holds them): the
// payload it makes is accepted offline through the payer API. This is what
// maxTimeoutSeconds (the settle window plus slack) is for: the client's
// validBefore must clear the terminal's window.
func TestAnX402ClientPaysTheAdvertisedRequirements(t *testing.T) {
	dir := jstools.Dir(t, "@x402/evm")
	tm := newTerminalWith(t, authConfig)
	// The client reads the real clock; so does the terminal here, a few
	// seconds ahead of it (the time to hand over).
	tm.clock.Set(time.Now())
	doc := tm.doc("9.5")
	served := tm.get(checkout.RequestPath + "?id=" + doc.ID)
	key := newKey(t)
	in, _ := json.Marshal(map[string]any{
		"privateKey": "0x" + hex.EncodeToString(crypto.FromECDSA(key)),
		"paymentRequired": map[string]any{"x402Version": 2, "resource": map[string]any{"url": doc.RequestURL},
			"accepts": []any{served.body["x402"]}},
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "x402pay.js"), "x402")
	cmd.Dir, cmd.Stdin = dir, bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node x402pay.js x402: %v\n%s", err, stderr.Bytes())
	}
	tm.clock.Set(time.Now().Add(5 * time.Second))
	a := tm.payAuth(doc.ID, bytes.TrimSpace(stdout.Bytes()))
	if a.status != 202 || a.body["from"] != crypto.PubkeyToAddress(key.PublicKey).Hex() {
		t.Fatalf("@x402/evm's payload: %d %v\n%s", a.status, a.body, stdout.Bytes())
	}
}
