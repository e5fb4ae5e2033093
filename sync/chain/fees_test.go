package chain

import (
	"context"
	"errors"
	"testing"
)

// FeeHistory reads a node's answer as given, and refuses the answers a
// fee cannot be computed from.
func TestFeeHistoryAnswers(t *testing.T) {
	cases := []struct {
		name    string
		answer  any
		wantErr error
		next    int64
		reward  int64
	}{
		{"two blocks and the next", map[string]any{"oldestBlock": "0x5", "baseFeePerGas": []string{"0x10", "0x11", "0x12"},
			"reward": [][]string{{"0x1"}, {"0x3"}}, "gasUsedRatio": []float64{0.5, 0.1}}, nil, 0x12, 3},
		{"no base fees (before London)", map[string]any{"oldestBlock": "0x5", "baseFeePerGas": []string{}, "reward": [][]string{}}, ErrBadAnswer, 0, 0},
		{"rewards of the wrong width", map[string]any{"oldestBlock": "0x5", "baseFeePerGas": []string{"0x1", "0x2"},
			"reward": [][]string{{"0x1", "0x2"}}}, ErrBadAnswer, 0, 0},
		{"not a number", map[string]any{"oldestBlock": "0x5", "baseFeePerGas": []string{"ten"}}, ErrBadAnswer, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newFakeNode(t, 7)
			n.feeHist = tc.answer
			c, err := New(Options{Endpoints: []string{n.URL()}, ChainID: 7})
			if err != nil {
				t.Fatal(err)
			}
			h, err := c.FeeHistory(context.Background(), 2, "latest", []float64{50})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.OldestBlock != 5 || h.NextBaseFee().Int64() != tc.next || h.Rewards[1][0].Int64() != tc.reward {
				t.Fatalf("got %+v", h)
			}
		})
	}
}

// A node without eth_feeHistory answers with a node error, not a
// transport failure: the endpoint is fine, the method is missing.
func TestFeeHistoryMissingMethod(t *testing.T) {
	n := newFakeNode(t, 7)
	c, _ := New(Options{Endpoints: []string{n.URL()}, ChainID: 7})
	_, err := c.FeeHistory(context.Background(), 1, "latest", nil)
	var ne *NodeError
	if !errors.As(err, &ne) || IsTransport(err) {
		t.Fatalf("err %v, want a NodeError", err)
	}
}
