package check

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// The authorization fixtures: the test chain, merchant and 6-decimal token
// of cases_test.go, USDC's domain, and a fixed now.
var (
	usdcDomain = Domain{Name: "USD Coin", Version: "2"}
	authNow    = time.Unix(1_800_000_000, 0)
	otherToken = common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e")
)

func authTerms() AuthorizationTerms {
	return AuthorizationTerms{Terms: tokenTerms(), Domain: usdcDomain, Now: authNow}
}

func authPolicy() Policy { return testPolicy() }

// authProducible is every code ParsePaymentPayload and CheckAuthorization
// return; each must have a case.
var authProducible = []Code{
	CodeInvalidPayload, CodeWrongChain, CodeWrongAsset, CodeWrongRecipient, CodeBadAuthorization,
	CodeUnderpaid, CodeOverpaid, CodeAuthorizationNotYetValid, CodeAuthorizationExpiresTooSoon,
	CodePaymentLimit,
}

// authMsg is an EIP-3009 TransferWithAuthorization with the domain it is
// signed over.
type authMsg struct {
	From, To                       common.Address
	Value, ValidAfter, ValidBefore *big.Int
	Nonce                          common.Hash
	Name, Version                  string
	ChainID                        *big.Int
	Token                          common.Address
}

// EIP-3009's type hash, as FiatToken declares it
// (TRANSFER_WITH_AUTHORIZATION_TYPEHASH).
var transferWithAuthorizationTypeHash = common.HexToHash("0x7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267")

// digestByHand is m's EIP-712 digest written out as FiatToken computes it
// (abi.encode of the type hash and the fields; the domain separator of
// name, version, chainId, verifyingContract), without go-ethereum's
// apitypes that the package uses.
func digestByHand(m authMsg) common.Hash {
	word := func(b []byte) []byte { return common.LeftPadBytes(b, 32) }
	domainType := crypto.Keccak256([]byte("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"))
	sep := crypto.Keccak256(domainType, crypto.Keccak256([]byte(m.Name)), crypto.Keccak256([]byte(m.Version)),
		word(m.ChainID.Bytes()), word(m.Token.Bytes()))
	st := crypto.Keccak256(transferWithAuthorizationTypeHash[:], word(m.From.Bytes()), word(m.To.Bytes()),
		word(m.Value.Bytes()), word(m.ValidAfter.Bytes()), word(m.ValidBefore.Bytes()), m.Nonce[:])
	return common.BytesToHash(crypto.Keccak256([]byte{0x19, 0x01}, sep, st))
}

// defaultMsg is a valid authorization of tokenTerms from p: validAfter 0
// and validBefore 25 hours on, as an x402 client makes with
// maxTimeoutSeconds of 25 hours.
func (p *payer) defaultMsg() authMsg {
	return authMsg{
		From: p.addr, To: merchant, Value: new(big.Int).Set(usdAmount),
		ValidAfter: big.NewInt(0), ValidBefore: big.NewInt(authNow.Unix() + 25*3600),
		Nonce: common.HexToHash("0x0b87a87514c60c2332d08122be1be90339700fa864e24b02865e1550ccd00239"),
		Name:  usdcDomain.Name, Version: usdcDomain.Version, ChainID: testChain, Token: token,
	}
}

// signAuth signs m's digest: r || s || v with v = 27 or 28.
func (p *payer) signAuth(m authMsg) []byte {
	p.tb.Helper()
	h := digestByHand(m)
	sig, err := crypto.Sign(h[:], p.key)
	if err != nil {
		p.tb.Fatal(err)
	}
	sig[64] += 27
	return sig
}

// payloadV2 is the x402 v2 payload @x402/evm's client makes for m, with
// mods applied to its JSON tree.
func payloadV2(m authMsg, sig []byte, mods ...func(map[string]any)) []byte {
	doc := map[string]any{
		"x402Version": 2,
		"resource":    map[string]any{"url": "https://pos.example/pay/r1", "description": "", "mimeType": ""},
		"accepted": map[string]any{
			"scheme": "exact", "network": "eip155:" + m.ChainID.String(), "amount": m.Value.String(),
			"asset": m.Token.Hex(), "payTo": m.To.Hex(), "maxTimeoutSeconds": 90000,
			"extra": map[string]any{"name": m.Name, "version": m.Version},
		},
		"payload": exactPayload(m, sig),
	}
	return marshalDoc(doc, mods)
}

// payloadV1 is an x402 v1 payload for m on network.
func payloadV1(m authMsg, sig []byte, network string, mods ...func(map[string]any)) []byte {
	doc := map[string]any{"x402Version": 1, "scheme": "exact", "network": network, "payload": exactPayload(m, sig)}
	return marshalDoc(doc, mods)
}

func exactPayload(m authMsg, sig []byte) map[string]any {
	return map[string]any{
		"signature": "0x" + hex.EncodeToString(sig),
		"authorization": map[string]any{
			"from": m.From.Hex(), "to": m.To.Hex(), "value": m.Value.String(),
			"validAfter": m.ValidAfter.String(), "validBefore": m.ValidBefore.String(),
			"nonce": m.Nonce.Hex(),
		},
	}
}

func marshalDoc(doc map[string]any, mods []func(map[string]any)) []byte {
	for _, f := range mods {
		f(doc)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

// set puts raw (a JSON text) at the dotted path; del removes it.
func set(path, raw string) func(map[string]any) {
	return func(doc map[string]any) {
		parts := strings.Split(path, ".")
		for _, k := range parts[:len(parts)-1] {
			doc = doc[k].(map[string]any)
		}
		doc[parts[len(parts)-1]] = json.RawMessage(raw)
	}
}

func del(path string) func(map[string]any) {
	return func(doc map[string]any) {
		parts := strings.Split(path, ".")
		for _, k := range parts[:len(parts)-1] {
			doc = doc[k].(map[string]any)
		}
		delete(doc, parts[len(parts)-1])
	}
}

func q(s string) string { return strconv.Quote(s) }

// authCase is one row of the authorization's specification: a payload
// in, either a payment (code "") or a refusal whose message contains msg.
type authCase struct {
	name  string
	raw   []byte
	terms AuthorizationTerms
	pol   Policy
	code  Code
	msg   string

	// for accepted payments
	from common.Address
	paid *big.Int
	id   common.Hash
}

func authCases(tb testing.TB) []authCase {
	p := newPayer(tb)
	base := p.defaultMsg()
	sig := p.signAuth(base)
	id := digestByHand(base)
	const au = "payload.authorization."
	hexSig := hex.EncodeToString(sig)

	// signed returns base changed by f, and its signature.
	signed := func(f func(*authMsg)) (authMsg, []byte) {
		m := base
		f(&m)
		return m, p.signAuth(m)
	}
	// v2 is a payload of base changed by f, signed, with mods.
	v2 := func(f func(*authMsg), mods ...func(map[string]any)) []byte {
		m, s := signed(f)
		return payloadV2(m, s, mods...)
	}
	ok := func(name string, raw []byte) authCase {
		return authCase{name: name, raw: raw, terms: authTerms(), pol: authPolicy(), from: p.addr, paid: usdAmount, id: id}
	}
	no := func(name string, raw []byte, code Code, msg string) authCase {
		return authCase{name: name, raw: raw, terms: authTerms(), pol: authPolicy(), code: code, msg: msg}
	}
	sigWith := func(f func(b []byte)) string {
		b := bytes.Clone(sig)
		f(b)
		return q("0x" + hex.EncodeToString(b))
	}
	n := crypto.S256().Params().N
	highS := sigWith(func(b []byte) {
		s := new(big.Int).Sub(n, new(big.Int).SetBytes(b[32:64]))
		copy(b[32:64], common.LeftPadBytes(s.Bytes(), 32))
		b[64] = 27 + 28 - b[64] // the other recovery id: the same key signs (r, N-s)
	})
	pow256 := "0x1" + strings.Repeat("0", 64)
	max256 := "0x" + strings.Repeat("f", 64)
	value := base.Value.String()
	nonceHex := hex.EncodeToString(base.Nonce[:])
	fromHex := hex.EncodeToString(base.From[:])
	bigPayload := payloadV2(base, sig, set("resource.description", q(strings.Repeat("x", MaxPaymentPayloadSize))))

	cases := []authCase{
		// Accepted: what clients send, in every encoding they send it.
		ok("v2 as an x402 client makes it", payloadV2(base, sig)),
		ok("v2 without resource", payloadV2(base, sig, del("resource"))),
		ok("v2 with extensions", payloadV2(base, sig, set("extensions", `{"bazaar":{"info":{}}}`))),
		ok("v2 with assetTransferMethod eip3009", payloadV2(base, sig, set("accepted.extra.assetTransferMethod", q("eip3009")))),
		ok("v1 on a named network", payloadV1(base, sig, "sepolia")),
		ok("v1 on a CAIP-2 network", payloadV1(base, sig, "eip155:11155111")),
		ok("v as 0 or 1", payloadV2(base, sig, set("payload.signature", sigWith(func(b []byte) { b[64] -= 27 })))),
		ok("signature with 0X and upper-case hex", payloadV2(base, sig, set("payload.signature", q("0X"+strings.ToUpper(hexSig))))),
		ok("signature without a prefix", payloadV2(base, sig, set("payload.signature", q(hexSig)))),
		ok("value as 0x hex", payloadV2(base, sig, set(au+"value", q("0x"+base.Value.Text(16))))),
		ok("value as 0X upper-case hex", payloadV2(base, sig, set(au+"value", q("0X"+strings.ToUpper(base.Value.Text(16)))))),
		ok("value with leading zeros", payloadV2(base, sig, set(au+"value", q("0000"+value)))),
		ok("value as hex with leading zeros", payloadV2(base, sig, set(au+"value", q("0x"+strings.Repeat("0", 60)+base.Value.Text(16))))),
		ok("value as a JSON integer", payloadV2(base, sig, set(au+"value", value))),
		ok("validAfter as a JSON integer 0", payloadV2(base, sig, set(au+"validAfter", "0"))),
		ok("validAfter as 0x0", payloadV2(base, sig, set(au+"validAfter", q("0x0")))),
		ok("validBefore as hex", payloadV2(base, sig, set(au+"validBefore", q("0x"+base.ValidBefore.Text(16))))),
		ok("nonce with 0X", payloadV2(base, sig, set(au+"nonce", q("0X"+nonceHex)))),
		ok("nonce without a prefix", payloadV2(base, sig, set(au+"nonce", q(nonceHex)))),
		ok("from in lower case", payloadV2(base, sig, set(au+"from", q("0x"+fromHex)))),
		ok("from in upper case with 0X", payloadV2(base, sig, set(au+"from", q("0X"+strings.ToUpper(fromHex))))),
		ok("accepted.amount as a JSON integer", payloadV2(base, sig, set("accepted.amount", value))),
		ok("JSON escapes in a string", payloadV2(base, sig, set(au+"value", `"\u0031\u0032340000"`))),
		{name: "v1 a little after validAfter, as @x402/evm's v1 client makes it (now - 600)",
			raw: func() []byte {
				m, s := signed(func(m *authMsg) { m.ValidAfter = big.NewInt(authNow.Unix() - 600) })
				return payloadV1(m, s, "sepolia")
			}(), terms: authTerms(), pol: authPolicy(), from: p.addr, paid: usdAmount,
			id: digestByHand(func() authMsg { m := base; m.ValidAfter = big.NewInt(authNow.Unix() - 600); return m }())},

		// Not a payload.
		no("not JSON", []byte("{0x02f8"), CodeInvalidPayload, "invalid JSON"),
		no("a raw transaction", []byte("0x02f8"), CodeInvalidPayload, "data after"),
		no("empty", nil, CodeInvalidPayload, "invalid JSON"),
		no("data after the payload", append(payloadV2(base, sig), " {}"...), CodeInvalidPayload, "data after"),
		no("too large", bigPayload, CodeInvalidPayload, "at most 16384"),
		no("a JSON array", []byte("[]"), CodeInvalidPayload, "cannot unmarshal array"),
		no("unknown member", payloadV2(base, sig, set("memo", q("hi"))), CodeInvalidPayload, `unknown member "memo"`),
		no("member in another case", payloadV2(base, sig, set(au+"Value", q(value)), del(au+"value")), CodeInvalidPayload, `unknown member "Value"`),
		no("duplicate member", bytes.Replace(payloadV2(base, sig), []byte(`"value":`), []byte(`"value":"1","value":`), 1), CodeInvalidPayload, `duplicate member "value"`),
		no("permit2 payload", payloadV2(base, sig, set("payload.permit2Authorization", "{}")), CodeInvalidPayload, `unknown member "permit2Authorization"`),
		no("no x402Version", payloadV2(base, sig, del("x402Version")), CodeInvalidPayload, "x402Version missing"),
		no("x402Version 3", payloadV2(base, sig, set("x402Version", "3")), CodeInvalidPayload, "x402Version 3"),
		no("x402Version as a string", payloadV2(base, sig, set("x402Version", q("2"))), CodeInvalidPayload, "x402Version"),
		no("v1 with accepted", payloadV2(base, sig, set("x402Version", "1")), CodeInvalidPayload, "accepted is x402 v2's"),
		no("v1 with extensions", payloadV1(base, sig, "sepolia", set("extensions", "{}")), CodeInvalidPayload, "x402 v2's"),
		no("v1 without scheme", payloadV1(base, sig, "sepolia", del("scheme")), CodeInvalidPayload, "scheme missing"),
		no("v1 without network", payloadV1(base, sig, "sepolia", del("network")), CodeInvalidPayload, "network missing"),
		no("v1 with an empty network", payloadV1(base, sig, ""), CodeInvalidPayload, "network is 0 bytes"),
		no("v1 with a 65-byte network", payloadV1(base, sig, strings.Repeat("n", 65)), CodeInvalidPayload, "network is 65 bytes"),
		no("v2 with a top-level network", payloadV2(base, sig, set("network", q("eip155:11155111"))), CodeInvalidPayload, "not at the top"),
		no("v2 without accepted", payloadV2(base, sig, del("accepted")), CodeInvalidPayload, "accepted missing"),
		no("scheme upto", payloadV2(base, sig, set("accepted.scheme", q("upto"))), CodeInvalidPayload, `"upto"`),
		no("v1 scheme upto", payloadV1(base, sig, "sepolia", set("scheme", q("upto"))), CodeInvalidPayload, `scheme "upto"`),
		no("no extra", payloadV2(base, sig, del("accepted.extra")), CodeInvalidPayload, "domain name and version"),
		no("extra without version", payloadV2(base, sig, del("accepted.extra.version")), CodeInvalidPayload, "domain name and version"),
		no("assetTransferMethod permit2", payloadV2(base, sig, set("accepted.extra.assetTransferMethod", q("permit2"))), CodeInvalidPayload, "eip3009 authorizations only"),
		no("unknown member in extra", payloadV2(base, sig, set("accepted.extra.feePayer", q("x"))), CodeInvalidPayload, `unknown member "feePayer"`),
		no("accepted.amount missing", payloadV2(base, sig, del("accepted.amount")), CodeInvalidPayload, "accepted.amount missing"),
		no("accepted.maxTimeoutSeconds a fraction", payloadV2(base, sig, set("accepted.maxTimeoutSeconds", "90.5")), CodeInvalidPayload, "accepted.maxTimeoutSeconds"),
		no("accepted.asset 19 bytes", payloadV2(base, sig, set("accepted.asset", q(token.Hex()[:40]))), CodeInvalidPayload, "accepted.asset is 38 hex digits, want 40"),
		no("accepted.payTo missing", payloadV2(base, sig, del("accepted.payTo")), CodeInvalidPayload, "accepted.payTo missing"),
		no("no payload", payloadV2(base, sig, del("payload")), CodeInvalidPayload, "payload missing"),
		no("no authorization", payloadV2(base, sig, del("payload.authorization")), CodeInvalidPayload, "payload.authorization missing"),
		no("no signature", payloadV2(base, sig, del("payload.signature")), CodeInvalidPayload, "payload.signature missing"),
		no("signature of odd length", payloadV2(base, sig, set("payload.signature", q("0x"+hexSig[1:]))), CodeInvalidPayload, "whole number of bytes"),
		no("signature not hex", payloadV2(base, sig, set("payload.signature", q("0x"+hexSig[2:]+"zz"))), CodeInvalidPayload, "payload.signature is not hex"),
		no("signature empty", payloadV2(base, sig, set("payload.signature", q("0x"))), CodeInvalidPayload, "payload.signature is 0 hex digits"),
		no("signature oversize", payloadV2(base, sig, set("payload.signature", q("0x"+strings.Repeat("ab", 513)))), CodeInvalidPayload, "at most 1024"),
		no("signature as a number", payloadV2(base, sig, set("payload.signature", "1")), CodeInvalidPayload, "payload"),
		no("from missing", payloadV2(base, sig, del(au+"from")), CodeInvalidPayload, "authorization.from missing"),
		no("from 21 bytes", payloadV2(base, sig, set(au+"from", q("0x00"+fromHex))), CodeInvalidPayload, "from is 42 hex digits, want 40"),
		no("from with a wrong checksum", payloadV2(base, sig, set(au+"from", q("0x"+flipCase(base.From.Hex()[2:])))), CodeInvalidPayload, "EIP-55"),
		no("to not hex", payloadV2(base, sig, set(au+"to", q("0x"+strings.Repeat("g", 40)))), CodeInvalidPayload, "authorization.to is not hex"),
		no("value missing", payloadV2(base, sig, del(au+"value")), CodeInvalidPayload, "authorization.value missing"),
		no("value null", payloadV2(base, sig, set(au+"value", "null")), CodeInvalidPayload, "authorization.value null is not"),
		no("value empty", payloadV2(base, sig, set(au+"value", q(""))), CodeInvalidPayload, "authorization.value"),
		no("value 0x alone", payloadV2(base, sig, set(au+"value", q("0x"))), CodeInvalidPayload, "authorization.value"),
		no("value negative", payloadV2(base, sig, set(au+"value", q("-"+value))), CodeInvalidPayload, "authorization.value"),
		no("value negative JSON", payloadV2(base, sig, set(au+"value", "-"+value)), CodeInvalidPayload, "authorization.value"),
		no("value a fraction", payloadV2(base, sig, set(au+"value", "12340000.0")), CodeInvalidPayload, "authorization.value"),
		no("value with an exponent", payloadV2(base, sig, set(au+"value", "1234e4")), CodeInvalidPayload, "authorization.value"),
		no("value with a space", payloadV2(base, sig, set(au+"value", q(" "+value))), CodeInvalidPayload, "authorization.value"),
		no("value hex without digits after 0X", payloadV2(base, sig, set(au+"value", q("0X"))), CodeInvalidPayload, "authorization.value"),
		no("value as hex in a JSON number", bytes.Replace(payloadV2(base, sig), []byte(`"value":"`+value+`"`), []byte(`"value":0x1`), 1), CodeInvalidPayload, "invalid JSON"),
		no("value 2^256", payloadV2(base, sig, set(au+"value", q(pow256))), CodeInvalidPayload, "over 2^256-1"),
		no("value 2^256 in decimal", payloadV2(base, sig, set(au+"value", q(new(big.Int).Lsh(big.NewInt(1), 256).String()))), CodeInvalidPayload, "over 2^256-1"),
		no("value 101 characters", payloadV2(base, sig, set(au+"value", q(strings.Repeat("0", 101-len(value))+value))), CodeInvalidPayload, "101 characters, at most 100"),
		no("validAfter missing", payloadV2(base, sig, del(au+"validAfter")), CodeInvalidPayload, "validAfter missing"),
		no("validBefore an object", payloadV2(base, sig, set(au+"validBefore", `{"n":1}`)), CodeInvalidPayload, "validBefore"),
		no("nonce missing", payloadV2(base, sig, del(au+"nonce")), CodeInvalidPayload, "nonce missing"),
		no("nonce 31 bytes", payloadV2(base, sig, set(au+"nonce", q("0x"+nonceHex[2:]))), CodeInvalidPayload, "nonce is 62 hex digits, want 64"),
		no("nonce 33 bytes", payloadV2(base, sig, set(au+"nonce", q("0x00"+nonceHex))), CodeInvalidPayload, "nonce is 66 hex digits, want 64"),
		no("nonce as a number", payloadV2(base, sig, set(au+"nonce", "7")), CodeInvalidPayload, "nonce"),

		// The wrong network, asset, recipient.
		no("v2 on another chain", payloadV2(base, sig, set("accepted.network", q("eip155:1"))), CodeWrongChain, "eip155:1, this terminal is on eip155:11155111"),
		no("v1 on another named network", payloadV1(base, sig, "base"), CodeWrongChain, "base"),
		no("a v1 network name in v2", payloadV2(base, sig, set("accepted.network", q("sepolia"))), CodeWrongChain, "not eip155"),
		no("not an EVM network", payloadV2(base, sig, set("accepted.network", q("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"))), CodeWrongChain, "not eip155"),
		no("chain id with a leading zero", payloadV2(base, sig, set("accepted.network", q("eip155:011155111"))), CodeWrongChain, "not eip155"),
		no("chain id over 64 bits", payloadV2(base, sig, set("accepted.network", q("eip155:18446744073709551616"))), CodeWrongChain, "not eip155"),
		no("accepted another asset", payloadV2(base, sig, set("accepted.asset", q(otherToken.Hex()))), CodeWrongAsset, "accepted asset "+otherToken.Hex()),
		no("accepted another domain name", v2(func(m *authMsg) { m.Name = "USDC" }), CodeWrongAsset, `domain "USDC" version "2"`),
		no("accepted another domain version", v2(func(m *authMsg) { m.Version = "1" }), CodeWrongAsset, `version "1"`),
		no("accepted another payTo", payloadV2(base, sig, set("accepted.payTo", q(stranger.Hex()))), CodeWrongRecipient, "accepted payTo"),
		no("authorizes a transfer to another", v2(func(m *authMsg) { m.To = stranger }, set("accepted.payTo", q(merchant.Hex()))), CodeWrongRecipient, "transfer to "+stranger.Hex()),

		// The signature.
		no("from is not the signer", payloadV2(base, sig, set(au+"from", q(stranger.Hex()))), CodeBadAuthorization, "not by from "+stranger.Hex()),
		no("value changed after signing", payloadV2(base, sig, set(au+"value", q("12340001"))), CodeBadAuthorization, "not by from"),
		no("signed for another chain", func() []byte {
			m, s := signed(func(m *authMsg) { m.ChainID = otherChain })
			m.ChainID = testChain
			return payloadV2(m, s)
		}(), CodeBadAuthorization, "not by from"),
		no("signed for another token contract (v1 names none)", func() []byte {
			m, s := signed(func(m *authMsg) { m.Token = otherToken })
			return payloadV1(m, s, "sepolia")
		}(), CodeBadAuthorization, "not by from"),
		no("signed over another domain name (v1)", func() []byte {
			m, s := signed(func(m *authMsg) { m.Name = "USDC" })
			return payloadV1(m, s, "sepolia")
		}(), CodeBadAuthorization, "not by from"),
		no("high s", payloadV2(base, sig, set("payload.signature", highS)), CodeBadAuthorization, "upper half"),
		no("v 29", payloadV2(base, sig, set("payload.signature", sigWith(func(b []byte) { b[64] = 29 }))), CodeBadAuthorization, "v is 29"),
		no("v 2", payloadV2(base, sig, set("payload.signature", sigWith(func(b []byte) { b[64] = 2 }))), CodeBadAuthorization, "v is 2"),
		no("r zero", payloadV2(base, sig, set("payload.signature", sigWith(func(b []byte) { clear(b[:32]) }))), CodeBadAuthorization, "out of range"),
		no("s zero", payloadV2(base, sig, set("payload.signature", sigWith(func(b []byte) { clear(b[32:64]) }))), CodeBadAuthorization, "out of range"),
		no("r not on the curve", payloadV2(base, sig, set("payload.signature", sigWith(func(b []byte) { copy(b[:32], common.LeftPadBytes([]byte{5}, 32)) }))), CodeBadAuthorization, ""),
		no("signature 64 bytes (EIP-2098)", payloadV2(base, sig, set("payload.signature", q("0x"+hexSig[:128]))), CodeBadAuthorization, "64 bytes"),
		no("signature 66 bytes", payloadV2(base, sig, set("payload.signature", q("0x"+hexSig+"00"))), CodeBadAuthorization, "66 bytes"),
		no("a smart wallet's signature", payloadV2(base, sig, set("payload.signature", q("0x"+strings.Repeat("ab", 200)))), CodeBadAuthorization, "smart-wallet"),

		// Amount, time, limit.
		no("underpaid", v2(func(m *authMsg) { m.Value = add(usdAmount, -1) }), CodeUnderpaid, "paid 12.339999 USDC, request is 12.34 USDC"),
		no("overpaid", v2(func(m *authMsg) { m.Value = add(usdAmount, 1) }), CodeOverpaid, "overpayment is not accepted"),
		no("value zero", v2(func(m *authMsg) { m.Value = new(big.Int) }), CodeUnderpaid, "paid 0 USDC"),
		no("value the most uint256 holds", payloadV2(base, sig, set(au+"value", q(max256))), CodeBadAuthorization, "not by from"),
		no("not yet valid", v2(func(m *authMsg) { m.ValidAfter = big.NewInt(authNow.Unix() + 1) }), CodeAuthorizationNotYetValid, "valid after 1800000001"),
		no("valid after 2^256-1", v2(func(m *authMsg) { m.ValidAfter, _ = new(big.Int).SetString(max256[2:], 16) }), CodeAuthorizationNotYetValid, "valid after 1157920892"),
		no("expires a second too soon", v2(func(m *authMsg) { m.ValidBefore = big.NewInt(authNow.Unix() + 24*3600 - 1) }), CodeAuthorizationExpiresTooSoon, "24h0m0s from now"),
		no("expires in 5 minutes, as x402's default maxTimeoutSeconds", v2(func(m *authMsg) { m.ValidBefore = big.NewInt(authNow.Unix() + 300) }), CodeAuthorizationExpiresTooSoon, "valid before 1800000300 (2027-01-15T08:05:00Z)"),
		no("already expired", v2(func(m *authMsg) { m.ValidBefore = big.NewInt(0) }), CodeAuthorizationExpiresTooSoon, "valid before 0"),
		no("v1 as @x402/evm makes it with 60 seconds", func() []byte {
			m, s := signed(func(m *authMsg) {
				m.ValidAfter, m.ValidBefore = big.NewInt(authNow.Unix()-600), big.NewInt(authNow.Unix()+60)
			})
			return payloadV1(m, s, "sepolia")
		}(), CodeAuthorizationExpiresTooSoon, "valid before"),
	}

	// Boundaries and policies.
	exactly := func(m *authMsg) {
		m.ValidAfter, m.ValidBefore = big.NewInt(authNow.Unix()), big.NewInt(authNow.Unix()+24*3600)
	}
	m, s := signed(exactly)
	cases = append(cases, authCase{name: "valid from now until exactly now + the settle window", raw: payloadV2(m, s),
		terms: authTerms(), pol: authPolicy(), from: p.addr, paid: usdAmount, id: digestByHand(m)})
	hour := func(m *authMsg) { m.ValidBefore = big.NewInt(authNow.Unix() + 3600) }
	m, s = signed(hour)
	cases = append(cases,
		authCase{name: "an hour is enough with a settle window of an hour", raw: payloadV2(m, s), terms: authTerms(),
			pol: withPolicy(func(p *Policy) { p.SettleWindow = time.Hour }), from: p.addr, paid: usdAmount, id: digestByHand(m)},
		authCase{name: "an hour is not enough by default", raw: payloadV2(m, s), terms: authTerms(), pol: authPolicy(),
			code: CodeAuthorizationExpiresTooSoon, msg: "24h0m0s"},
		authCase{name: "an hour is not enough with a settle window of 61 minutes", raw: payloadV2(m, s), terms: authTerms(),
			pol: withPolicy(func(p *Policy) { p.SettleWindow = 61 * time.Minute }), code: CodeAuthorizationExpiresTooSoon, msg: "1h1m0s"},
	)
	more := func(m *authMsg) { m.Value = add(usdAmount, 10_000) }
	m, s = signed(more)
	cases = append(cases,
		authCase{name: "overpaid with overpay allowed", raw: payloadV2(m, s), terms: authTerms(),
			pol: withPolicy(func(p *Policy) { p.AllowOverpay = true }), from: p.addr, paid: m.Value, id: digestByHand(m)},
		authCase{name: "overpaid above the per-payment limit", raw: payloadV2(m, s),
			terms: func() AuthorizationTerms { t := authTerms(); t.MaxPayment = add(usdAmount, 9_999); return t }(),
			pol:   withPolicy(func(p *Policy) { p.AllowOverpay = true }), code: CodePaymentLimit, msg: "above the limit of 12.349999 USDC"},
	)
	return cases
}

// flipCase swaps the case of every letter of s (an address's hex), which
// breaks its EIP-55 checksum while keeping it mixed-case.
func flipCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'f':
			b[i] = c - 32
		case 'A' <= c && c <= 'F':
			b[i] = c + 32
		}
	}
	return string(b)
}
