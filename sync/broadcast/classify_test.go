package broadcast

import (
	"errors"
	"fmt"
	"testing"

	"showpos/sync/chain"
)

// Every kind of answer a node gives to eth_sendRawTransaction, as
// go-ethereum words it (messages seen over RPC, code -32000), and what the
// broadcaster makes of it.
func TestClassifyEveryAnswer(t *testing.T) {
	node := func(msg string) error { return &chain.NodeError{Code: -32000, Message: msg} }
	tests := []struct {
		name string
		err  error
		want Verdict
	}{
		{"accepted", nil, Sent},
		{"already known", node("already known"), Sent},
		{"known transaction (older clients)", node("known transaction: 0xabc"), Sent},
		{"mined already: nonce too low", node("nonce too low: next nonce 1, tx nonce 0"), LookUp},
		{"replacement underpriced", node("replacement transaction underpriced"), LookUp},
		{"underpriced", node("transaction underpriced: tip needed 1, tip permitted 0"), RetryFee},
		{"below base fee", node("max fee per gas less than block base fee: address 0x1, maxFeePerGas: 1, baseFee: 7"), RetryFee},
		{"below minimum", node("transaction gas price below minimum: gas tip cap 1, minimum needed 2"), RetryFee},
		{"insufficient funds", node("insufficient funds for gas * price + value: address 0x1 have 0 want 21000"), RetryFunds},
		{"txpool full", node("txpool is full"), RetryLink},
		{"invalid sender (wrong chain)", node("invalid sender: invalid chain id for signer: have 1 want 1337"), Fail},
		{"unprotected", node("only replay-protected (EIP-155) transactions allowed over RPC"), Fail},
		{"type not supported", node("transaction type not supported"), Fail},
		{"malformed rlp", node("rlp: expected input list for types.LegacyTx"), Fail},
		{"typed too short", node("typed transaction too short"), Fail},
		{"oversized", node("oversized data: transaction size 200000, limit 131072"), Fail},
		{"block gas limit", node("exceeds block gas limit"), Fail},
		{"intrinsic gas", node("intrinsic gas too low: gas 20000, minimum needed 21000"), Fail},
		{"gas cap", node("transaction gas limit too high (cap: 16777216, tx: 20000000)"), Fail},
		{"fee cap exceeded", node("tx fee (1.00 ether) exceeds the configured cap (0.10 ether)"), Fail},
		{"tip above fee cap", node("max priority fee per gas higher than max fee per gas"), Fail},
		{"rate limited", node("too many requests"), RetryLink},
		{"unknown message", node("something new and strange"), RetryLink},
		{"case and spaces", node("  Already Known"), Sent},
		{"transport: refused", &chain.TransportError{Reason: "connection refused", Err: errors.New("dial tcp: connection refused")}, RetryLink},
		{"transport: 503", &chain.TransportError{Reason: "HTTP 503 Service Unavailable", Err: errors.New("503")}, RetryLink},
		{"wrapped node error", fmt.Errorf("send: %w", node("nonce too low: next nonce 5, tx nonce 4")), LookUp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.err); got != tc.want {
				t.Errorf("Classify(%v) = %s, want %s", tc.err, got, tc.want)
			}
		})
	}
}

func TestUnpackRevert(t *testing.T) {
	// Error("insufficient balance") as solc encodes it.
	data := "08c379a0" +
		"0000000000000000000000000000000000000000000000000000000000000020" +
		"0000000000000000000000000000000000000000000000000000000000000014" +
		"696e73756666696369656e742062616c616e6365000000000000000000000000"
	b := make([]byte, len(data)/2)
	fmt.Sscanf(data, "%x", &b)
	if got, ok := unpackRevert(b); !ok || got != "insufficient balance" {
		t.Errorf("unpackRevert = %q, %v", got, ok)
	}
	for _, bad := range [][]byte{nil, b[:4], b[:40], append([]byte{0, 0, 0, 0}, b[4:]...)} {
		if _, ok := unpackRevert(bad); ok {
			t.Errorf("unpackRevert(%x) read a reason", bad)
		}
	}
	huge := append([]byte(nil), b...)
	huge[4+63] = 0xff // length past the data
	if _, ok := unpackRevert(huge); ok {
		t.Error("a length past the end was read")
	}
}
