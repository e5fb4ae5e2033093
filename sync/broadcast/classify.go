package broadcast

import (
	"errors"
	"strings"

	"showpos/sync/chain"
)

// Verdict is what one send's answer means for the payment.
type Verdict int

const (
	// Sent: a node has the transaction (accepted now, or already known).
	Sent Verdict = iota
	// LookUp: the node says the sender's nonce is used ("nonce too low"),
	// or another transaction holds it in the pool; whether it is ours
	// decides between mined and conflict.
	LookUp
	// RetryFee: priced below what the network takes now; try again until
	// the payment's deadline, fees may fall.
	RetryFee
	// RetryFunds: the sender cannot pay for it now; a short window for
	// funds to arrive, then failed.
	RetryFunds
	// RetryLink: the link or the node is busy or down; back off and retry.
	RetryLink
	// Fail: the network will never take this transaction.
	Fail
)

func (v Verdict) String() string {
	switch v {
	case Sent:
		return "sent"
	case LookUp:
		return "look up"
	case RetryFee:
		return "retry (fee)"
	case RetryFunds:
		return "retry (funds)"
	case RetryLink:
		return "retry (link)"
	case Fail:
		return "fail"
	}
	return "unknown"
}

// rule maps a node error message prefix to a verdict. Errors do not
// survive JSON-RPC as types, only as text, so the text is matched; the
// prefixes are go-ethereum's (core/txpool/errors.go, core/error.go,
// core/txpool/validation.go, internal/ethapi), lower-cased. Other clients
// word some differently; those are listed too where known.
type rule struct {
	prefix  string
	verdict Verdict
}

var rules = []rule{
	{"already known", Sent},
	{"known transaction", Sent}, // older geth, nethermind
	{"already imported", Sent},  // erigon
	{"nonce too low", LookUp},
	{"replacement transaction underpriced", LookUp},
	{"transaction underpriced", RetryFee},
	{"max fee per gas less than block base fee", RetryFee},
	{"transaction gas price below minimum", RetryFee},
	{"gas tip cap below minimum", RetryFee},
	{"fee cap less than block base fee", RetryFee},
	{"insufficient funds", RetryFunds}, // "insufficient funds for gas * price + value: …"
	{"txpool is full", RetryLink},
	{"transaction pool is full", RetryLink},
	{"too many requests", RetryLink},
	{"rate limit", RetryLink},
	{"invalid sender", Fail}, // wrong chain id among others
	{"invalid chain id", Fail},
	{"only replay-protected", Fail},
	{"transaction type not supported", Fail},
	{"rlp:", Fail},
	{"typed transaction too short", Fail},
	{"malformed", Fail},
	{"oversized data", Fail},
	{"exceeds block gas limit", Fail},
	{"intrinsic gas too low", Fail},
	{"gas limit too high", Fail},
	{"transaction gas limit too high", Fail},
	{"nonce has max value", Fail},
	{"tx fee", Fail}, // "tx fee (… ether) exceeds the configured cap (… ether)"
	{"negative value", Fail},
	{"max fee per gas higher than", Fail},
	{"max priority fee per gas higher than", Fail},
	{"tip higher than max fee", Fail},
	{"transaction size", Fail},
}

// Classify reads one send's answer. A nil error is Sent. A transport
// failure is RetryLink. A node error is matched by the prefix of its
// message; a message no rule knows is RetryLink, so an unfamiliar answer
// never fails a payment by itself (its maximum age does, in the end).
func Classify(err error) Verdict {
	if err == nil {
		return Sent
	}
	if chain.IsTransport(err) {
		return RetryLink
	}
	msg := err.Error()
	var ne *chain.NodeError
	if errors.As(err, &ne) {
		msg = ne.Message
	}
	msg = strings.ToLower(strings.TrimSpace(msg))
	for _, r := range rules {
		if strings.HasPrefix(msg, r.prefix) {
			return r.verdict
		}
	}
	return RetryLink
}
