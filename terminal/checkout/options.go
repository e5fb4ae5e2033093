package checkout

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"showpos/terminal/check"
	"showpos/terminal/config"
	"showpos/terminal/request"
	"showpos/terminal/store"
)

// offered returns the networks a new request for units of the asset with
// symbol is offered on, its primary first: the default network if it takes
// the asset, else the first that does (Config.Offers' order); none if no
// network takes it. A network whose max_payment for the asset is below
// units is left out (it would refuse every payment of the request,
// payment_limit), except the primary, by whose limit Make refuses the
// amount. At most request.MaxOptions.
func offered(cfg *config.Config, symbol string, units *big.Int) []config.NetAsset {
	all := cfg.Offers(symbol)
	if len(all) == 0 {
		return nil
	}
	out := all[:1:1]
	for _, na := range all[1:] {
		if len(out) == request.MaxOptions {
			break
		}
		if na.Asset.MaxPayment != nil && units.Cmp(na.Asset.MaxPayment) > 0 {
			continue
		}
		out = append(out, na)
	}
	return out
}

// option is one network a request is paid on, as the running config has
// it: the network with its checker and the asset there.
type option struct {
	request.Option
	net   *network
	asset config.Asset
}

// label names the asset on its network in messages: "USDC on arbitrum".
func (o option) label() string {
	if o.net == nil {
		return o.asset.Symbol
	}
	return o.asset.Symbol + " on " + o.net.Name
}

// optionOn returns the option of req on chainID under rules r: refused
// wrong_chain if req is not offered there (the message names the networks
// it is), unknown_request if the network or the asset is no longer
// configured there as the request has it (another token now).
func (r *rules) optionOn(req *request.Request, chainID uint64) (option, error) {
	o, ok := req.Option(chainID)
	if !ok {
		return option{}, check.Refuse(check.CodeWrongChain, "signed for chain %d; request %s is paid in %s on %s",
			chainID, req.ID, req.Asset.Symbol, r.chainsOf(req))
	}
	n, ok := r.network(chainID)
	if !ok {
		return option{}, check.Refuse(check.CodeUnknownRequest, "request %s is for %s on chain %d, which this terminal no longer takes", req.ID, req.Asset.Symbol, chainID)
	}
	a, ok := n.Asset(req.Asset.Symbol)
	if !ok || a.Token != o.Token {
		return option{}, check.Refuse(check.CodeUnknownRequest, "request %s is for %s on %s, which this terminal no longer takes", req.ID, req.Asset.Symbol, n.Name)
	}
	return option{Option: o, net: n, asset: a}, nil
}

// chainsOf names the networks req is offered on: "base (8453) or
// arbitrum (42161)"; a network no longer configured by its chain id.
func (r *rules) chainsOf(req *request.Request) string {
	var names []string
	for _, o := range req.Options() {
		name := o.Network
		if n, ok := r.network(o.ChainID); ok {
			name = n.Name
		}
		if name == "" {
			names = append(names, "chain "+strconv.FormatUint(o.ChainID, 10))
			continue
		}
		names = append(names, fmt.Sprintf("%s (chain %d)", name, o.ChainID))
	}
	return strings.Join(names, " or ")
}

// chainOf is the chain a stored payment is on: its ChainID, or for one
// stored before payments carried it the default network's.
func chainOf(cfg *config.Config, p store.Payment) uint64 {
	if p.ChainID != 0 {
		return p.ChainID
	}
	return cfg.ChainID
}

// networkName is the configured name of the network on chain id, or
// "chain-<id>" for one no longer configured.
func networkName(cfg *config.Config, chainID uint64) string {
	for _, n := range cfg.Networks {
		if n.ChainID == chainID {
			return n.Name
		}
	}
	return config.LegacyNetworkName(chainID)
}

// fillOffers gives each of doc's offers (the request package builds one
// per option, a one-network document's included) its x402 requirements
// under cfg, and the primary's to Document.X402. (A one-network document
// names no network: its JSON and stored form have none, and Verify holds
// the offers to them.)
func (s *Service) fillOffers(cfg *config.Config, doc *request.Document) {
	doc.X402 = nil
	for i := range doc.Offers {
		doc.Offers[i].X402 = s.requirements(cfg, doc, doc.Offers[i].Option)
		if doc.Offers[i].ChainID == doc.ChainID {
			doc.X402 = doc.Offers[i].X402
		}
	}
}
