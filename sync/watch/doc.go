// Package watch follows the chain for money that reaches the merchant
// straight from a wallet (a transfer the wallet broadcast itself, not a
// transaction handed to the terminal), and records it in a Ledger.
//
// A Watcher keeps a durable Cursor in the Ledger: the height up to which
// every block is processed and the hashes of the last FinalDepth blocks.
// Each round (Run: every Poll, stretched to the block time the headers
// show; at once while catching up; on Kick) reads the node's head and
// processes the blocks after the cursor, at most MaxRange of them:
//
//   - Headers. Each block's header is read (eth_getBlockByNumber without
//     transactions; the head's comes with the head). Block n+1 must name
//     the cursor's block n as its parent, and each block the one before:
//     a mismatch with the cursor is a reorg (below), a mismatch inside
//     the range is the chain moving between two requests (the round
//     records nothing and the next one looks again).
//   - Tokens: for the configured ERC-20 tokens, one eth_getLogs for
//     Transfer(from, to = merchant, value) over the blocks whose header's
//     logs bloom may hold such a log; none when no bloom does. Each log
//     must name the block hash its header has.
//   - Native coin: the merchant's balance at the range's end block
//     (eth_getBalance by block hash, canonical only: EIP-1898) against the
//     balance at the block before the range (kept from the previous round).
//     Equal: nothing moved, no block is read further. Different: the range
//     is halved (a balance at the middle block) down to the blocks in
//     which the balance moved, and only those are read with their
//     transactions. There, every transaction to the merchant with a value
//     is a payment, and the block's change is reconciled:
//     rest = change + what the merchant's own transactions spent (value
//     and fee, from their receipts) − the payments. A transaction that
//     failed moved no value, so a rest below zero says one did: then, and
//     only then, the payments' receipts are read and failed ones dropped.
//     A rest above zero is money no transaction explains — a contract
//     wallet's internal call (Safe, ERC-4337) — recorded as a Gap
//     transfer in that block (no sender, no hash). A rest below zero after
//     that (a contract-wallet merchant spending) is logged, never a Gap.
//     Not seen: money that a merchant address passes on within the block
//     it arrived in (the balance does not move), and a failed transfer in
//     the same block as an internal payment at least as large (the failed
//     one is taken for the payment). Use a merchant address that keeps
//     what it receives.
//   - Record: the transfers and the new cursor in one Ledger.RecordRange.
//
// # Reorgs
//
// A head at or below the cursor with another hash than the kept one, or a
// first new block whose parent is not the kept newest hash, is a reorg:
// the kept heights' headers are read (one batch), the highest one still
// canonical is the fork point, and Ledger.Rewind takes back what was
// recorded above it. The next round processes the new blocks. A reorg
// deeper than the kept hashes goes back below them all (logged as an
// error: FinalDepth is meant to make it impossible).
//
// # Confirmations and finality
//
// After each round, while a recorded transfer may not be final,
// Ledger.Settle(confirmed, final) with the broadcaster's rule: confirmed
// up to head − Confirmations + 1 (the block holding it counts as one),
// final up to the node's finalized block, or where the node has none,
// head − FinalDepth + 1; never final beyond confirmed. The finalized block
// is asked once every FinalEvery blocks while something awaits it.
//
// # Cost (JSON-RPC calls; a call in a batch counts as one)
//
// Steady state: a round is 1 call (the head's header) when no block is
// new, and 1 + k calls when k blocks are (k−1 headers in one batch, and
// the merchant's balance at the new head). Rounds come one Poll apart,
// stretched to the observed block time, so that there are no more rounds
// than blocks: at most 2 calls per new block, whatever the number of
// pending requests. On top, only where money moves or may have: one
// eth_getLogs per round in which a header's bloom may hold a Transfer to
// the merchant; per round in which the balance moved, about 2·log2(k)
// balances to find the blocks and one block with transactions per such
// block, plus receipts for the merchant's own transactions (and for
// transfers to it when one failed); the finalized block once every
// FinalEvery blocks while a recorded transfer is not final.
//
// # Catching up
//
// After time offline a round processes MaxRange blocks (one header each,
// in batches; one eth_getLogs; two balances and the bisection), and the
// next round comes at once. Blocks further behind the head than
// MaxLookback are skipped: the cursor jumps, with a warning and
// Status.Skipped; payments in them are not seen.
//
// The first round ever starts at the head: nothing before the terminal
// watched can pay a request made from then on.
//
// One Watcher follows one chain through one chain client; a terminal on
// several networks runs one per network, each with its own cursor.
package watch
