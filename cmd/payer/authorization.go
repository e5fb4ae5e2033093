package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"showpos/terminal/request"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// expectedAuthCode is the refusal each -wrong variant must draw with -via
// authorization.
var expectedAuthCode = map[string]string{
	"underpaid":       "underpaid",
	"overpaid":        "overpaid",
	"wrong-chain":     "wrong_chain",
	"reused":          "authorization_reused",
	"wrong-recipient": "wrong_recipient",
	"expires-soon":    "authorization_expires_too_soon",
	"bad-signature":   "bad_authorization",
}

// payAuthorization signs an EIP-3009 transferWithAuthorization for the
// request's x402 requirements, as an x402 client does (validAfter 0,
// validBefore now + maxTimeoutSeconds, a random nonce), made wrong as
// o.wrong asks, and posts {"requestId","payment"} to the payer API.
func payAuthorization(ctx context.Context, o *options, out *printer, res *result, doc *request.Document, src string, st payerState) error {
	req := doc.X402
	if req == nil {
		return fmt.Errorf("request %s (%s) advertises no x402 requirements: its asset takes no authorization", doc.ID, doc.Asset.Symbol)
	}
	if req.Scheme != "exact" || req.Network != "eip155:"+strconv.FormatUint(doc.ChainID, 10) || req.Amount.Cmp(doc.Amount) != 0 ||
		req.PayTo != doc.Merchant || doc.Asset.Native() || req.Asset != doc.Asset.Token {
		// Not signed by the terminal: a careful payer signs only what the
		// signed request says.
		return fmt.Errorf("refusing to pay: the x402 requirements (%s %s, %s of %s to %s) are not the signed request's terms", req.Scheme, req.Network, req.Amount, req.Asset.Hex(), req.PayTo.Hex())
	}
	from := crypto.PubkeyToAddress(o.key.PublicKey)
	a := devchain.Authorization{
		From: from, To: req.PayTo, Value: new(big.Int).Set(req.Amount), ValidAfter: new(big.Int),
		ValidBefore: big.NewInt(time.Now().Unix() + int64(req.MaxTimeoutSeconds)),
	}
	if _, err := rand.Read(a.Nonce[:]); err != nil {
		return err
	}
	chainID := new(big.Int).SetUint64(doc.ChainID)
	accepted := *req
	switch o.wrong {
	case "underpaid":
		a.Value.Sub(a.Value, big.NewInt(1))
	case "overpaid":
		a.Value.Add(a.Value, big.NewInt(1))
	case "wrong-chain":
		chainID.Add(chainID, big.NewInt(1))
		accepted.Network = "eip155:" + chainID.String()
	case "wrong-recipient":
		a.To = from
	case "expires-soon":
		a.ValidBefore = big.NewInt(time.Now().Unix() + 300) // x402's usual timeout
	case "reused":
		if st.Last == nil || st.Last.AuthNonce == "" {
			return errors.New("-wrong reused: no earlier authorization from this payer to reuse the nonce of; pay a request -via authorization first")
		}
		a.Nonce = common.HexToHash(st.Last.AuthNonce)
	}
	sig, err := signAuthorization(o, chainID, &accepted, a)
	if err != nil {
		return err
	}
	if o.wrong == "bad-signature" {
		sig[10] ^= 1 // recovers another address, or none
	}
	payload, err := paytx.PaymentPayload(&accepted, paytx.Authorization{
		From: a.From, To: a.To, Value: a.Value, ValidAfter: a.ValidAfter, ValidBefore: a.ValidBefore, Nonce: a.Nonce, Signature: sig,
	})
	if err != nil {
		return err
	}
	what := "pays"
	if o.wrong != "" {
		what = "wrong on purpose (" + o.wrong + "):"
	}
	out.line("authorize", "%s %s %s of %s to %s, valid before %s, nonce %s", from.Hex(), what, a.Value, req.Asset.Hex(), a.To.Hex(),
		time.Unix(a.ValidBefore.Int64(), 0).UTC().Format(time.RFC3339), a.Nonce.Hex())

	url := doc.BroadcastURL
	if o.terminalSet || src == "api" {
		url = o.terminal + "/api/showpos/broadcastTx"
	}
	status, body, code, err := post(ctx, url, paytx.HandoverJSON(doc.ID, payload))
	if err != nil {
		return err
	}
	res.HTTPStatus, res.Answer, res.Code = status, body, code
	ok := status == http.StatusOK || status == http.StatusAccepted
	out.line("answer", "%d %s", status, bytes.TrimSpace(body))
	switch {
	case o.wrong == "" && ok:
		res.OK = true
	case o.wrong == "":
		return fmt.Errorf("the terminal refused the authorization: %s", codeOr(code, status))
	case ok:
		return fmt.Errorf("the terminal accepted a %s authorization; it should have refused it with %s", o.wrong, res.Expected)
	case code != res.Expected:
		return fmt.Errorf("the terminal refused with %s, want %s", codeOr(code, status), res.Expected)
	default:
		res.OK = true
		out.line("refused", "%s, as expected", code)
	}
	if ok {
		var answer struct{ TxHash string }
		_ = json.Unmarshal(body, &answer) // the answer as printed either way
		res.TxHash = answer.TxHash
	}
	if ok && o.wrong == "" {
		st.Last = &lastSent{RequestID: doc.ID, AuthNonce: a.Nonce.Hex(), TxHash: res.TxHash}
		if err := saveState(o.stateDir, from, st); err != nil {
			fmt.Fprintln(out.errW, "payer: warning:", err)
		}
	}
	return nil
}

// signAuthorization signs a as a TransferWithAuthorization over the
// advertised token's EIP-712 domain (extra.name, extra.version, the chain,
// the asset as verifyingContract): devchain.SignAuthorization's typed data
// with the domain the terminal names, so that any EIP-3009 token can be
// paid, the dev chain's among them.
func signAuthorization(o *options, chainID *big.Int, req *request.PaymentRequirements, a devchain.Authorization) ([]byte, error) {
	if req.Asset == devchain.TokenAddr && req.Name == devchain.TokenName && req.Version == devchain.TokenVersion {
		return devchain.SignAuthorization(o.key, chainID, a)
	}
	td := devchain.AuthorizationTypedData(chainID, devchain.TransferWithAuthorization, a)
	td.Domain.Name, td.Domain.Version, td.Domain.VerifyingContract = req.Name, req.Version, req.Asset.Hex()
	digest, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		return nil, fmt.Errorf("hash the authorization: %w", err)
	}
	sig, err := crypto.Sign(digest, o.key)
	if err != nil {
		return nil, fmt.Errorf("sign the authorization: %w", err)
	}
	sig[64] += 27
	return sig, nil
}
