package httpapi

import (
	"context"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/pricefeed"
	"showpos/sync/webhook"
	"showpos/terminal/checkout"
	"showpos/terminal/fleet"
)

// StatusFunc assembles the terminal's status for GET /v1/status; the
// daemon fills it from its parts. Fleet tools read its "terminal" and
// "configVersion" fields.
type StatusFunc func(ctx context.Context) (Status, error)

// Status is the answer of GET /v1/status (operator socket; network API for
// register and fleet clients): what a fleet dashboard shows per terminal.
// Its JSON is public API: fields are added, never renamed.
type Status struct {
	// Networks is each network the terminal takes payments on, the
	// default first: its chain, connectivity, queue, watcher and
	// relayer. Online, Endpoint, LastContact, Queue and the rest at the
	// top level are the whole terminal's: online only when every network
	// is, the queue summed, the oldest queued payment of any; Endpoint,
	// LastContact, LastSync, Watch and Relayer are the default network's.
	Networks []NetworkStatus `json:"networks,omitempty"`
	Version  string          `json:"version"`
	Terminal string          `json:"terminal"`
	Started  time.Time       `json:"started"`
	// ConfigVersion is the fleet bundle in effect (0: the local file
	// alone); Config says when it came, how, and the last refusal.
	ConfigVersion uint64       `json:"configVersion"`
	Config        fleet.Status `json:"config"`
	Online        bool         `json:"online"`
	Endpoint      string       `json:"endpoint,omitempty"` // redacted
	LastContact   time.Time    `json:"lastContact,omitzero"`
	// Queue counts payments by state; OldestQueuedAgeSeconds is how long
	// the oldest payment not yet on chain has waited.
	Queue                  map[string]int `json:"queue"`
	OldestQueuedAgeSeconds float64        `json:"oldestQueuedAgeSeconds"`
	// LastSync is when the broadcaster last finished a round while online
	// (LastSyncErr: why that round stopped short, if it did); zero: not
	// since start.
	LastSync    time.Time `json:"lastSync,omitzero"`
	LastSyncErr string    `json:"lastSyncError,omitempty"`
	Devices     []Device  `json:"devices"`
	// Listen is where the terminal listens on the network, with the port
	// the system picked where the config asked for port 0.
	Listen Listen `json:"listen"`
	// Watch is the chain watcher's state; absent when watch.enabled is
	// false.
	Watch *Watch `json:"watch,omitempty"`
	// Authorizations is, per asset taking EIP-3009 authorizations whose
	// token the chain has answered for, whether its DOMAIN_SEPARATOR() is
	// the configured domain's (sync/tokendomain); on a mismatch the asset
	// is not offered for authorizations. Absent before any answer.
	Authorizations []checkout.DomainVerdict `json:"authorizations,omitempty"`
	// Relayer is the relayer's health (sync/relay): the account that
	// settles authorizations and pays their gas. Absent when relay.enabled
	// is false.
	Relayer *Relayer `json:"relayer,omitempty"`
	// Rates is, per asset priced in terminal.currency (a price_feed or a
	// peg), its source, whether a rate is usable now and why not, the last
	// good round and the last refused one (sync/pricefeed). Absent when no
	// asset is priced.
	Rates []pricefeed.Status `json:"rates,omitempty"`
	// Printer is the receipt printer and its print queue
	// (terminal/printq); absent when the board has no printer.
	Printer *Printer `json:"printer,omitempty"`
	// Webhooks is each client's webhook delivery (sync/webhook): URL
	// (without its query), delivered seq, backlog, last success and
	// error, next retry, events given up. Absent when no client has one.
	Webhooks []webhook.Status `json:"webhooks,omitempty"`
	// MQTT is the uplink to the fleet's broker (sync/uplink); absent when
	// mqtt.enabled is false.
	MQTT *MQTT `json:"mqtt,omitempty"`
	// Store is the store file's size, the payments it keeps and the
	// pruner's last round (storestatus.go).
	Store *StoreStatus `json:"store,omitempty"`
}

// MQTT is how the MQTT uplink stands. A broker that is down or refuses
// the terminal holds up no sale: events wait in the store (Backlog).
type MQTT struct {
	Connected bool   `json:"connected"`
	Broker    string `json:"broker"` // mqtt.broker, without user information
	// LastConnect is when it last connected; LastError why the last
	// attempt failed or the last connection ended (e.g. the broker's
	// "not Authorized"), at LastErrorAt.
	LastConnect time.Time `json:"lastConnect,omitzero"`
	LastError   string    `json:"lastError,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt,omitzero"`
	// Delivered is the highest event seq the broker acknowledged, with
	// every one before it; Backlog counts the events after it.
	Delivered uint64 `json:"delivered"`
	Backlog   uint64 `json:"backlog"`
}

// Printer is the receipt printer as the print queue last saw it. Paper
// out, cover open and a printer that does not answer hold receipts in the
// queue, never a sale.
type Printer struct {
	Name        string    `json:"name"`   // the driver and its port
	Online      bool      `json:"online"` // answered and can print
	PaperOut    bool      `json:"paperOut"`
	PaperLow    bool      `json:"paperLow"` // near end: change the roll soon
	CoverOpen   bool      `json:"coverOpen"`
	Queued      int       `json:"queued"`  // jobs waiting to print
	Printed     uint64    `json:"printed"` // since start
	Failed      uint64    `json:"failed"`  // jobs that could never print, since start
	Dropped     uint64    `json:"dropped"` // jobs pushed out of a full queue, since start
	LastError   string    `json:"lastError,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt,omitzero"`
	LastPrinted time.Time `json:"lastPrinted,omitzero"`
}

// Relayer is the relayer's account and how far its balance goes.
type Relayer struct {
	Address common.Address `json:"address"` // the account to fund with the network's coin
	ChainID uint64         `json:"chainId"`
	// Balance is in wei, decimal; absent before the node answered.
	Balance string `json:"balance,omitempty"`
	FeeCap  string `json:"feeCap"` // wei per gas a settlement is sent with now
	// Covers is how many settlements Balance pays for at FeeCap; Low is
	// Covers below relay.low_covers (or the balance not known yet):
	// authorizations are still taken, and wait when it is empty.
	Covers    uint64    `json:"covers"`
	Low       bool      `json:"low"`
	InFlight  int       `json:"inFlight"` // settlements sent and not final
	Nonce     uint64    `json:"nonce"`    // the next one it will use
	LastError string    `json:"error,omitempty"`
	LastRound time.Time `json:"lastRound,omitzero"`
}

// NetworkStatus is one network in the status.
type NetworkStatus struct {
	Name          string `json:"name"`
	ChainID       uint64 `json:"chainId"`
	Confirmations uint64 `json:"confirmations"`
	FinalDepth    uint64 `json:"finalDepth"`
	Online        bool   `json:"online"`
	// Reason is why the network is offline, as its chain client last
	// saw it; Endpoint the endpoint in use (redacted).
	Reason                 string         `json:"reason,omitempty"`
	Endpoint               string         `json:"endpoint,omitempty"`
	LastContact            time.Time      `json:"lastContact,omitzero"`
	Queue                  map[string]int `json:"queue"`
	OldestQueuedAgeSeconds float64        `json:"oldestQueuedAgeSeconds"`
	LastSync               time.Time      `json:"lastSync,omitzero"`
	LastSyncErr            string         `json:"lastSyncError,omitempty"`
	Watch                  *Watch         `json:"watch,omitempty"`
	Relayer                *Relayer       `json:"relayer,omitempty"`
}

// Watch is how far the chain watcher (sync/watch) has read the chain for
// transfers that wallets sent straight to the merchant.
type Watch struct {
	Height    uint64    `json:"height"` // every block up to here is processed
	Head      uint64    `json:"head"`   // the node's head at the last round
	Lag       uint64    `json:"lag"`    // head - height
	LastRound time.Time `json:"lastRound,omitzero"`
	Reorgs    int       `json:"reorgs"` // rewinds since start
	// Skipped counts blocks never read because they were more than
	// watch.max_lookback behind the head (since start); SkippedTo is the
	// last of them.
	Skipped   uint64 `json:"skipped"`
	SkippedTo uint64 `json:"skippedTo,omitempty"`
	Err       string `json:"error,omitempty"` // the last round's error
}

// Listen is the addresses of the network listeners.
type Listen struct {
	API       string `json:"api"`                 // the network API (payer, integrator, fleet): host:port
	Metrics   string `json:"metrics,omitempty"`   // api.metrics_listen, if set: host:port
	Simulator string `json:"simulator,omitempty"` // the simulator's page, if the board has one: its URL
}

// Device is one configured device of the board.
type Device struct {
	Kind    string `json:"kind"`   // display, keypad, scanner, nfc, indicator, printer
	Driver  string `json:"driver"` // as in [board.*]
	Present bool   `json:"present"`
	Name    string `json:"name,omitempty"`
}
