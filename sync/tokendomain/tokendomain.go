// Package tokendomain checks, when the chain answers, that each asset
// configured to take EIP-3009 authorizations names its token's EIP-712
// domain rightly: the token's DOMAIN_SEPARATOR() must be the hash the
// terminal computes from domain_name, domain_version, the chain id and the
// token. A mismatch is logged and handed to the till, which then stops
// offering the method for that asset (every honest authorization would be
// signed over the wrong domain and refused); status shows every verdict.
package tokendomain

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"showpos/device/clock"
	"showpos/terminal/checkout"
	"showpos/terminal/config"
)

// domainSeparatorSelector is DOMAIN_SEPARATOR()'s 4-byte selector.
var domainSeparatorSelector = []byte{0x36, 0x44, 0xe5, 0x15}

// Caller is the chain access the check needs (sync/chain.Client).
type Caller interface {
	CallContract(ctx context.Context, to common.Address, data []byte) ([]byte, error)
}

// Options configure a Checker. Caller, Config and OnVerdict are required.
type Options struct {
	// Caller is the chain client of the network on chain id; nil: that
	// network's assets are not checked this time (it is not running).
	Caller func(chainID uint64) Caller
	// Config returns the running config (it may change: a fleet bundle).
	Config func() *config.Config
	// OnVerdict is given each verdict (the till's SetDomainVerdict).
	OnVerdict func(checkout.DomainVerdict)
	// Every is how often the assets not yet checked, or changed, are
	// tried; 0 means 30 s.
	Every  time.Duration
	Clock  clock.Clock // nil: clock.System
	Logger *slog.Logger
}

// Checker checks the configured domains once each (again after a change
// of token, name, version or chain), retrying while the chain does not
// answer.
type Checker struct {
	o    Options
	done map[string]string // chain id and symbol -> what was checked (key)
}

// New returns a Checker.
func New(o Options) *Checker {
	if o.Every <= 0 {
		o.Every = 30 * time.Second
	}
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Checker{o: o, done: map[string]string{}}
}

// Separator is the EIP-712 domain separator of a token's domain (name,
// version, chainId, verifyingContract), as FiatToken's DOMAIN_SEPARATOR()
// returns it.
func Separator(chainID uint64, token common.Address, name, version string) (common.Hash, error) {
	td := apitypes.TypedData{
		Types: apitypes.Types{"EIP712Domain": {
			{Name: "name", Type: "string"},
			{Name: "version", Type: "string"},
			{Name: "chainId", Type: "uint256"},
			{Name: "verifyingContract", Type: "address"},
		}},
		Domain: apitypes.TypedDataDomain{Name: name, Version: version,
			ChainId: (*math.HexOrDecimal256)(new(big.Int).SetUint64(chainID)), VerifyingContract: token.Hex()},
	}
	h, err := td.HashStruct("EIP712Domain", td.Domain.Map())
	if err != nil {
		return common.Hash{}, err
	}
	return common.BytesToHash(h), nil
}

// Run checks at once, then every Options.Every, until ctx ends.
func (c *Checker) Run(ctx context.Context) {
	for {
		c.Check(ctx)
		if err := clock.Sleep(ctx, c.o.Every); err != nil {
			return
		}
	}
}

// Check asks the chain about each authorizing asset not checked yet under
// its current terms. An asset the chain does not answer for (offline, a
// node error) is tried again next time.
func (c *Checker) Check(ctx context.Context) {
	for _, n := range c.o.Config().Networks {
		caller := c.o.Caller(n.ChainID)
		if caller == nil {
			continue
		}
		c.checkNetwork(ctx, n, caller)
	}
}

// checkNetwork checks one network's authorizing assets over its chain
// client.
func (c *Checker) checkNetwork(ctx context.Context, n config.Network, caller Caller) {
	for _, a := range n.Assets {
		if !a.Authorizes() {
			continue
		}
		want, err := Separator(n.ChainID, a.Token, a.DomainName, a.DomainVersion)
		if err != nil {
			c.o.Logger.Error("token domain: cannot compute the separator", "network", n.Name, "asset", a.Symbol, "err", err)
			continue
		}
		key, at := want.Hex(), fmt.Sprintf("%d/%s", n.ChainID, a.Symbol)
		if c.done[at] == key {
			continue
		}
		out, err := caller.CallContract(ctx, a.Token, domainSeparatorSelector)
		if err != nil {
			if ctx.Err() == nil {
				c.o.Logger.Debug("token domain: not checked", "network", n.Name, "asset", a.Symbol, "err", err)
			}
			continue
		}
		v := checkout.DomainVerdict{ChainID: n.ChainID, Symbol: a.Symbol, Token: a.Token, Name: a.DomainName, Version: a.DomainVersion,
			Want: want, CheckedAt: c.o.Clock.Now()}
		if len(out) == 32 {
			v.Got = common.BytesToHash(out)
		}
		v.Match = len(out) == 32 && v.Got == want
		c.done[at] = key
		if v.Match {
			c.o.Logger.Info("token domain checked", "network", n.Name, "asset", a.Symbol, "separator", want.Hex())
		} else {
			c.o.Logger.Error("token domain mismatch: authorizations are not offered for this asset on this network; fix domain_name/domain_version",
				"network", n.Name, "asset", a.Symbol, "token", a.Token.Hex(), "domain_name", a.DomainName, "domain_version", a.DomainVersion,
				"computed", want.Hex(), "on_chain", v.Got.Hex(), "answer_bytes", len(out))
		}
		c.o.OnVerdict(v)
	}
}
