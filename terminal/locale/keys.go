package locale

// Key names one message of the catalog. Each language's table is an array
// indexed by Key: a key spelled wrong in a table is a compile error, and a
// key a table leaves out is an empty string that TestEveryKeyInEveryLanguage
// finds. Add a key here, in en.go, and in every other table.
type Key int

// The messages, grouped by where they show. Placeholders are fmt verbs;
// every language keeps English's, in the same order.
const (
	// The idle screen.
	Online Key = iota
	Offline
	OfflineSome   // "OFFLINE: %s": the networks offline while another is online
	OneQueued     // "1 payment queued"
	ManyQueued    // "%d payments queued"
	NothingQueued // offline, nothing waiting
	RelayerLow
	OneFailed  // the idle screen's notice of one failure kept
	ManyFailed // "%d FAILED PAYMENTS: F2 menu"
	// The store's scrub found damage in an open payment: no sale until
	// the file is restored.
	StoreDamaged

	// The amount and tip screens.
	HintCharge    // "OK to charge"
	HintAsset     // appended: ", F1 asset"
	HintOtherUnit // appended: ", F3 %s"
	NoRate        // "no rate: key %s"
	TipTitle      // "Tip on %s?"
	NoTip
	HintTipBack

	// The request screen.
	HintStop
	HintNetwork // appended: ", F4 network" (a request on several networks)
	OnNetwork   // "%s %d/%d": the network whose QR code is shown, of how many ("base 1/2": a name and numbers, the same in every language so far)
	QRTooLarge
	ReceivedNot // "RECEIVED %s %s, NOT %s"

	// The result screen: the big word, and the line under ACCEPTED.
	Paid
	Accepted
	Rejected
	Seen
	WillSettle
	Confirming

	// Notices on the idle screen, until OK.
	PaymentFailed   // "PAYMENT FAILED: %s"
	UndoneResending // "PAID PAYMENT UNDONE: block lost, sending again %s"
	Undone          // "PAID PAYMENT UNDONE: block lost %s"

	// Why a result is REJECTED: refusal reasons (cashier maps each
	// check.Code to one) and failures after acceptance.
	ReasonCodeTooLong
	ReasonNotPayment
	ReasonWrongType
	ReasonWrongChain
	ReasonBadSignature
	ReasonWrongRecipient
	ReasonUnderpaid
	ReasonOverpaid
	ReasonGasLow
	ReasonGasHigh
	ReasonNotPlain
	ReasonNotToken
	ReasonWrongTransfer
	ReasonFeeLow
	ReasonBadFee
	ReasonPaymentLimit
	ReasonExposureLimit
	ReasonPayerLimit
	ReasonNonceGap
	ReasonNonceUsed
	ReasonNoFunds
	ReasonUnknownRequest
	ReasonExpired
	ReasonCancelled
	ReasonAlreadyPaid
	ReasonReused
	ReasonDuplicate
	ReasonAmountInUse
	ReasonWrongToken
	ReasonNotYetValid
	ReasonExpiresSoon
	ReasonBadAmount
	ReasonNoCurrency
	ReasonNoRateKeyAsset
	ReasonBadTip
	ReasonTerminalError
	ReasonAssetNotTaken
	ReasonBlockLost
	ReasonNoZ // "no Z report: %s"
	ReasonClockBehind
	ReasonBusy
	FailConflict
	FailReverted
	FailNotMined
	FailFailed

	// The menu pages.
	HintMenuNext // "F2 next  CANCEL back"
	MoreLines    // "+%d more"
	TitleLastPayments
	TitleToday
	TitleQueue
	HintQueue
	CannotRead
	NoPaymentsYet
	NoSalesToday
	WaitingToSettle // "%d waiting to settle"
	StateQueued     // payment states in the last payments' lines
	StateBroadcast
	StateConfirmed
	StateFinal
	StateFailed
	StateSeen
	StateUnmatched
	TitleReports
	XReportLine
	ZReportLine
	TitleFailures
	NoFailedPayments
	TitleFailedOpen // "FAILED #%d (%d open)"
	HintFailure
	TitleCloseDay
	HintCloseDay
	CloseDayLine1
	CloseDayLine2
	HintAnyKey
	MenuFailedSum    // " failed %s (%d)"
	MenuUnmatchedSum // " unmatched %s (%d)"
	NoPayments
	FailuresCount // "%d failures"
	TitleReceipt
	HintReceipt
	NoReceiptYet
	LastReceipt // "last: %s"
	RequestID   // "request %s"
	SentToPrinter

	// The printed X and Z reports.
	XReport
	ZReport // "Z REPORT %d"
	ReportTerminal
	ReportFrom
	ReportStart
	ReportTo
	ReportTaken // "taken %d"
	ReportConfirmed
	ReportPending
	ReportFailed
	ReportUnmatched
	ReportTips
	ReportKeyedIn // "%s (keyed in it)"
	ReportFailures
	ReportTakenAt

	// The printed receipt.
	ReceiptTerminal
	ReceiptAmount
	ReceiptTotal
	ReceiptTip
	ReceiptRate
	ReceiptRequest
	ReceiptMemo
	ReceiptPayer
	ReceiptTx
	ReceiptSettled
	ReceiptAuthNonce
	ReceiptSignedBy
	ReceiptCheck
	ReceiptThanks
	ReceiptPaid // large letters, two columns each: at most 12 characters (24-column paper)
	ReceiptAccepted
	ReceiptWillSettle
	ReceiptRejected
	ReceiptNotPaid

	// The digital receipt, the page GET /receipt/{id} (terminal/httpapi):
	// the printed receipt's words above, and these.
	PageReceipt  // the page's title and, with no merchant name, its heading
	PageToken    // the token contract's address
	PagePaidTo   // the merchant's address
	PageNetwork  // followed by PageChain
	PageChain    // "chain %d"
	PageMethod   // how the payment came: one of the three below
	PageHandover // the payer handed the signed transaction over (HTTP, NFC, scanner)
	PageOnChain  // the terminal saw the payment on chain
	PageAuthorization
	PageSignedBy // "Signed by", then the address and PageTheTerminal
	PageTheTerminal
	PageSignature
	PageHowTo    // "How to check it: ... chain %d ... Fetch %s ... it must give %s, ...": %s are the JSON link and the signer
	PageJSONLink // the link's words in PageHowTo: "its JSON"
	PagePending  // an unpaid request's status, said under NOT PAID
	PageExpired
	PageCancelled

	// Time layouts (package time): a moment to the second as receipts and
	// reports print it, and a short one for a screen line.
	LayoutStamp
	LayoutShort

	numKeys
)

// NumKeys is how many keys the catalog has: Key(0) to Key(NumKeys-1).
const NumKeys = int(numKeys)
