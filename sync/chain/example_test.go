package chain_test

import (
	"context"
	"errors"
	"log"
	"strings"

	"showpos/sync/chain"
)

// The broadcaster's loop in short: watch connectivity, send the stored
// raw transactions in one batch, and tell node verdicts from outages.
func Example() {
	c, err := chain.New(chain.Options{
		Endpoints: []string{"http://127.0.0.1:8545", "https://rpc.example.net/v1/KEY"},
		ChainID:   1337,
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go c.Run(ctx)
	go func() {
		for st := range c.Changes() {
			log.Printf("online=%v via %s (%s)", st.Online, st.Endpoint, st.Err)
		}
	}()

	var stored [][]byte // raw signed transactions from the outbox
	errs, err := c.SendBatch(ctx, stored)
	if chain.IsTransport(err) {
		return // offline: try again when Changes says online
	}
	for i, e := range errs {
		var ne *chain.NodeError
		switch {
		case e == nil:
			log.Printf("tx %d accepted", i)
		case errors.As(e, &ne) && strings.Contains(ne.Message, "already known"):
			log.Printf("tx %d already in the pool", i)
		case errors.As(e, &ne):
			log.Printf("tx %d refused: %d %s", i, ne.Code, ne.Message)
		}
	}
}
