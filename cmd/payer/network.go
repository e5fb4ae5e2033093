package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/request"
)

// onNetwork returns doc as paid on the network sel names: an option's
// network name ("arbitrum") or chain id ("42161"); "" is the request's own
// (primary) network, doc itself. The chosen option is rebuilt from the
// signed options (Request.Option): its chain id and token replace doc's,
// its URI is built from the signed terms (and must be the one the
// document serves, if it serves one), and its x402 requirements are the
// offer's, which payAuthorization checks against the rebuilt terms. The
// document's signature was checked before; nothing here is taken on the
// terminal's word that the signature does not cover.
func onNetwork(doc *request.Document, sel string) (*request.Document, request.Option, error) {
	r := doc.Request()
	opts := r.Options()
	if sel == "" {
		return doc, opts[0], nil
	}
	var chosen request.Option
	found := false
	for _, o := range opts {
		if (o.Network != "" && o.Network == sel) || strconv.FormatUint(o.ChainID, 10) == sel {
			chosen, found = o, true
			break
		}
	}
	if !found {
		return nil, request.Option{}, fmt.Errorf("refusing to pay: request %s is not offered on network %q: it offers %s", doc.ID, sel, offered(opts))
	}
	if o, ok := r.Option(chosen.ChainID); !ok || o != chosen {
		return nil, request.Option{}, fmt.Errorf("refusing to pay: request %s: option on chain %d not among its signed options", doc.ID, chosen.ChainID)
	}
	if chosen.ChainID == doc.ChainID {
		return doc, chosen, nil
	}
	pd := *doc
	pd.ChainID, pd.Asset.Token, pd.Network = chosen.ChainID, chosen.Token, chosen.Network
	pd.URI, pd.X402 = r.OptionURI(chosen, doc.RequestURL), nil
	for _, of := range doc.Offers {
		if of.ChainID != chosen.ChainID {
			continue
		}
		if of.URI != "" && of.URI != pd.URI {
			return nil, request.Option{}, fmt.Errorf("refusing to pay: request %s serves %q for chain %d, but its signed terms make %q", doc.ID, of.URI, chosen.ChainID, pd.URI)
		}
		pd.X402 = of.X402
	}
	return &pd, chosen, nil
}

// offered names a request's options for a message: "dev (1337), arbitrum
// (42161)".
func offered(opts []request.Option) string {
	var b strings.Builder
	for i, o := range opts {
		if i > 0 {
			b.WriteString(", ")
		}
		if o.Network != "" {
			fmt.Fprintf(&b, "%s (%d)", o.Network, o.ChainID)
		} else {
			fmt.Fprintf(&b, "chain %d", o.ChainID)
		}
	}
	return b.String()
}

// tokenOf is an option's token as tokenName takes it: nil for the native
// coin.
func tokenOf(t common.Address) *common.Address {
	if t == (common.Address{}) {
		return nil
	}
	return &t
}
