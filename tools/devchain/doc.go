// Package devchain runs a real, in-process go-ethereum dev chain for tests
// and demos: a single node that mines a block as soon as a transaction
// reaches its pool, serves JSON-RPC over HTTP on loopback, and keeps
// everything in memory.
//
// # What Start gives you
//
//   - A post-merge chain with every fork through Prague and Osaka active
//     from genesis (geth's AllDevChainProtocolChanges) under the configured
//     chain id. catalyst's SimulatedBeacon (period 0) seals the blocks; a
//     small miner of ours asks it to whenever the pool announces new
//     transactions, and again while blocks still take some. The chain is at
//     block 1 when Start returns (see sealFirstBlock).
//   - A transaction whose fee cap is below the current base fee stays
//     pending: unlike geth's --dev loop, which then seals empty blocks
//     forever, ours seals one empty block per announcement and waits.
//   - Payers: deterministic accounts (PayerKey) funded in genesis with
//     native ether and with Test USD, an ERC-20 at the fixed TokenAddr whose
//     runtime code (tools/token/TestToken.sol, compiled by
//     tools/token/build.js) and storage are written straight into the
//     genesis block. A transfer of more than the sender's balance reverts
//     with "insufficient balance", so it is mined with receipt status 0.
//     The token also takes EIP-3009 authorizations as USDC's FiatToken
//     v2.2 does (domain TokenName, TokenVersion, the chain id, TokenAddr);
//     SignAuthorization signs one.
//   - Price feeds: Chainlink AggregatorV3-style contracts
//     (tools/token/TestPriceFeed.sol) at fixed addresses from genesis,
//     FeedETHUSD, FeedETHEUR and FeedTUSDEUR (8 decimals), round 1 answered
//     when Start ran (FeedsStarted). SetFeedRound and UpdateFeedAnswer post
//     rounds from a feed keeper account funded at genesis (not a payer).
//   - HTTP JSON-RPC at Endpoint() with the eth, net, web3 and txpool
//     namespaces (eth includes the filter API: eth_getLogs, eth_newFilter).
//     geth's HTTP limits apply: batches of at most 1000 requests and 25 MB
//     of response (rpc.defaultBatchRequestLimit, defaultBatchResponseMaxSize),
//     a request body of at most 5 MiB, and a 30 s read/write timeout
//     (rpc.DefaultHTTPTimeouts). No IPC endpoint, no peers, no discovery,
//     no engine (authenticated) endpoint.
//   - Transactions need a tip of at least 1 wei: the pool refuses less
//     ("transaction underpriced") and the miner takes anything from 1 wei.
//
// # Several chains in one process
//
// Each Start is a node of its own: its own genesis, pool, miner, HTTP
// server and logger, and no package state is shared but the fixed
// addresses and keys. Two chains with different chain ids run side by side
// (cmd/devnet -chains 2, and tests of a terminal on several networks) with
// the same payers, token and feeds at the same addresses, and closing one
// leaves the other running (TestTwoChainsInOneProcessAreIndependent).
//
// # Cost and cleanup
//
// Start takes 0.1–0.3 s on a 2-core machine; a transaction's receipt is
// there a few milliseconds after eth_sendRawTransaction returns (mean 2–11
// ms, worst seen 35 ms while the machine was busy). The chain keeps no data directory; geth
// creates an empty ephemeral keystore directory under os.TempDir that
// Close removes. Close stops the node and every goroutine it started.
//
// # Who may import it
//
// Only cmd/devnet and tests. It links a whole Ethereum node (tens of MB);
// the daemon cmd/posd must never depend on it, and
// TestPosdDoesNotLinkTheDevChain checks that.
//
// geth logs to its global logger, which this package leaves alone (silent
// unless the process sets it with log.SetDefault); Options.Logger receives
// this package's own lines and the node's.
package devchain
