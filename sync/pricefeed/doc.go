// Package pricefeed keeps the exchange rates that price each asset in the
// shop's currency (terminal.currency): one Quote per asset, read from a
// Chainlink price feed or fixed by a peg, and says plainly when it has none
// the till may use.
//
// # Sources
//
// A feed is a Chainlink AggregatorV3 contract read with eth_call over the
// chain client of the network it is configured on (Source.ChainID,
// Options.Caller); a symbol is priced once, from the first network that
// prices it (SourcesOf): decimals() once, then latestRoundData()
// every Options.Every (30 s by default). A Quote's price of one whole unit
// of the asset is Answer / 10^Decimals, exactly as the feed answers it; its
// time is the round's updatedAt, its Source "chainlink:0x<feed>". A peg
// (peg = "1") is a Quote that never ages: Source "peg", a zero UpdatedAt and
// RoundID nil.
//
// # Rules
//
// A round read from a feed is refused, logged once per round and reason,
// and shown in Status with a stable reason, when:
//
//	no_update         updatedAt is zero (the round never happened)
//	incomplete_round  answeredInRound < roundId (an answer carried over)
//	answer_zero       the answer is zero
//	answer_negative   the answer is below zero
//	future_round      updatedAt is later than now + Options.MaxSkew (1 min)
//	stale_round       updatedAt is more than price_heartbeat ago
//	bad_decimals      decimals() is above 36
//
// A refused round changes nothing: the last good one is kept. A round
// older than the one kept (a node behind the others) is ignored.
//
// # Offline
//
// Latest returns the last good round while it is at most max_rate_age old,
// counted from its updatedAt by the injected clock, whether the chain is
// reachable or not; past that, ErrRateTooOld, and before any good round,
// ErrNoRate: the terminal then takes amounts in the asset only. An asset
// with no source gives ErrNoSource. Nothing is stored: after a restart the
// first good read is awaited (a rate is cheap to read again, and one from
// before the restart may be too old anyway).
package pricefeed
