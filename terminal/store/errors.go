package store

import "errors"

// Sentinel errors. Methods return them wrapped with the operation and its
// subject (for example "accept 0xab…: tx hash reused for another request");
// test with errors.Is. Invalid arguments (a nil amount, an empty ID, a state
// that is not a PaymentState) are reported with plain errors: they are
// programming mistakes, not refusals.
var (
	// ErrNoHomeChain: Open was asked to migrate a store from before
	// schema 13 that holds payments, authorizations, a watch cursor or a
	// relay journal, with no Options.HomeChainID to put them under.
	ErrNoHomeChain = errors.New("a store before schema 13 holds payments of one chain: its chain id (Options.HomeChainID) is needed to migrate it")
	// ErrHomeChain: Open was asked to migrate a store from before schema
	// 13 under a home chain (Options.HomeChainID) that its handed-over
	// payments, or (by Options.RequestChain) the requests of its open
	// payments and its pending requests, are not signed for: filed there,
	// the home network's broadcaster would send them to a node that
	// refuses them, its relayer settle an authorization where it fails.
	// Nothing is written; start once with their chain as the first
	// network.
	ErrHomeChain = errors.New("a store before schema 13 holds payments or requests signed for another chain than the home chain")
	// ErrChainOpen: RetireChains was asked to retire a chain that has
	// payments still to settle (queued, broadcast, seen or confirmed) or
	// requests offered on it still payable (pending, before expiry plus
	// MatchGrace).
	ErrChainOpen = errors.New("chain has payments still to settle or requests still payable")
	// ErrChainRetired: a payment on a chain RetireChains retired (its
	// network was removed from the config). The till answers it as a
	// payment on a chain the request is not offered on.
	ErrChainRetired = errors.New("chain retired")
	// ErrUnknownRequest: no request with that ID is stored.
	ErrUnknownRequest = errors.New("unknown request")
	// ErrRequestExists: PutRequest was given an ID that is already stored.
	ErrRequestExists = errors.New("request already exists")
	// ErrAmountTaken: another pending request of the same asset holds the
	// amount (see PutRequest and FreeAmount): a transfer on chain could not
	// tell the two apart.
	ErrAmountTaken = errors.New("amount held by another pending request")
	// ErrCancelled: the request was cancelled and can no longer be paid.
	ErrCancelled = errors.New("request cancelled")
	// ErrAlreadyPaid: the request is paid by another transaction.
	ErrAlreadyPaid = errors.New("request already paid")
	// ErrExpired: the request is pending but its expiry has passed.
	ErrExpired = errors.New("request expired")
	// ErrTxReused: the transaction hash is stored for a different request.
	ErrTxReused = errors.New("tx hash already used for another request")
	// ErrNonceConflict: another transaction from the same sender with the
	// same nonce is stored and queued, broadcast or confirmed (the message
	// then says "used on chain"); at most one of them can ever be mined. A
	// failed one does not block its nonce.
	ErrNonceConflict = errors.New("sender nonce already used by another tx")
	// ErrAuthorizationReused: an EIP-3009 authorization with the same
	// token, from and nonce was taken before (for any request, in any
	// state): the token would refuse the second one.
	ErrAuthorizationReused = errors.New("authorization nonce already used")
	// ErrExposureLimit: accepting would raise the unsettled amount of the
	// asset above the caller's limit.
	ErrExposureLimit = errors.New("unsettled exposure limit reached")
	// ErrPayerLimit: accepting would raise one sender's unsettled amount
	// of the asset above the caller's per-payer limit.
	ErrPayerLimit = errors.New("unsettled per-payer limit reached")
	// ErrUnknownPayment: no payment with that hash (or sender and nonce).
	ErrUnknownPayment = errors.New("unknown payment")
	// ErrBadTransition: the payment state change is not allowed (a chain
	// payment's state is moved only by Settle and Rewind).
	ErrBadTransition = errors.New("illegal payment state transition")
	// ErrBadRelayTx: the relayer's record or outcome does not fit the
	// store: no authorization of that ID, a hash signed for another
	// authorization, an unknown state, a failure without its reason.
	ErrBadRelayTx = errors.New("relayer record refused")
	// ErrUnknownFailure: no failure with that number.
	ErrUnknownFailure = errors.New("unknown failure")
	// ErrUnknownZ: no Z report with that number.
	ErrUnknownZ = errors.New("unknown Z report")
	// ErrZPeriod: the Z's period does not start where the last Z ended
	// (another Z was taken meanwhile: read the books again), or does not
	// end after it starts (the clock is behind the last Z's end).
	ErrZPeriod = errors.New("Z report period out of step")
	// ErrZMoved: a record dated inside the Z's period was stored after
	// the caller read the books (a payment accepted meanwhile): read them
	// again.
	ErrZMoved = errors.New("books moved while the Z report was read")
	// ErrLocked: another process holds the store's file lock.
	ErrLocked = errors.New("store file locked by another process")
	// ErrCorrupt: the store file is damaged or not a store file.
	ErrCorrupt = errors.New("store file corrupt")
	// ErrVerifying: Accept or RetireChains came after a start with
	// Options.VerifyBeforeSales, before the scrub had checked the open
	// payments and their indexes; try again in a moment (the API's 503
	// unavailable, send the same request again).
	ErrVerifying = errors.New("store: checking the open payments after start; try again in a moment")
	// ErrClosed: the Store was closed.
	ErrClosed = errors.New("store closed")
	// ErrUnknownReceipt: no unmatched receipt with that number.
	ErrUnknownReceipt = errors.New("unknown unmatched receipt")
	// ErrUnknownSink: no event sink of that name is registered (events.go).
	ErrUnknownSink = errors.New("unknown event sink")
	// ErrBadSink: a sink name, start or cursor that cannot be: a name that
	// is empty, too long or not printable, a delivered seq beyond the log.
	ErrBadSink = errors.New("bad event sink request")
	// ErrNoWebhook: the client has no webhook (webhooks.go).
	ErrNoWebhook = errors.New("no webhook")
)
