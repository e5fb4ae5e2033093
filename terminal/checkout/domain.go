package checkout

import (
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/config"
)

// DomainVerdict is what the chain said of an authorizing asset's
// configured EIP-712 domain: whether the token's DOMAIN_SEPARATOR() is the
// one the terminal computes from domain_name, domain_version, the chain id
// and the token (sync/tokendomain asks it when online).
type DomainVerdict struct {
	Symbol    string         `json:"symbol"`
	Token     common.Address `json:"token"`
	Name      string         `json:"domainName"`
	Version   string         `json:"domainVersion"`
	Match     bool           `json:"match"`
	Want      common.Hash    `json:"computed"` // what the config says
	Got       common.Hash    `json:"onChain"`  // what the token answered
	CheckedAt time.Time      `json:"checkedAt"`
}

// SetDomainVerdict records v. While the verdict for an asset's current
// token, name and version is a mismatch, requests in it advertise no x402
// requirements and PayAuthorization refuses (wrong_asset): every honest
// payer's authorization would be signed over the wrong domain, so the
// method is not offered. An asset not checked yet (offline since start)
// is offered: the offline check still refuses any authorization whose
// signature does not recover over the configured domain.
func (s *Service) SetDomainVerdict(v DomainVerdict) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.domains == nil {
		s.domains = map[string]DomainVerdict{}
	}
	s.domains[v.Symbol] = v
}

// DomainVerdicts returns the verdicts recorded, for status.
func (s *Service) DomainVerdicts() []DomainVerdict {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DomainVerdict, 0, len(s.domains))
	for _, v := range s.domains {
		out = append(out, v)
	}
	return out
}

// domainRefused reports whether a's domain is known not to be its token's.
func (s *Service) domainRefused(a config.Asset) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.domains[a.Symbol]
	return ok && !v.Match && v.Token == a.Token && v.Name == a.DomainName && v.Version == a.DomainVersion
}
