package config

import (
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"

	"showpos/terminal/asset"
	"showpos/terminal/request"
)

// Network is one chain the terminal takes payments on: a [[networks]]
// entry, or the whole [chain] and [[assets]] of a one-chain file.
type Network struct {
	// Name (name) is a short id, [a-z0-9-] 1..32 bytes, fit to be one
	// topic level, a metric label and a word on the cashier's screen. A
	// one-chain file's network is named LegacyNetworkName(chain.id).
	Name    string
	ChainID uint64
	// Chain holds the network's endpoints, confirmations and finality,
	// with the defaults of [chain].
	Chain Chain
	// FeeFloor (fee_floor, wei) is the least maxFeePerGas (gasPrice for
	// legacy transactions) a payment on this network may carry; nil: no
	// floor. A one-chain file's is payments.min_fee_cap_wei.
	FeeFloor *big.Int
	// Relay is [relay] with this network's own max_fee_gwei, low_covers,
	// stuck_after and follow_up ([networks.relay]) where it sets them.
	Relay Relay
	// Assets in file order; the first is the network's default. Symbols
	// are unique within the network, not across networks.
	Assets []Asset
	// oneChain: the network of a file without [[networks]].
	oneChain bool
}

// Asset returns the network's asset with the symbol, case-insensitively.
func (n Network) Asset(symbol string) (Asset, bool) {
	for _, a := range n.Assets {
		if strings.EqualFold(a.Symbol, symbol) {
			return a, true
		}
	}
	return Asset{}, false
}

// Network returns the configured network with the name.
func (c *Config) Network(name string) (Network, bool) {
	for _, n := range c.Networks {
		if n.Name == name {
			return n, true
		}
	}
	return Network{}, false
}

// NetAsset is one network's asset.
type NetAsset struct {
	Network Network
	Asset   Asset
}

// Offers returns every network that takes the asset with the symbol
// (case-insensitively), with its asset there, in config order: the
// networks a request for it may be paid on. The default network, when it
// takes the symbol, comes first.
func (c *Config) Offers(symbol string) []NetAsset {
	var out []NetAsset
	for _, n := range c.Networks {
		if a, ok := n.Asset(symbol); ok {
			out = append(out, NetAsset{Network: n, Asset: a})
		}
	}
	return out
}

// LegacyNetworkName is the name of the one network of a file without
// [[networks]]: "chain-" and its chain id ("chain-1337").
func LegacyNetworkName(chainID uint64) string { return fmt.Sprintf("chain-%d", chainID) }

// maxNetworkName bounds a network's name.
const maxNetworkName = 32

// validNetworkName reports whether s is 1..32 of [a-z0-9-]: one MQTT topic
// level, a Prometheus label value and a URL path segment as it stands.
func validNetworkName(s string) bool {
	if s == "" || len(s) > maxNetworkName {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// fileNetwork is one [[networks]] entry.
type fileNetwork struct {
	Name    string `toml:"name"`
	ChainID uint64 `toml:"chain_id"`
	fileChainKeys
	FeeFloor string       `toml:"fee_floor"`
	Relay    fileNetRelay `toml:"relay"`
	Assets   []fileAsset  `toml:"assets"`
}

// fileChainKeys are the keys of [chain] beyond its id, which a
// [[networks]] entry takes as well.
type fileChainKeys struct {
	RPC           []string      `toml:"rpc"`
	Confirmations uint64        `toml:"confirmations"`
	FinalDepth    uint64        `toml:"final_depth"`
	CallTimeout   time.Duration `toml:"call_timeout"`
	ProbeEvery    time.Duration `toml:"probe_every"`
	// A pointer: absent means the default, "0s" turns it off.
	PreflightBudget *time.Duration `toml:"preflight_budget"`
}

// checkChainID checks a chain id; key names it in errors.
func checkChainID(key string, id uint64) (uint64, error) {
	if id == 0 {
		return 0, invalid("%s is required", key)
	}
	if id > request.MaxChainID {
		return 0, invalid("%s %d is above %d, the largest a payer's JavaScript wallet reads exactly", key, id, uint64(request.MaxChainID))
	}
	return id, nil
}

// check reads the chain keys with their defaults; key names the table in
// errors ("chain", "networks[1]"). No endpoints is allowed, as for
// [chain]: the network then only takes payments and never broadcasts.
func (fc fileChainKeys) check(key string) (Chain, error) {
	for i, u := range fc.RPC {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return Chain{}, invalid("%s.rpc[%d] is not an http(s) URL", key, i)
		}
	}
	ch := Chain{RPC: fc.RPC, Confirmations: fc.Confirmations, FinalDepth: fc.FinalDepth, CallTimeout: fc.CallTimeout, ProbeEvery: fc.ProbeEvery}
	if ch.Confirmations == 0 {
		ch.Confirmations = 1
	}
	if ch.Confirmations > 1000 {
		return ch, invalid("%s.confirmations %d is more than 1000", key, ch.Confirmations)
	}
	if ch.FinalDepth == 0 {
		ch.FinalDepth = max(DefaultFinalDepth, ch.Confirmations)
	}
	switch {
	case ch.FinalDepth < ch.Confirmations:
		return ch, invalid("%s.final_depth %d is below %s.confirmations %d: a payment is final only once confirmed", key, ch.FinalDepth, key, ch.Confirmations)
	case ch.FinalDepth > 10000:
		return ch, invalid("%s.final_depth %d is more than 10000", key, ch.FinalDepth)
	}
	if ch.CallTimeout == 0 {
		ch.CallTimeout = 5 * time.Second
	}
	if ch.ProbeEvery == 0 {
		ch.ProbeEvery = 5 * time.Second
	}
	if ch.CallTimeout < 100*time.Millisecond || ch.ProbeEvery < 100*time.Millisecond {
		return ch, invalid("%s.call_timeout and %s.probe_every must be at least 100ms", key, key)
	}
	ch.PreflightBudget = DefaultPreflightBudget
	if fc.PreflightBudget != nil {
		ch.PreflightBudget = *fc.PreflightBudget
	}
	if ch.PreflightBudget < 0 || ch.PreflightBudget > 10*time.Second {
		return ch, invalid("%s.preflight_budget %s is outside 0..10s (0 turns the pre-flight off)", key, ch.PreflightBudget)
	}
	return ch, nil
}

// checkAssets reads an [[assets]] array; key names it in errors ("assets",
// "networks[1].assets"). Symbols are unique within it, at most one asset
// is the native coin, and a priced asset needs terminal.currency.
func checkAssets(key string, fas []fileAsset, currency string) ([]Asset, error) {
	var out []Asset
	natives := 0
	for i := range fas {
		k := fmt.Sprintf("%s[%d]", key, i)
		a, err := fas[i].check(k)
		if err != nil {
			return nil, err
		}
		if (Network{Assets: out}).hasAsset(a.Symbol) {
			return nil, invalid("%s: symbol %q appears twice", k, a.Symbol)
		}
		if a.Native() {
			natives++
		}
		if a.Price.Priced() && currency == "" {
			return nil, invalid("%s (%s): price_feed and peg price the asset in terminal.currency, which is not set", k, a.Symbol)
		}
		out = append(out, a)
	}
	if natives > 1 {
		return nil, invalid("%s: more than one native asset (an asset without token)", key)
	}
	return out, nil
}

func (n Network) hasAsset(symbol string) bool {
	_, ok := n.Asset(symbol)
	return ok
}

// checkNetworks fills c.Networks: from [[networks]], or, in a file without
// them, the one network of [chain] and [[assets]] (already read into c).
// Either way the first network is the default, and c.ChainID, c.Chain,
// c.Assets, c.Relay and c.Payments.MinFeeCap are its values (the same
// Assets slice), so code that knows one chain reads the default network.
//
// A file with [[networks]] may not also have [chain], [[assets]] or
// payments.min_fee_cap_wei: which chain they meant would be a guess.
// [broadcast], [watch] and [relay] (its enabled and poll, and the
// defaults of the keys [networks.relay] may set) hold for every network.
func (f *file) checkNetworks(c *Config) error {
	if len(f.Networks) == 0 {
		c.Networks = []Network{{Name: LegacyNetworkName(c.ChainID), ChainID: c.ChainID, Chain: c.Chain,
			FeeFloor: c.Payments.MinFeeCap, Relay: c.Relay, Assets: c.Assets, oneChain: true}}
		return nil
	}
	if len(f.legacy) > 0 {
		return invalid("%s and [[networks]]: a file with networks sets each network's chain, assets and fee_floor in its [[networks]] entry; move them there",
			strings.Join(f.legacy, ", "))
	}
	global := c.Relay
	for i, fn := range f.Networks {
		key := fmt.Sprintf("networks[%d]", i)
		n := Network{Name: fn.Name}
		if !validNetworkName(n.Name) {
			return invalid("%s.name %q: want 1..%d of a-z, 0-9 and '-'", key, n.Name, maxNetworkName)
		}
		var err error
		if n.ChainID, err = checkChainID(key+".chain_id", fn.ChainID); err != nil {
			return err
		}
		for j, o := range c.Networks {
			switch {
			case o.Name == n.Name:
				return invalid("%s.name %q is networks[%d]'s too", key, n.Name, j)
			case o.ChainID == n.ChainID:
				return invalid("%s.chain_id %d is networks[%d]'s (%s) too: one entry per chain", key, n.ChainID, j, o.Name)
			}
		}
		if n.Chain, err = fn.fileChainKeys.check(key); err != nil {
			return err
		}
		if fn.FeeFloor != "" {
			if n.FeeFloor, err = asset.ParseAmount(fn.FeeFloor, 0); err != nil {
				return invalid("%s.fee_floor: %v", key, err)
			}
		}
		if n.Relay, err = fn.Relay.over(key+".relay", global); err != nil {
			return err
		}
		if len(fn.Assets) == 0 {
			return invalid("%s.assets: at least one [[networks.assets]] entry is required", key)
		}
		if n.Assets, err = checkAssets(key+".assets", fn.Assets, c.Terminal.Currency); err != nil {
			return err
		}
		c.Networks = append(c.Networks, n)
	}
	// A symbol means one amount everywhere: a request for 2.50 USDC is
	// payable with the same base units on every network that takes USDC,
	// and the store keeps pending amounts unique per symbol.
	seen := map[string]Asset{}
	for i, n := range c.Networks {
		for _, a := range n.Assets {
			key := strings.ToUpper(a.Symbol)
			if o, ok := seen[key]; ok && o.Symbol != a.Symbol {
				// The store keeps pending amounts and matches transfers by
				// the symbol as spelled.
				return invalid("networks[%d] (%s): asset %q is spelled %q on an earlier network; spell one symbol the same on every network",
					i, n.Name, a.Symbol, o.Symbol)
			}
			if o, ok := seen[key]; ok && o.Decimals != a.Decimals {
				return invalid("networks[%d] (%s): %s has %d decimals here and %d on an earlier network; one symbol must have one number of decimals on every network (name the other token differently, e.g. %s.%s)",
					i, n.Name, a.Symbol, a.Decimals, o.Decimals, a.Symbol, n.Name)
			}
			seen[key] = a
		}
	}
	d := c.Networks[0]
	c.ChainID, c.Chain, c.Assets, c.Relay, c.Payments.MinFeeCap = d.ChainID, d.Chain, d.Assets, d.Relay, d.FeeFloor
	return nil
}
