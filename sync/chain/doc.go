// Package chain is how the terminal reaches an Ethereum network, and how it
// knows whether it can.
//
// A Client speaks JSON-RPC over HTTP(S) to one or more endpoints through
// go-ethereum's rpc client. It does two jobs:
//
//   - Connectivity. Run probes eth_chainId on a schedule (Options.ProbeEvery
//     while online; from 1 s, doubling, jittered and capped at ProbeEvery
//     after a failure) and keeps a Status: online or not, which endpoint,
//     the last contact, and a short reason when offline. Every Online flip
//     is published on Changes. Probe does one probe now ("sync now").
//   - Calls for the broadcaster. SendBatch sends stored raw transactions
//     unchanged with eth_sendRawTransaction, all in one JSON-RPC batch
//     request; Receipts and Transactions look up many hashes in one batch;
//     Canonical asks the canonical headers at many heights with the latest
//     and finalized blocks in one batch (so they are one backend's view
//     even behind a load balancer); BlockNumber, NonceAt and Call are
//     single calls.
//   - Calls for the till's pre-flight: Account asks a sender's pending
//     nonce, balance, token balance and whether the node knows a
//     transaction, in one batch request.
//   - Calls for the watcher of payments made straight to the merchant:
//     Heads (the latest header, with the finalized block if asked, in one
//     request), Headers and Blocks (headers, or blocks with their
//     transactions, at many heights in one batch), Logs (eth_getLogs over
//     a bounded range) and BalanceAt (a balance at a block hash, canonical
//     only: EIP-1898).
//   - Calls for the relayer, which builds and signs its own transactions:
//     FeeHistory (eth_feeHistory: the next block's base fee and the
//     priority fees paid), with NonceAt, Account, Call and Receipts.
//
// # Endpoints, chain id and failover
//
// An endpoint is used only after it has answered eth_chainId with
// Options.ChainID: nothing, least of all a payment, is sent to an endpoint
// of another chain. The answer is remembered for a minute (or ProbeEvery if
// longer) and forgotten on any transport failure of that endpoint, so a
// call to a freshly checked endpoint costs one round trip and a call to an
// unchecked one two.
//
// A call tries the endpoints in order, starting from the last one that
// worked (so a dead first endpoint costs a timeout once, not on every call),
// each at most once, each with its own Options.CallTimeout. It moves on to
// the next endpoint on a transport failure: connection refused or reset,
// timeout, DNS or TLS failure, an HTTP status other than 2xx (notably 429
// and 5xx), an answer that is not JSON-RPC (a captive portal's HTML page),
// a batch answered with a single error object, or an endpoint of the wrong
// chain. The one exception to "at most once": an endpoint that refused a
// batch as a whole executed none of it, so after the other endpoints have
// had their turn it is tried again with the items sent one call at a time,
// and is remembered as not taking batches.
//
// # Errors
//
// Two kinds are kept apart, with errors.As:
//
//   - *NodeError: a node answered with a JSON-RPC error object. Its code,
//     message and data are preserved as received; Error() is the node's
//     message, unchanged. Errors do not survive JSON-RPC as values
//     (errors.Is against go-ethereum's txpool errors never matches), so
//     callers classify them by Message text; this package does not.
//   - *TransportError (IsTransport): no endpoint of the right chain could
//     carry the call. Its Reason is short ("connection refused", "timeout",
//     "HTTP 503 Service Unavailable", "wrong chain id 5 (want 1337)"); it
//     never contains an endpoint's path, query or userinfo, where API keys
//     live.
//
// A context that ends is returned as the context's error, and changes no
// Status. A transport failure on every endpoint marks the Client offline
// at once, without waiting for the next probe; any answer from an endpoint
// of the right chain (including a node error) marks it online and moves
// Status.LastContact.
//
// # Cost
//
// Only rpc, common, common/hexutil and core/types from go-ethereum are
// imported. Responses are capped at 32 MiB. Run starts no goroutine of its
// own beyond the one it runs on; the rpc client over HTTP starts none.
package chain
