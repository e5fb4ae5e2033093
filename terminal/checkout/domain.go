package checkout

import (
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/config"
)

// DomainVerdict is what the chain said of an authorizing asset's
// configured EIP-712 domain: whether the token's DOMAIN_SEPARATOR() is the
// one the terminal computes from domain_name, domain_version, the chain id
// and the token (sync/tokendomain asks it when online).
type DomainVerdict struct {
	// ChainID is the network's the asset is on; 0 means the default
	// network's (a checker that knows one chain).
	ChainID   uint64         `json:"chainId,omitempty"`
	Symbol    string         `json:"symbol"`
	Token     common.Address `json:"token"`
	Name      string         `json:"domainName"`
	Version   string         `json:"domainVersion"`
	Match     bool           `json:"match"`
	Want      common.Hash    `json:"computed"` // what the config says
	Got       common.Hash    `json:"onChain"`  // what the token answered
	CheckedAt time.Time      `json:"checkedAt"`
}

// domainKey is what a verdict is for: an asset on one network.
type domainKey struct {
	chainID uint64
	symbol  string
}

// SetDomainVerdict records v. While the verdict for an asset's current
// token, name and version on a network is a mismatch, requests in it
// advertise no x402 requirements for that network and PayAuthorization
// refuses authorizations on it (wrong_asset): every honest payer's
// authorization would be signed over the wrong domain, so the method is
// not offered there. The same asset on another network is judged by its
// own verdict. An asset not checked yet (offline since start) is offered:
// the offline check still refuses any authorization whose signature does
// not recover over the configured domain.
func (s *Service) SetDomainVerdict(v DomainVerdict) {
	if v.ChainID == 0 {
		v.ChainID = s.Config().ChainID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.domains == nil {
		s.domains = map[domainKey]DomainVerdict{}
	}
	s.domains[domainKey{v.ChainID, strings.ToUpper(v.Symbol)}] = v
}

// DomainVerdicts returns the verdicts recorded, for status, by chain id
// and symbol.
func (s *Service) DomainVerdicts() []DomainVerdict {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DomainVerdict, 0, len(s.domains))
	for _, v := range s.domains {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ChainID != out[j].ChainID {
			return out[i].ChainID < out[j].ChainID
		}
		return out[i].Symbol < out[j].Symbol
	})
	return out
}

// domainRefused reports whether a's domain on chain id is known not to be
// its token's.
func (s *Service) domainRefused(chainID uint64, a config.Asset) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.domains[domainKey{chainID, strings.ToUpper(a.Symbol)}]
	return ok && !v.Match && v.Token == a.Token && v.Name == a.DomainName && v.Version == a.DomainVersion
}
