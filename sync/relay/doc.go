// Package relay settles EIP-3009 authorizations: it submits each payer's
// signed transferWithAuthorization from the terminal's own relayer account
// (terminal/relaykey), paying the gas, and follows it to a final outcome.
// It is the first part of showpos that builds and signs transactions; its
// shape follows Optimism's op-service/txmgr: one logical transaction per
// nonce with every hash it was signed under as its fees rose.
//
// # What it is given
//
// A Queue of open authorizations (acceptance order, a window at a time), a
// Journal that remembers its transactions and takes outcomes, a Chain (a
// *chain.Client) and the relayer's key. One Relayer serves one chain: its
// nonce, fees and balance are its own.
//
// # A round (Round; Run paces them, see Pace)
//
//  1. Reads the relayer's mined and pending nonce, its balance and
//     eth_feeHistory: the tip is the median of recent blocks' priority fee
//     at TipPercentile (at least MinTip), the fee cap twice the next base
//     fee plus the tip, at most MaxFeePerGas.
//  2. Follows every live transaction in the Journal: receipts of all its
//     hashes, checked against the canonical header at their height (one
//     chain.Canonical batch). Status 1 with the token's
//     AuthorizationUsed(from, nonce) → OutcomeConfirmed, then OutcomeFinal
//     once the block is finalized (or FinalDepth deep). A reverted one,
//     once final, fails with the reason the token gives now (used,
//     balance, expired, signature), or waits again if it would pass now.
//     A mined one whose block left the chain → OutcomeUnconfirmed, and it
//     is followed again. No receipt while the mined nonce is past it:
//     another transaction took the nonce (TxDropped); its authorization
//     fails authorization_used if authorizationState says so, else waits
//     for a new transaction. No receipt for StuckAfter: replaced with the
//     same nonce and both fees at least 10% higher (geth's PriceBump),
//     within MaxFeePerGas; at the cap it is sent again unchanged.
//  3. Takes open authorizations no live transaction carries, up to
//     MaxInFlight unmined: fails those whose validBefore is within
//     ExpiryMargin (authorization_expired) or that the token refuses at
//     the pending block (authorizationState true → authorization_used;
//     eth_call reverting "insufficient balance" → insufficient_balance, …);
//     waits on those not yet valid or refused for a reason not known
//     here; signs the others with consecutive nonces and records each in
//     the Journal BEFORE anything is sent.
//  4. Sends everything due in one batch, in nonce order. "nonce too low"
//     makes the next round read the nonce from the chain again;
//     underpriced waits for the bump; other refusals are kept in Status.
//
// # Pace
//
// Run does a round every Every (or on Kick) while nothing it sent waits to
// be mined. While something does, the next round comes after a follow-up
// pause instead, from FollowUp, doubled after a round that found nothing
// newly mined (up to Every) and halved after one that did: so a backlog (a
// day of authorizations taken offline) goes out MaxInFlight at a time, a
// batch per block or two, never more than MaxInFlight unmined at once,
// and a transaction sent alone is confirmed a block later, not a poll
// later. A round that fails waits Every: offline, nothing spins.
//
// # Promises
//
// A transaction is in the Journal before it leaves; an outcome is
// reported before the transaction that carried it is ended. So a restart
// (a new Relayer on the same Journal) finds every hash that may be on
// chain, sends the live ones again once (harmless: same bytes), and never
// signs a second transaction for an authorization a live one carries. An
// authorization fails only on the token's own word (authorizationState, a
// revert message known here) or on its validBefore; anything else waits
// and shows in Status.LastError. The relayer never stops taking work when
// its balance is low: settlements wait (ErrLowBalance) and Status.Low says
// so; the till keeps taking payments.
//
// # Health
//
// Status: the account's address and balance, the fee cap now, how many
// settlements the balance covers (balance / (GasLimit × fee cap)), Low
// below LowCovers, the transactions in flight, the next nonce and the last
// round's error.
package relay
