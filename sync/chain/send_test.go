package chain

import (
	"context"
	"errors"
	"testing"
)

// Node errors come back per item, as received, while the other items of
// the same batch are accepted; N sends are one request on the wire.
func TestSendBatchKeepsNodeErrorsPerItem(t *testing.T) {
	node := newFakeNode(t, testChain)
	c := newTestClient(t, Options{}, node.URL())
	raws, hashes := signedTxs(t, 5)
	nonceLow := &rpcErr{Code: -32000, Message: "nonce too low: next nonce 1, tx nonce 0"}
	node.sendErr[hashes[1]] = nonceLow
	node.sendErr[hashes[3]] = &rpcErr{Code: -32003, Message: "insufficient funds for gas * price + value", Data: map[string]any{"need": "0x10"}}

	c.Probe(context.Background())
	reqs0, _ := node.counts()
	errs, err := c.SendBatch(context.Background(), raws)
	if err != nil {
		t.Fatal(err)
	}
	if reqs, batches := node.counts(); reqs-reqs0 != 1 || batches != 1 {
		t.Errorf("%d requests (%d batches) on the wire for 5 sends, want 1 batch", reqs-reqs0, batches)
	}
	for i, e := range errs {
		switch i {
		case 1, 3:
			var ne *NodeError
			if !errors.As(e, &ne) || IsTransport(e) {
				t.Fatalf("item %d: %#v, want a *NodeError", i, e)
			}
			want := node.sendErr[hashes[i]]
			if ne.Code != want.Code || ne.Message != want.Message || e.Error() != want.Message {
				t.Errorf("item %d: %d %q, want %d %q", i, ne.Code, ne.Message, want.Code, want.Message)
			}
			if i == 3 {
				if d, ok := ne.Data.(map[string]any); !ok || d["need"] != "0x10" {
					t.Errorf("item 3 data %#v", ne.Data)
				}
			}
		default:
			if e != nil {
				t.Errorf("item %d: %v", i, e)
			}
		}
	}
	if got := node.sent; len(got) != 3 || got[0] != hashes[0] || got[1] != hashes[2] || got[2] != hashes[4] {
		t.Errorf("node took %v", got)
	}

	// A single Send is a plain call, and keeps the node's error too.
	err = c.Send(context.Background(), raws[1])
	var ne *NodeError
	if !errors.As(err, &ne) || *ne != (NodeError{Code: -32000, Message: nonceLow.Message}) {
		t.Errorf("Send: %#v", err)
	}
	if _, batches := node.counts(); batches != 1 {
		t.Errorf("Send used a batch")
	}
}

func TestSendBatchSplitsLongBatches(t *testing.T) {
	node := newFakeNode(t, testChain)
	c := newTestClient(t, Options{}, node.URL())
	raws, _ := signedTxs(t, 2*maxBatch+1)
	c.Probe(context.Background())
	errs, err := c.SendBatch(context.Background(), raws)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Fatalf("item %d: %v", i, e)
		}
	}
	if _, batches := node.counts(); batches != 3 {
		t.Errorf("%d batches, want 3", batches)
	}
}

// An endpoint that refuses batches is the only one: the items go to it one
// call at a time, and from then on without trying a batch.
func TestBatchRefusedFallsBackToSingleCalls(t *testing.T) {
	for _, m := range []mode{batchObject, batchTooBig} {
		node := newFakeNode(t, testChain)
		node.set(m)
		c := newTestClient(t, Options{}, node.URL())
		raws, _ := signedTxs(t, 4)
		errs, err := c.SendBatch(context.Background(), raws[:2])
		if err != nil || errs[0] != nil || errs[1] != nil {
			t.Fatalf("mode %d: SendBatch = %v, %v", m, errs, err)
		}
		_, b0 := node.counts()
		if errs, err = c.SendBatch(context.Background(), raws[2:]); err != nil || errs[0] != nil || errs[1] != nil {
			t.Fatalf("mode %d: second SendBatch = %v, %v", m, errs, err)
		}
		if _, b1 := node.counts(); b1 != b0 {
			t.Errorf("mode %d: batch tried again", m)
		}
		if n := node.called("eth_sendRawTransaction"); n != 4 {
			t.Errorf("mode %d: %d sends", m, n)
		}
		if !c.Status().Online {
			t.Errorf("mode %d: offline", m)
		}
	}
}

func TestSendChecksTheReturnedHash(t *testing.T) {
	node := newFakeNode(t, testChain)
	node.wrongHash = true
	c := newTestClient(t, Options{}, node.URL())
	raws, _ := signedTxs(t, 1)
	if err := c.Send(context.Background(), raws[0]); !errors.Is(err, ErrHashMismatch) {
		t.Errorf("err = %v, want ErrHashMismatch", err)
	}
}

func TestSendWhenAllEndpointsFail(t *testing.T) {
	a, b := newFakeNode(t, testChain), newFakeNode(t, testChain)
	c := newTestClient(t, Options{}, a.URL(), b.URL())
	a.set(status429)
	b.stop()
	raws, _ := signedTxs(t, 2)
	errs, err := c.SendBatch(context.Background(), raws)
	var te *TransportError
	if errs != nil || !errors.As(err, &te) {
		t.Fatalf("SendBatch = %v, %v; want nil and a transport error", errs, err)
	}
	if te.Endpoint != "" || te.Reason != a.URL()+": HTTP 429 Too Many Requests; "+b.URL()+": connection refused" {
		t.Errorf("transport error %+v", te)
	}
	var ne *NodeError
	if errors.As(err, &ne) {
		t.Errorf("a transport error that is also a node error: %v", err)
	}
	if errs, err := c.SendBatch(context.Background(), nil); err != nil || len(errs) != 0 {
		t.Errorf("empty SendBatch = %v, %v", errs, err)
	}
}
