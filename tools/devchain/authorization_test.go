package devchain

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"math/big"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"showpos/tools/jstools"
)

// The EIP-3009 function signatures (FiatToken v2.2's), by which the tests
// pick overloads: go-ethereum names overloads by their order in the ABI.
const (
	sigTransferVRS   = "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"
	sigTransferBytes = "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"
	sigReceiveVRS    = "receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"
	sigReceiveBytes  = "receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"
	sigCancelVRS     = "cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)"
	sigCancelBytes   = "cancelAuthorization(address,bytes32,bytes)"
)

// FiatToken v2.2's revert strings, which the token reproduces.
const (
	errUsed      = "FiatTokenV2: authorization is used or canceled"
	errNotYet    = "FiatTokenV2: authorization is not yet valid"
	errExpired   = "FiatTokenV2: authorization is expired"
	errBadSig    = "FiatTokenV2: invalid signature"
	errNotPayee  = "FiatTokenV2: caller must be the payee"
	errHighS     = "ECRecover: invalid signature 's' value"
	errBadV      = "ECRecover: invalid signature 'v' value"
	errSigLength = "ECRecover: invalid signature length"
)

// jsSigner returns tools/js with ethers installed, or skips (fails when
// SHOWPOS_REQUIRE_JS=1, as in CI).
func jsSigner(t *testing.T) string { return jstools.Dir(t, "ethers") }

// ethersSign signs td with key by ethers v6 Wallet.signTypedData
// (tools/js/sign3009.mjs) and returns the 65-byte signature.
func ethersSign(t *testing.T, dir string, key *ecdsa.PrivateKey, td apitypes.TypedData) []byte {
	t.Helper()
	domain := map[string]any{
		"name": td.Domain.Name, "version": td.Domain.Version,
		"chainId": (*big.Int)(td.Domain.ChainId).String(), "verifyingContract": td.Domain.VerifyingContract,
	}
	msg := map[string]any{}
	for k, v := range td.Message {
		if b, ok := v.(*big.Int); ok {
			v = b.String()
		}
		msg[k] = v
	}
	req, err := json.Marshal(map[string]any{
		"privateKey": hexutil.Encode(crypto.FromECDSA(key)),
		"domain":     domain,
		"types":      map[string][]apitypes.Type{td.PrimaryType: td.Types[td.PrimaryType]},
		"message":    msg,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "sign3009.mjs"))
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node sign3009.mjs: %v\n%s", err, stderr.Bytes())
	}
	var out struct {
		Signature hexutil.Bytes `json:"signature"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || len(out.Signature) != 65 {
		t.Fatalf("sign3009.mjs printed %q (%v)", stdout.Bytes(), err)
	}
	return out.Signature
}

// packSig ABI-encodes a call of the token's function with signature sig.
func packSig(t *testing.T, sig string, args ...any) []byte {
	t.Helper()
	for _, m := range tokenABI.Methods {
		if m.Sig == sig {
			in, err := m.Inputs.Pack(args...)
			if err != nil {
				t.Fatalf("pack %s: %v", sig, err)
			}
			return append(append([]byte{}, m.ID...), in...)
		}
	}
	t.Fatalf("the token has no function %s", sig)
	return nil
}

// authCall is the calldata of sig (a transfer or receive overload) for a
// signed with sig65.
func authCall(t *testing.T, sig string, a Authorization, sig65 []byte) []byte {
	t.Helper()
	if strings.HasSuffix(sig, ",bytes)") {
		return packSig(t, sig, a.From, a.To, a.Value, a.ValidAfter, a.ValidBefore, a.Nonce, sig65)
	}
	return packSig(t, sig, a.From, a.To, a.Value, a.ValidAfter, a.ValidBefore, a.Nonce,
		sig65[64], common.BytesToHash(sig65[:32]), common.BytesToHash(sig65[32:64]))
}

// chainNow is the latest block's timestamp: what block.timestamp is near.
func chainNow(t *testing.T, ec *ethclient.Client) int64 {
	t.Helper()
	h, err := ec.HeaderByNumber(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return int64(h.Time)
}

// relay has from call the token with data, expecting the revert reason
// wantErr ("" for success), checked first by eth_call (which gives the
// reason) and then by a mined transaction's receipt status.
func relay(t *testing.T, c *Chain, ec *ethclient.Client, from Account, data []byte, wantErr string) *types.Receipt {
	t.Helper()
	_, err := ec.CallContract(context.Background(), ethereum.CallMsg{From: from.Address, To: &TokenAddr, Data: data}, nil)
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("eth_call reverted: %v", err)
	case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
		t.Fatalf("eth_call error = %v, want a revert with %q", err, wantErr)
	}
	nonce, err := ec.PendingNonceAt(context.Background(), from.Address)
	if err != nil {
		t.Fatal(err)
	}
	tx := signTx(t, c, from, nonce, TokenAddr, new(big.Int), 200_000, data)
	if err := ec.SendTransaction(context.Background(), tx); err != nil {
		t.Fatalf("send: %v", err)
	}
	r, _ := waitReceipt(t, ec, tx.Hash())
	if want := map[bool]uint64{true: 1, false: 0}[wantErr == ""]; r.Status != want {
		t.Fatalf("receipt status %d, want %d (want error %q)", r.Status, want, wantErr)
	}
	return r
}

func authorizationState(t *testing.T, ec *ethclient.Client, who common.Address, nonce common.Hash) bool {
	t.Helper()
	return callToken(t, ec, "authorizationState", who, nonce).(bool)
}

// The token's domain is the one a wallet signs over: DOMAIN_SEPARATOR()
// equals go-ethereum's EIP-712 hash of (TokenName, TokenVersion, chain id,
// TokenAddr), on two chains of different ids (the chain id is read at call
// time, not frozen in the code), and the typehashes are EIP-3009's.
func TestTokenDomainSeparatorIsEIP712(t *testing.T) {
	for _, id := range []uint64{DefaultChainID, 84532} {
		c := startChain(t, Options{ChainID: id, Payers: 1})
		ec := dial(t, c)
		td := apitypes.TypedData{Types: authorizationTypes, Domain: TokenDomain(c.ChainID())}
		want, err := td.HashStruct("EIP712Domain", td.Domain.Map())
		if err != nil {
			t.Fatal(err)
		}
		got := callToken(t, ec, "DOMAIN_SEPARATOR").([32]byte)
		if !bytes.Equal(got[:], want) {
			t.Errorf("chain %d: DOMAIN_SEPARATOR() = %x, want %x", id, got, want)
		}
		if v := callToken(t, ec, "version").(string); v != TokenVersion {
			t.Errorf("version() = %q, want %q", v, TokenVersion)
		}
		if n := callToken(t, ec, "name").(string); n != TokenName {
			t.Errorf("name() = %q, want %q", n, TokenName)
		}
	}
	c := startChain(t, Options{Payers: 1})
	ec := dial(t, c)
	for getter, typ := range map[string]string{
		"TRANSFER_WITH_AUTHORIZATION_TYPEHASH": "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)",
		"RECEIVE_WITH_AUTHORIZATION_TYPEHASH":  "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)",
		"CANCEL_AUTHORIZATION_TYPEHASH":        "CancelAuthorization(address authorizer,bytes32 nonce)",
	} {
		got := callToken(t, ec, getter).([32]byte)
		if want := crypto.Keccak256Hash([]byte(typ)); common.Hash(got) != want {
			t.Errorf("%s() = %x, want keccak256(%q) = %s", getter, got, typ, want)
		}
	}
}

// An authorization signed by ethers v6 (as a wallet would sign it) and
// submitted by a relayer moves the tokens and emits AuthorizationUsed; every
// way of breaking it reverts with FiatToken v2.2's reason and moves nothing.
// SignAuthorization gives the very same bytes as ethers (both sign with
// RFC 6979), so Go tests and cmd/payer may use it.
func TestTransferWithAuthorization(t *testing.T) {
	js := jsSigner(t)
	c := startChain(t, Options{Payers: 4})
	ec := dial(t, c)
	all := payers(4)
	payer, merchant, relayer, other := all[0], all[1], all[2], all[3]
	now := chainNow(t, ec)
	nonceN := byte(0)
	auth := func(edit func(*Authorization)) Authorization {
		nonceN++
		a := Authorization{
			From: payer.Address, To: merchant.Address, Value: big.NewInt(1_250_000),
			ValidAfter: big.NewInt(now - 60), ValidBefore: big.NewInt(now + 3600),
			Nonce: crypto.Keccak256Hash([]byte("showpos test nonce"), []byte{nonceN}),
		}
		if edit != nil {
			edit(&a)
		}
		return a
	}
	sign := func(key *ecdsa.PrivateKey, a Authorization) []byte {
		return ethersSign(t, js, key, AuthorizationTypedData(c.ChainID(), TransferWithAuthorization, a))
	}

	// The good one, v,r,s form.
	good := auth(nil)
	sig := sign(payer.Key, good)
	if goSig, err := SignAuthorization(payer.Key, c.ChainID(), good); err != nil || !bytes.Equal(goSig, sig) {
		t.Fatalf("SignAuthorization = %x (%v), ethers signed %x", goSig, err, sig)
	}
	if authorizationState(t, ec, payer.Address, good.Nonce) {
		t.Fatal("authorizationState is true before use")
	}
	before, merchantBefore := tokenBalance(t, ec, payer.Address), tokenBalance(t, ec, merchant.Address)
	r := relay(t, c, ec, relayer, authCall(t, sigTransferVRS, good, sig), "")
	if got := tokenBalance(t, ec, payer.Address); new(big.Int).Sub(before, got).Cmp(good.Value) != 0 {
		t.Errorf("payer balance %v → %v, want %v less", before, got, good.Value)
	}
	if got := tokenBalance(t, ec, merchant.Address); new(big.Int).Sub(got, merchantBefore).Cmp(good.Value) != 0 {
		t.Errorf("merchant balance %v → %v, want %v more", merchantBefore, got, good.Value)
	}
	if !authorizationState(t, ec, payer.Address, good.Nonce) {
		t.Error("authorizationState is false after use")
	}
	used := tokenABI.Events["AuthorizationUsed"].ID
	var sawUsed, sawTransfer bool
	for _, l := range r.Logs {
		switch {
		case l.Topics[0] == used:
			sawUsed = len(l.Topics) == 3 && l.Topics[1] == common.BytesToHash(payer.Address.Bytes()) && l.Topics[2] == good.Nonce
		case l.Topics[0] == tokenABI.Events["Transfer"].ID:
			sawTransfer = true
		}
	}
	if !sawUsed || !sawTransfer || used != crypto.Keccak256Hash([]byte("AuthorizationUsed(address,bytes32)")) {
		t.Errorf("logs %+v: want AuthorizationUsed(payer, nonce) and Transfer", r.Logs)
	}

	// The bytes-signature overload (FiatToken v2.2) moves tokens too.
	viaBytes := auth(nil)
	relay(t, c, ec, relayer, authCall(t, sigTransferBytes, viaBytes, sign(payer.Key, viaBytes)), "")

	// A low-s signature's malleable twin: s' = n - s, v flipped.
	twin := func(s []byte) []byte {
		out := bytes.Clone(s)
		n := crypto.S256().Params().N
		copy(out[32:64], common.LeftPadBytes(new(big.Int).Sub(n, new(big.Int).SetBytes(s[32:64])).Bytes(), 32))
		out[64] = 55 - out[64] // 27 ↔ 28
		return out
	}
	zeroOneV := func(s []byte) []byte { out := bytes.Clone(s); out[64] -= 27; return out }

	for _, tc := range []struct {
		name    string
		call    func() []byte
		from    Account
		wantErr string
	}{
		{"the same authorization again", func() []byte { return authCall(t, sigTransferVRS, good, sig) }, relayer, errUsed},
		{"the same again by bytes", func() []byte { return authCall(t, sigTransferBytes, good, sig) }, relayer, errUsed},
		{"expired", func() []byte {
			a := auth(func(a *Authorization) { a.ValidBefore = big.NewInt(now - 1) })
			return authCall(t, sigTransferVRS, a, sign(payer.Key, a))
		}, relayer, errExpired},
		{"not yet valid", func() []byte {
			a := auth(func(a *Authorization) { a.ValidAfter = big.NewInt(now + 3600) })
			return authCall(t, sigTransferVRS, a, sign(payer.Key, a))
		}, relayer, errNotYet},
		{"signed by someone else", func() []byte {
			a := auth(nil)
			return authCall(t, sigTransferVRS, a, sign(other.Key, a))
		}, relayer, errBadSig},
		{"value changed after signing", func() []byte {
			a := auth(nil)
			s := sign(payer.Key, a)
			a.Value = big.NewInt(9_999_999)
			return authCall(t, sigTransferVRS, a, s)
		}, relayer, errBadSig},
		{"signed for another chain", func() []byte {
			a := auth(nil)
			s := ethersSign(t, js, payer.Key, AuthorizationTypedData(big.NewInt(1), TransferWithAuthorization, a))
			return authCall(t, sigTransferVRS, a, s)
		}, relayer, errBadSig},
		{"high s", func() []byte {
			a := auth(nil)
			return authCall(t, sigTransferBytes, a, twin(sign(payer.Key, a)))
		}, relayer, errHighS},
		{"v 0/1", func() []byte {
			a := auth(nil)
			return authCall(t, sigTransferBytes, a, zeroOneV(sign(payer.Key, a)))
		}, relayer, errBadV},
		{"64-byte signature", func() []byte {
			a := auth(nil)
			return packSig(t, sigTransferBytes, a.From, a.To, a.Value, a.ValidAfter, a.ValidBefore, a.Nonce, sign(payer.Key, a)[:64])
		}, relayer, errSigLength},
		{"receive submitted by the relayer", func() []byte {
			a := auth(nil)
			s := ethersSign(t, js, payer.Key, AuthorizationTypedData(c.ChainID(), ReceiveWithAuthorization, a))
			return authCall(t, sigReceiveVRS, a, s)
		}, relayer, errNotPayee},
		{"a transfer authorization used as receive", func() []byte {
			a := auth(nil)
			return authCall(t, sigReceiveBytes, a, sign(payer.Key, a))
		}, merchant, errBadSig},
		{"more than the balance", func() []byte {
			a := auth(func(a *Authorization) { a.Value = new(big.Int).Lsh(big.NewInt(1), 200) })
			return authCall(t, sigTransferVRS, a, sign(payer.Key, a))
		}, relayer, "insufficient balance"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.call()
			before := tokenBalance(t, ec, payer.Address)
			relay(t, c, ec, tc.from, data, tc.wantErr)
			if got := tokenBalance(t, ec, payer.Address); got.Cmp(before) != 0 {
				t.Errorf("payer balance moved %v → %v", before, got)
			}
		})
	}
}

// receiveWithAuthorization moves the tokens when the payee submits it.
func TestReceiveWithAuthorizationByThePayee(t *testing.T) {
	js := jsSigner(t)
	c := startChain(t, Options{Payers: 2})
	ec := dial(t, c)
	all := payers(2)
	payer, merchant := all[0], all[1]
	now := chainNow(t, ec)
	a := Authorization{
		From: payer.Address, To: merchant.Address, Value: big.NewInt(7),
		ValidAfter: big.NewInt(0), ValidBefore: big.NewInt(now + 3600), Nonce: common.HexToHash("0x01"),
	}
	sig := ethersSign(t, js, payer.Key, AuthorizationTypedData(c.ChainID(), ReceiveWithAuthorization, a))
	if goSig, err := SignReceiveAuthorization(payer.Key, c.ChainID(), a); err != nil || !bytes.Equal(goSig, sig) {
		t.Fatalf("SignReceiveAuthorization = %x (%v), ethers signed %x", goSig, err, sig)
	}
	before := tokenBalance(t, ec, merchant.Address)
	relay(t, c, ec, merchant, authCall(t, sigReceiveVRS, a, sig), "")
	if got := tokenBalance(t, ec, merchant.Address); new(big.Int).Sub(got, before).Int64() != 7 {
		t.Errorf("merchant balance %v → %v, want 7 more", before, got)
	}
	relay(t, c, ec, merchant, authCall(t, sigReceiveBytes, a, sig), errUsed)
}

// A cancelled authorization can no longer be used, and a used one can no
// longer be cancelled; cancelling needs the authorizer's signature.
func TestCancelAuthorization(t *testing.T) {
	js := jsSigner(t)
	c := startChain(t, Options{Payers: 3})
	ec := dial(t, c)
	all := payers(3)
	payer, merchant, relayer := all[0], all[1], all[2]
	now := chainNow(t, ec)
	a := Authorization{
		From: payer.Address, To: merchant.Address, Value: big.NewInt(5),
		ValidAfter: big.NewInt(0), ValidBefore: big.NewInt(now + 3600), Nonce: common.HexToHash("0xc0ffee"),
	}
	sig := ethersSign(t, js, payer.Key, AuthorizationTypedData(c.ChainID(), TransferWithAuthorization, a))
	cancelTD := apitypes.TypedData{
		Types: authorizationTypes, PrimaryType: CancelAuthorization, Domain: TokenDomain(c.ChainID()),
		Message: apitypes.TypedDataMessage{"authorizer": payer.Address.Hex(), "nonce": a.Nonce.Hex()},
	}
	cancelSig := ethersSign(t, js, payer.Key, cancelTD)
	if goSig, err := SignCancelAuthorization(payer.Key, c.ChainID(), a.Nonce); err != nil || !bytes.Equal(goSig, cancelSig) {
		t.Fatalf("SignCancelAuthorization = %x (%v), ethers signed %x", goSig, err, cancelSig)
	}
	forged := ethersSign(t, js, relayer.Key, cancelTD)
	relay(t, c, ec, relayer, packSig(t, sigCancelBytes, payer.Address, a.Nonce, forged), errBadSig)

	r := relay(t, c, ec, relayer, packSig(t, sigCancelVRS, payer.Address, a.Nonce,
		cancelSig[64], common.BytesToHash(cancelSig[:32]), common.BytesToHash(cancelSig[32:64])), "")
	canceled := tokenABI.Events["AuthorizationCanceled"].ID
	if len(r.Logs) != 1 || r.Logs[0].Topics[0] != canceled || r.Logs[0].Topics[2] != a.Nonce {
		t.Errorf("logs %+v: want one AuthorizationCanceled(payer, nonce)", r.Logs)
	}
	if !authorizationState(t, ec, payer.Address, a.Nonce) {
		t.Error("authorizationState is false after cancel")
	}
	relay(t, c, ec, relayer, authCall(t, sigTransferVRS, a, sig), errUsed)
	relay(t, c, ec, relayer, packSig(t, sigCancelBytes, payer.Address, a.Nonce, cancelSig), errUsed)
}
