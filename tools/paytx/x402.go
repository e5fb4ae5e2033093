package paytx

import (
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"showpos/terminal/request"
)

// Authorization is a signed EIP-3009 transferWithAuthorization, as a
// payer's wallet makes it (tools/devchain.SignAuthorization signs one for
// the dev chain's token).
type Authorization struct {
	From, To    common.Address
	Value       *big.Int
	ValidAfter  *big.Int // unix seconds
	ValidBefore *big.Int // unix seconds
	Nonce       common.Hash
	Signature   []byte // 65 bytes r || s || v
}

// PaymentPayload is the x402 v2 PaymentPayload an x402 client sends for a
// request's requirements: {"x402Version":2, "accepted": req, "payload":
// {"signature", "authorization":{from, to, value, validAfter, validBefore,
// nonce}}}, numbers as decimal strings. It is what POST
// /api/showpos/broadcastTx takes as "payment".
func PaymentPayload(req *request.PaymentRequirements, a Authorization) ([]byte, error) {
	if req == nil {
		return nil, fmt.Errorf("paytx: the request advertises no x402 requirements")
	}
	type extra struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	type accepted struct {
		Scheme            string `json:"scheme"`
		Network           string `json:"network"`
		Amount            string `json:"amount"`
		Asset             string `json:"asset"`
		PayTo             string `json:"payTo"`
		MaxTimeoutSeconds uint64 `json:"maxTimeoutSeconds"`
		Extra             extra  `json:"extra"`
	}
	type authorization struct {
		From        string `json:"from"`
		To          string `json:"to"`
		Value       string `json:"value"`
		ValidAfter  string `json:"validAfter"`
		ValidBefore string `json:"validBefore"`
		Nonce       string `json:"nonce"`
	}
	type exact struct {
		Signature     string        `json:"signature"`
		Authorization authorization `json:"authorization"`
	}
	str := func(x *big.Int) string {
		if x == nil {
			return "0"
		}
		return x.String()
	}
	return json.Marshal(struct {
		X402Version int      `json:"x402Version"`
		Accepted    accepted `json:"accepted"`
		Payload     exact    `json:"payload"`
	}{
		X402Version: 2,
		Accepted: accepted{
			Scheme: req.Scheme, Network: req.Network, Amount: str(req.Amount), Asset: req.Asset.Hex(), PayTo: req.PayTo.Hex(),
			MaxTimeoutSeconds: req.MaxTimeoutSeconds, Extra: extra{req.Name, req.Version},
		},
		Payload: exact{
			Signature: hexutil.Encode(a.Signature),
			Authorization: authorization{
				From: a.From.Hex(), To: a.To.Hex(), Value: str(a.Value), ValidAfter: str(a.ValidAfter),
				ValidBefore: str(a.ValidBefore), Nonce: a.Nonce.Hex(),
			},
		},
	})
}

// HandoverJSON is the body POST /api/showpos/broadcastTx takes for a
// payment payload, and the JSON a scanner line or an NFC payload carries:
// {"requestId": id, "payment": payload}.
func HandoverJSON(requestID string, payload []byte) []byte {
	id, _ := json.Marshal(requestID) // a string always marshals
	return []byte(`{"requestId":` + string(id) + `,"payment":` + string(payload) + `}`)
}
