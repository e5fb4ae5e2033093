package relay

import "strings"

// Reasons an authorization fails, reported in Outcome.Reason. They are
// stable: the store keeps them and the till shows them.
const (
	ReasonUsed          = "authorization_used"    // the payer used or cancelled it elsewhere
	ReasonBalance       = "insufficient_balance"  // the payer's token balance does not cover it
	ReasonExpired       = "authorization_expired" // validBefore passed (or was within Options.ExpiryMargin) before settlement
	ReasonBad           = "bad_authorization"     // the token refuses its signature or fields
	ReasonReverted      = "reverted"              // mined and reverted for a reason not known here
	ReasonNotCarried    = "not_settled"           // mined without the token's AuthorizationUsed event
	reasonWait          = ""                      // not a failure: try again later
	reasonNotYetValid   = "not_yet_valid"         // validAfter not passed on chain yet: wait
	reasonUnknownRevert = "unknown_revert"        // wait, and say so in Status
)

// revertReason maps a token's revert message to a reason. Permanent
// refusals end the authorization; a message not known here waits (a paused
// token, a node's odd wording) and is reported as the last error, so no
// payment fails on a guess.
func revertReason(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "authorization is used or canceled"), strings.Contains(m, "authorization is used"):
		return ReasonUsed
	case strings.Contains(m, "authorization is expired"):
		return ReasonExpired
	case strings.Contains(m, "authorization is not yet valid"):
		return reasonNotYetValid
	case strings.Contains(m, "insufficient balance"), strings.Contains(m, "transfer amount exceeds balance"):
		return ReasonBalance
	case strings.Contains(m, "invalid signature"):
		return ReasonBad
	}
	return reasonUnknownRevert
}

// sendAction is what the relayer does after a node's answer to
// eth_sendRawTransaction.
type sendAction int

const (
	sendOK       sendAction = iota // taken, or already known
	sendResync                     // nonce too low: our nonce is stale; resynchronise from the chain
	sendUnderfee                   // underpriced: wait for the stuck delay, then bump
	sendNoFunds                    // the relayer cannot pay the gas: stop sending new ones, report
	sendRetry                      // anything else: try again next round, report
)

// sendErrorAction classifies a node's refusal by its text (errors do not
// survive JSON-RPC as values; FIELD-NOTES). geth, Erigon, Nethermind and
// Besu wordings.
func sendErrorAction(msg string) sendAction {
	m := strings.ToLower(msg)
	switch {
	case m == "":
		return sendOK
	case strings.Contains(m, "already known"), strings.Contains(m, "known transaction"),
		strings.Contains(m, "already imported"), strings.Contains(m, "alreadyknown"):
		return sendOK
	case strings.Contains(m, "nonce too low"), strings.Contains(m, "oldnonce"), strings.Contains(m, "nonce is too low"):
		return sendResync
	case strings.Contains(m, "underpriced"), strings.Contains(m, "less than block base fee"),
		strings.Contains(m, "fee cap less than"), strings.Contains(m, "feetoolow"):
		return sendUnderfee
	case strings.Contains(m, "insufficient funds"):
		return sendNoFunds
	}
	return sendRetry
}
