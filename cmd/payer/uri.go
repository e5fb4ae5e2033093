package main

import (
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

// errURI: the scanned text is not one of the two EIP-681 forms a showpos
// terminal shows.
var errURI = errors.New("not a showpos EIP-681 payment URI")

// paymentURI is what a showpos QR code says:
//
//	ethereum:<merchant>@<chainId>?value=<wei>&req=<requestURL>
//	ethereum:<token>@<chainId>/transfer?address=<merchant>&uint256=<units>&req=<requestURL>
type paymentURI struct {
	Token      *common.Address // nil for the native coin
	Merchant   common.Address
	ChainID    uint64
	Amount     *big.Int // base units
	RequestURL string   // "" when the URI has no req
}

// parseURI reads exactly the two forms request.Request.URI writes, and
// nothing else: EIP-55 addresses, an explicit decimal chain id, canonical
// decimal amounts, the parameters in that order, each once, and req (if
// present) last and query-escaped. A general EIP-681 parser would accept
// more (ENS names, exponents, other functions); a payer that pays what it
// cannot check should not.
func parseURI(s string) (*paymentURI, error) {
	fail := func(format string, a ...any) (*paymentURI, error) {
		return nil, fmt.Errorf("%w: %s", errURI, fmt.Sprintf(format, a...))
	}
	rest, ok := strings.CutPrefix(s, "ethereum:")
	if !ok {
		return fail("no ethereum: scheme")
	}
	path, query, ok := strings.Cut(rest, "?")
	if !ok {
		return fail("no parameters")
	}
	target, chainPart, ok := strings.Cut(path, "@")
	if !ok {
		return fail("no @chainId")
	}
	chain, function, token := chainPart, "", false
	if c, f, ok := strings.Cut(chainPart, "/"); ok {
		chain, function, token = c, f, true
		if function != "transfer" {
			return fail("function %q, only transfer is paid", clip(function))
		}
	}
	addr, err := strictAddress(target)
	if err != nil {
		return fail("target: %v", err)
	}
	id, err := strictUint(chain, 64)
	if err != nil || id.Sign() == 0 {
		return fail("chain id %q is not a positive decimal", clip(chain))
	}
	u := &paymentURI{ChainID: id.Uint64()}
	want := []string{"value"}
	if token {
		want = []string{"address", "uint256"}
	}
	params := strings.Split(query, "&")
	if len(params) != len(want) && len(params) != len(want)+1 {
		return fail("%d parameters, want %s[&req]", len(params), strings.Join(want, "&"))
	}
	for i, p := range params {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return fail("parameter %q has no value", clip(p))
		}
		name := "req"
		if i < len(want) {
			name = want[i]
		}
		if k != name {
			return fail("parameter %d is %q, want %q", i+1, clip(k), name)
		}
		switch k {
		case "value", "uint256":
			if u.Amount, err = strictUint(v, 256); err != nil || u.Amount.Sign() == 0 {
				return fail("%s %q is not a positive decimal integer", k, clip(v))
			}
		case "address":
			if u.Merchant, err = strictAddress(v); err != nil {
				return fail("address: %v", err)
			}
		case "req":
			if u.RequestURL, err = url.QueryUnescape(v); err != nil || u.RequestURL == "" {
				return fail("req %q is not a query-escaped URL", clip(v))
			}
			if url.QueryEscape(u.RequestURL) != v {
				return fail("req is not escaped the way the terminal escapes it")
			}
			ru, err := url.Parse(u.RequestURL)
			if err != nil || (ru.Scheme != "http" && ru.Scheme != "https") || ru.Host == "" {
				return fail("req %q is not an absolute http(s) URL", clip(u.RequestURL))
			}
		}
	}
	if token {
		u.Token = &addr
	} else {
		u.Merchant = addr
	}
	return u, nil
}

// strictAddress accepts 0x and 40 hex digits with a valid EIP-55 checksum,
// the form the terminal writes.
func strictAddress(s string) (common.Address, error) {
	if !strings.HasPrefix(s, "0x") || !common.IsHexAddress(s) {
		return common.Address{}, fmt.Errorf("%q is not 0x and 40 hex digits", clip(s))
	}
	a := common.HexToAddress(s)
	if a.Hex() != s {
		return common.Address{}, fmt.Errorf("%q is not EIP-55 checksummed", s)
	}
	return a, nil
}

// strictUint accepts canonical decimal digits (no sign, no leading zero,
// no exponent) of a number below 2^bits.
func strictUint(s string, bits int) (*big.Int, error) {
	if s == "" || len(s) > 78 || (len(s) > 1 && s[0] == '0') || strings.Trim(s, "0123456789") != "" {
		return nil, fmt.Errorf("%q is not a canonical decimal integer", clip(s))
	}
	n, _ := new(big.Int).SetString(s, 10)
	if n.BitLen() > bits {
		return nil, fmt.Errorf("%s does not fit %d bits", s, bits)
	}
	return n, nil
}

// String is the URI in the terminal's form.
func (u *paymentURI) String() string {
	var b strings.Builder
	b.WriteString("ethereum:")
	chain := strconv.FormatUint(u.ChainID, 10)
	if u.Token == nil {
		b.WriteString(u.Merchant.Hex() + "@" + chain + "?value=" + u.Amount.String())
	} else {
		b.WriteString(u.Token.Hex() + "@" + chain + "/transfer?address=" + u.Merchant.Hex() + "&uint256=" + u.Amount.String())
	}
	if u.RequestURL != "" {
		b.WriteString("&req=" + url.QueryEscape(u.RequestURL))
	}
	return b.String()
}

// clip shortens s for a message.
func clip(s string) string {
	if len(s) > 48 {
		return s[:48] + "…"
	}
	return s
}
