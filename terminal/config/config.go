// Package config reads the terminal's TOML configuration file and checks it
// whole before anything starts: a config that loads is one the terminal can
// run with. Every key is documented in configs/posd.toml.
//
// Amounts in the file are decimal strings in the asset's own unit ("0.5" ETH,
// "250" TUSD) and are turned into exact base units here, never through a float.
package config

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/uplink"
	"showpos/terminal/asset"
	"showpos/terminal/fiat"
	"showpos/terminal/locale"
	"showpos/terminal/request"
)

// ErrInvalid is wrapped by every error about the content of a config file.
var ErrInvalid = errors.New("invalid config")

// Defaults for keys a file may leave out.
const (
	DefaultListen     = "127.0.0.1:8080"
	DefaultDataDir    = "/var/lib/showpos"
	DefaultRequestTTL = 5 * time.Minute
	// DefaultMaxConns caps the network API's open connections. A terminal
	// serves one payer at a time (a browser opens up to 6 connections), a
	// cash register or two and a fleet manager: 64 leaves room for all of
	// them several times over, and 64 idle connections cost posd about
	// 1.4 MiB (22 KiB each, measured without TLS) and 64 file
	// descriptors, nothing a small board misses.
	DefaultMaxConns = 64
	// MaxMaxConns bounds api.max_conns: past it the connections alone
	// could cost a small board tens of MiB.
	MaxMaxConns = 1024
	// DefaultRegistrationTTL is how long a third party's registration
	// waits for the operator (api.registration_ttl): a week of holidays.
	DefaultRegistrationTTL = 7 * 24 * time.Hour
	// DefaultTokenMinGas is the gas floor for an ERC-20 transfer when an
	// asset sets none: a plain transfer costs 35–52k gas; a payer's wallet
	// that estimates well leaves headroom above that.
	DefaultTokenMinGas = 45_000
	nativeDecimals     = 18
)

// Config is the terminal's running configuration, checked and with amounts
// in base units.
type Config struct {
	Terminal Terminal
	API      API
	// Networks are the chains payments are taken on (networks.go), the
	// first the default: the [[networks]] entries, or the one network
	// of a file with [chain] and [[assets]]. ChainID, Chain, Relay,
	// Assets and Payments.MinFeeCap are the default network's.
	Networks []Network
	ChainID  uint64
	// Chain is how the terminal reaches the network; no RPC endpoints
	// means it only takes payments and never broadcasts them.
	Chain     Chain
	Broadcast Broadcast
	Watch     Watch
	Relay     Relay
	Merchant  common.Address
	Payments  Payments
	// Assets in file order; the first is the default for new requests.
	Assets []Asset
	// Board names the drivers of the terminal's devices.
	Board Board
	// Texts are what the cashier's screens say beyond the fixed words.
	Texts Texts
	// Fleet is how a fleet manager may configure this terminal; a zero
	// Fleet (no public key) takes no bundles.
	Fleet Fleet
	// Tips is whether and which tips the payer is offered.
	Tips Tips
	// Webhooks is how events reach the clients' webhooks (webhooks.go).
	Webhooks Webhooks
	// Store is how long settled records are kept (store.go).
	Store Store
	// MQTT is the uplink to a fleet's broker (sync/uplink); off unless
	// enabled.
	MQTT MQTT
}

// MQTT is the [mqtt] table, read at start only. The client id is
// terminal.id.
type MQTT struct {
	Enabled bool
	// Broker is mqtt://host:port or mqtts://host:port (TLS), with no user
	// information: credentials are Username and Password.
	Broker   string
	Username string
	// Password, or PasswordFile: a file holding it (read at start, its
	// surrounding whitespace trimmed). At most one is set.
	Password     string
	PasswordFile string
	// CAFile is the CA (PEM) an mqtts broker's certificate is checked
	// against (empty: the system's roots); CertFile and KeyFile the
	// terminal's client certificate, both or neither. mqtts only.
	CAFile, CertFile, KeyFile string
	// TopicPrefix is the topics' prefix, one or more topic levels
	// (default "showpos").
	TopicPrefix string
	StatusEvery time.Duration // the status is published at least this often
	Keepalive   time.Duration // the MQTT keepalive
}

// Texts is the [texts] table.
type Texts struct {
	// Welcome is a line the idle screen shows under the terminal's state,
	// e.g. "Scan or tap to pay"; empty shows none.
	Welcome string
}

// Fleet is the [fleet] table: the fleet key pinned at provisioning and
// where signed config bundles come from.
type Fleet struct {
	// PublicKey verifies config bundles (ed25519); nil: no fleet.
	PublicKey ed25519.PublicKey
	// Groups this terminal belongs to, for bundle targeting.
	Groups []string
	// PullURL, if set, is fetched every PullEvery for a newer bundle.
	PullURL   string
	PullEvery time.Duration
}

// Terminal is the [terminal] table.
type Terminal struct {
	ID           string
	MerchantName string
	DataDir      string
	// SealKey is the file holding the key that seals the integrator
	// clients' service keys in the store; "" means <data_dir>/seal.key.
	SealKey    string
	RequestTTL time.Duration
	// PublicURL is the base URL at which payer phones reach the payer API;
	// it goes into every payment request so payer apps can fetch it.
	PublicURL string
	// Certificate is the fleet's terminal certificate (fleet.Certify's
	// JSON, compacted), served with every request; "" for none.
	Certificate string
	// Currency (currency) is the shop's currency, an ISO 4217 code in
	// capitals ("EUR"; see fiat.Lookup); "" for none: amounts are then
	// keyed in the asset only. An asset's price_feed or peg prices it in
	// this currency.
	Currency string
	// Locale (locale) is the language of every word the screens and the
	// printed receipts and reports show, and how they write amounts and
	// times: "en" (the default), "de", "fr" or "es"; a BCP 47 tag
	// ("de-AT") is taken by its language.
	Locale locale.Locale
}

// Tips is the [tips] table: whether the payer is offered a tip after the
// amount, and which percentages (at most 3, keys 1 to 3 of the keypad).
type Tips struct {
	Enabled     bool
	Percentages []uint
}

// API is the [api] table.
type API struct {
	Listen         string
	OperatorSocket string
	// TLSCert and TLSKey are PEM files; when set, the network API (payer,
	// integrator and fleet routes) is served over HTTPS only.
	TLSCert string
	TLSKey  string
	// MetricsListen, if set, serves Prometheus text at /metrics on this
	// address (no authentication: keep it on a management network). The
	// operator socket serves /metrics too.
	MetricsListen string
	// MaxConns is how many connections the network API holds open at
	// once; more wait in the kernel's queue until one closes.
	MaxConns int
	// RegistrationTTL is how long a third party's registration waits for
	// the operator's approval before it expires (1h..90 days).
	RegistrationTTL time.Duration
}

// OverrideListen sets api.listen (the -listen flag). A public_url that
// was the default, the old listen address, follows it.
func (c *Config) OverrideListen(addr string) {
	if c.Terminal.PublicURL == defaultPublicURL(c.API) {
		c.Terminal.PublicURL = defaultPublicURL(API{Listen: addr, TLSCert: c.API.TLSCert})
	}
	c.API.Listen = addr
}

// ListenBound records the port the network API was given where api.listen
// asks for port 0 (the system picks one): api.listen keeps its host and
// takes that port, and a public_url that was the default follows it as
// with OverrideListen, so the requests the terminal signs point payers at
// a port that answers, not at ":0". Any other api.listen is left as is.
func (c *Config) ListenBound(port int) {
	host, p, err := net.SplitHostPort(c.API.Listen)
	if err != nil || p != "0" {
		return
	}
	c.OverrideListen(net.JoinHostPort(host, strconv.Itoa(port)))
}

func defaultPublicURL(a API) string {
	if a.TLS() {
		return "https://" + a.Listen
	}
	return "http://" + a.Listen
}

// TLS reports whether the network API is served over HTTPS.
func (a API) TLS() bool { return a.TLSCert != "" }

// DefaultFinalDepth is chain.final_depth when the file sets none: 64
// blocks, two epochs of Ethereum's beacon chain (about 13 minutes), the
// least after which its blocks are finalized; on chains without a
// finalized tag, reorganisations deeper than that are not seen in
// practice. A node that names a finalized block is followed by that tag
// instead.
const DefaultFinalDepth = 64

// Chain is the [chain] table beyond its id.
type Chain struct {
	RPC           []string // JSON-RPC endpoints, tried in order
	Confirmations uint64
	// FinalDepth is how deep a confirmed payment's block must be to be
	// taken as final where the node has no "finalized" block tag.
	FinalDepth  uint64
	CallTimeout time.Duration
	ProbeEvery  time.Duration
	// PreflightBudget is how long the till waits for the chain's view of
	// a handed-over payment's sender before accepting it on the offline
	// check alone (chain.preflight_budget); 0: never asks.
	PreflightBudget time.Duration
}

// DefaultPreflightBudget is chain.preflight_budget when the file sets
// none: long enough for a batch round trip to a provider, short enough
// that a payer at the counter does not notice a chain that does not answer.
const DefaultPreflightBudget = 800 * time.Millisecond

// Broadcast is the [broadcast] table.
type Broadcast struct {
	MaxAge      time.Duration
	FundsWindow time.Duration
	BatchSize   int
	Poll        time.Duration
}

// Watch is the [watch] table: the chain watcher (sync/watch), which
// records transfers to the merchant that wallets sent straight to the
// chain.
type Watch struct {
	// Enabled: default true. The watcher runs when enabled and chain.rpc
	// names endpoints (they may come later, without a restart).
	Enabled     bool
	Poll        time.Duration // least pause between rounds; default 2s
	MaxRange    uint64        // blocks per round and per eth_getLogs; default 500
	MaxLookback uint64        // blocks behind the head caught up after time offline; default 50000
}

// Relay is the [relay] table: the relayer (sync/relay), which settles
// EIP-3009 authorizations from the terminal's own account (relayer.key in
// the data dir), paying the gas.
type Relay struct {
	// Enabled: default true. The relayer then runs (a fleet bundle may
	// add an asset that takes authorizations without a restart), and
	// settles once chain.rpc names endpoints; its low-balance warning
	// shows while an asset takes authorizations.
	Enabled bool
	// MaxFeePerGas (max_fee_gwei, whole gwei) caps every settlement's fee
	// per gas, bumps included: the most the merchant pays per gas.
	// Default DefaultRelayMaxFeeGwei.
	MaxFeePerGas *big.Int
	// LowCovers (low_covers): status and the screen warn when the
	// relayer's balance covers fewer settlements; default 20.
	LowCovers uint64
	// StuckAfter (stuck_after): a settlement unmined this long is sent
	// again with fees 10% higher; default 3m.
	StuckAfter time.Duration
	// Poll is the pause between rounds while no settlement waits to be
	// mined, and after a failed round (an accepted authorization starts
	// one at once); default 15s.
	Poll time.Duration
	// FollowUp (follow_up) is the least pause between rounds while
	// settlements wait to be mined, so a backlog drains at the chain's
	// pace (sync/relay Options.FollowUp); default 1s, at most Poll.
	FollowUp time.Duration
}

// DefaultRelayMaxFeeGwei is relay.max_fee_gwei when not set: far above a
// quiet chain's base fee (the dev chain's is under 1 gwei), low enough
// that a settlement of ~86,000 gas costs at most about 0.0086 ETH.
const DefaultRelayMaxFeeGwei = 100

// Payments is the [payments] table: rules every payment must meet.
type Payments struct {
	AllowOverpay bool
	// MinFeeCap is the floor for a payment's maxFeePerGas (gasPrice for
	// legacy transactions), in wei; nil means no floor.
	MinFeeCap *big.Int
	// SettleWindow (settle_window) is how long an EIP-3009 authorization
	// must stay valid after it is taken: the time the terminal may need to
	// come online and settle it. Requests advertise it as x402's
	// maxTimeoutSeconds. Default DefaultSettleWindow.
	SettleWindow time.Duration
}

// DefaultSettleWindow is payments.settle_window when not set: a day.
const DefaultSettleWindow = 24 * time.Hour

// maxSettleWindow bounds payments.settle_window: an authorization valid
// for longer is a promise the payer cannot take back for that long.
const maxSettleWindow = 30 * 24 * time.Hour

// AuthorizationEIP3009 is the one value of an asset's authorization key:
// the token takes EIP-3009 transferWithAuthorization (USDC's FiatToken
// v2), and payers may sign one instead of a transaction.
const AuthorizationEIP3009 = "eip3009"

// Asset is one [[assets]] entry.
type Asset struct {
	asset.Asset
	// MinGas is the least gas limit a payment in this asset may carry.
	MinGas uint64
	// MaxPayment caps one payment (nil: no cap); MaxUnsettled caps the sum of
	// accepted payments not yet confirmed on chain (nil: no cap). Base units.
	MaxPayment   *big.Int
	MaxUnsettled *big.Int
	// MaxUnsettledPerPayer caps one sender's part of MaxUnsettled
	// (max_unsettled_per_payer; nil: no cap). Base units.
	MaxUnsettledPerPayer *big.Int
	// Authorization is AuthorizationEIP3009 when the token takes EIP-3009
	// authorizations (authorization = "eip3009"), else empty. DomainName
	// and DomainVersion (domain_name, domain_version) are then the token's
	// EIP-712 domain name and version, both required (USDC on Ethereum
	// and Base: "USD Coin", "2"; testnet deployments often "USDC").
	Authorization             string
	DomainName, DomainVersion string
	// Price says where the asset's price in terminal.currency comes from;
	// the zero Price: nowhere (amounts in the asset only).
	Price Price
}

// DefaultRateGrace is what max_rate_age adds to price_heartbeat when the
// file sets none: a healthy feed's round is up to a heartbeat old, and a
// terminal that lost the chain keeps its last rate 15 minutes beyond.
const DefaultRateGrace = 15 * time.Minute

// Bounds of price_heartbeat and max_rate_age.
const (
	minHeartbeat  = 10 * time.Second
	maxHeartbeat  = 7 * 24 * time.Hour
	maxMaxRateAge = 14 * 24 * time.Hour
	// maxPegDigits bounds a peg's digits after the point (Chainlink's
	// feeds have 8 or 18).
	maxPegDigits = 18
)

// Price is an asset's source of exchange rates (sync/pricefeed): a
// Chainlink feed or a fixed peg, never both.
type Price struct {
	// Feed (price_feed) is a Chainlink AggregatorV3 contract whose
	// latestRoundData() answers the price of one whole unit of the asset in
	// terminal.currency; the zero address: no feed.
	Feed common.Address
	// Heartbeat (price_heartbeat) is the feed's heartbeat: a round whose
	// updatedAt is older is stale and not used. Required with Feed.
	Heartbeat time.Duration
	// MaxRateAge (max_rate_age) is how old, counted from its updatedAt, the
	// last good round may be and still price a sale (offline, or while the
	// feed's newer rounds are refused); at least Heartbeat, default
	// Heartbeat + DefaultRateGrace.
	MaxRateAge time.Duration
	// Peg (peg) is a fixed price of one whole unit in terminal.currency,
	// PegAnswer / 10^PegDecimals, as written in the file ("1", "0.92");
	// "" for none.
	Peg         string
	PegAnswer   *big.Int
	PegDecimals uint8
}

// Priced reports whether the asset has a source of exchange rates.
func (p Price) Priced() bool { return p.Feed != (common.Address{}) || p.Peg != "" }

// Authorizes reports whether payers may pay in a by an EIP-3009
// authorization.
func (a Asset) Authorizes() bool { return a.Authorization == AuthorizationEIP3009 }

// Asset returns the configured asset with the symbol, case-insensitively:
// the default network's, else the first network's that takes it.
func (c *Config) Asset(symbol string) (Asset, bool) {
	for _, a := range c.Assets {
		if strings.EqualFold(a.Symbol, symbol) {
			return a, true
		}
	}
	// An asset a later network takes alone: one symbol has one number of
	// decimals on every network, so its amounts read the same.
	for _, n := range c.Networks {
		if a, ok := n.Asset(symbol); ok {
			return a, true
		}
	}
	return Asset{}, false
}

// SocketPath is where the operator channel listens.
func (c *Config) SocketPath() string {
	if c.API.OperatorSocket != "" {
		return c.API.OperatorSocket
	}
	return filepath.Join(c.Terminal.DataDir, "posd.sock")
}

// StorePath is the bbolt file holding requests and the outbox.
func (c *Config) StorePath() string { return filepath.Join(c.Terminal.DataDir, "showpos.db") }

// KeyPath is the terminal's own signing key.
func (c *Config) KeyPath() string { return filepath.Join(c.Terminal.DataDir, "terminal.key") }

// SealKeyPath is the key file that seals the service keys kept in the
// store (terminal.seal_key, default <data_dir>/seal.key).
func (c *Config) SealKeyPath() string {
	if c.Terminal.SealKey != "" {
		return c.Terminal.SealKey
	}
	return filepath.Join(c.Terminal.DataDir, "seal.key")
}

// file mirrors the TOML layout; strings stay strings until checked.
type file struct {
	Terminal struct {
		ID           string        `toml:"id"`
		MerchantName string        `toml:"merchant_name"`
		DataDir      string        `toml:"data_dir"`
		SealKey      string        `toml:"seal_key"`
		RequestTTL   time.Duration `toml:"request_ttl"`
		PublicURL    string        `toml:"public_url"`
		Certificate  string        `toml:"certificate"`
		Currency     string        `toml:"currency"`
		Locale       string        `toml:"locale"`
	} `toml:"terminal"`
	Tips struct {
		Enabled     bool   `toml:"enabled"`
		Percentages []uint `toml:"percentages"`
	} `toml:"tips"`
	API struct {
		Listen         string `toml:"listen"`
		OperatorSocket string `toml:"operator_socket"`
		TLSCert        string `toml:"tls_cert"`
		TLSKey         string `toml:"tls_key"`
		MetricsListen  string `toml:"metrics_listen"`
		MaxConns       int    `toml:"max_conns"`
		// RegistrationTTL: see API.RegistrationTTL.
		RegistrationTTL time.Duration `toml:"registration_ttl"`
	} `toml:"api"`
	Chain struct {
		ID uint64 `toml:"id"`
		fileChainKeys
	} `toml:"chain"`
	Broadcast struct {
		MaxAge      time.Duration `toml:"max_age"`
		FundsWindow time.Duration `toml:"funds_window"`
		BatchSize   int           `toml:"batch_size"`
		Poll        time.Duration `toml:"poll"`
	} `toml:"broadcast"`
	Watch struct {
		Enabled     *bool         `toml:"enabled"`
		Poll        time.Duration `toml:"poll"`
		MaxRange    uint64        `toml:"max_range"`
		MaxLookback uint64        `toml:"max_lookback"`
	} `toml:"watch"`
	Relay struct {
		Enabled *bool         `toml:"enabled"`
		Poll    time.Duration `toml:"poll"`
		fileNetRelay
	} `toml:"relay"`
	Webhooks fileWebhooks `toml:"webhooks"`
	Merchant struct {
		Address string `toml:"address"`
	} `toml:"merchant"`
	Payments struct {
		AllowOverpay bool          `toml:"allow_overpay"`
		MinFeeCap    string        `toml:"min_fee_cap_wei"`
		SettleWindow time.Duration `toml:"settle_window"`
	} `toml:"payments"`
	Assets []fileAsset `toml:"assets"`
	// Networks is [[networks]] (networks.go); legacy says which of the
	// one-chain keys the file defines, which a file with networks may not.
	Networks []fileNetwork `toml:"networks"`
	legacy   []string
	Board    Board `toml:"board"`
	Texts    struct {
		Welcome string `toml:"welcome"`
	} `toml:"texts"`
	Fleet struct {
		PublicKey string        `toml:"public_key"`
		Groups    []string      `toml:"groups"`
		PullURL   string        `toml:"pull_url"`
		PullEvery time.Duration `toml:"pull_every"`
	} `toml:"fleet"`
	MQTT struct {
		Enabled      bool          `toml:"enabled"`
		Broker       string        `toml:"broker"`
		Username     string        `toml:"username"`
		Password     string        `toml:"password"`
		PasswordFile string        `toml:"password_file"`
		CAFile       string        `toml:"ca_file"`
		CertFile     string        `toml:"cert_file"`
		KeyFile      string        `toml:"key_file"`
		TopicPrefix  string        `toml:"topic_prefix"`
		StatusEvery  time.Duration `toml:"status_every"`
		Keepalive    time.Duration `toml:"keepalive"`
	} `toml:"mqtt"`
	Store fileStore `toml:"store"`
}

type fileAsset struct {
	Symbol       string `toml:"symbol"`
	Token        string `toml:"token"`
	Decimals     *uint8 `toml:"decimals"`
	MinGas       uint64 `toml:"min_gas"`
	MaxPayment   string `toml:"max_payment"`
	MaxUnsettled string `toml:"max_unsettled"`

	MaxUnsettledPerPayer string `toml:"max_unsettled_per_payer"`

	Authorization string `toml:"authorization"`
	DomainName    string `toml:"domain_name"`
	DomainVersion string `toml:"domain_version"`

	PriceFeed      string        `toml:"price_feed"`
	PriceHeartbeat time.Duration `toml:"price_heartbeat"`
	MaxRateAge     time.Duration `toml:"max_rate_age"`
	Peg            string        `toml:"peg"`
}

// maxFileSize bounds what Load reads: a config is a few kilobytes.
const maxFileSize = 1 << 20

// Load reads and checks the config file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse checks a config given as TOML text. Unknown keys are refused, so a
// misspelt key is an error rather than a silently ignored setting.
func Parse(b []byte) (*Config, error) {
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrInvalid, len(b), maxFileSize)
	}
	var f file
	md, err := toml.Decode(string(b), &f)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if undec := md.Undecoded(); len(undec) > 0 {
		keys := make([]string, len(undec))
		for i, k := range undec {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("%w: unknown key(s) %s", ErrInvalid, strings.Join(keys, ", "))
	}
	// The decoder matches a key to a field ignoring case (Unicode folding),
	// so "[Terminal]" or "ſymbol" would be taken as known, and two
	// spellings of one key ("[[assets]]" and "[[Assets]]") decode in random
	// order. Every key of the format is lowercase ASCII: others are unknown.
	var odd []string
	for _, k := range md.Keys() {
		if slices.ContainsFunc(k, func(part string) bool { return !isFormatKey(part) }) {
			odd = append(odd, k.String())
		}
	}
	if len(odd) > 0 {
		sort.Strings(odd)
		return nil, fmt.Errorf("%w: unknown key(s) %s (keys are lowercase)", ErrInvalid, strings.Join(slices.Compact(odd), ", "))
	}
	for _, k := range []string{"chain", "assets", "payments.min_fee_cap_wei"} {
		if md.IsDefined(strings.Split(k, ".")...) {
			f.legacy = append(f.legacy, k)
		}
	}
	return f.check()
}

// isFormatKey reports whether part can be (part of) a key of the format:
// lowercase ASCII letters, digits and '_'.
func isFormatKey(part string) bool {
	if part == "" {
		return false
	}
	for i := 0; i < len(part); i++ {
		if c := part[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func (f *file) check() (*Config, error) {
	c := &Config{
		Terminal: Terminal{
			ID:           strings.TrimSpace(f.Terminal.ID),
			MerchantName: strings.TrimSpace(f.Terminal.MerchantName),
			DataDir:      f.Terminal.DataDir,
			SealKey:      f.Terminal.SealKey,
			RequestTTL:   f.Terminal.RequestTTL,
			PublicURL:    strings.TrimRight(f.Terminal.PublicURL, "/"),
		},
		API: API{Listen: f.API.Listen, OperatorSocket: f.API.OperatorSocket,
			TLSCert: f.API.TLSCert, TLSKey: f.API.TLSKey, MetricsListen: f.API.MetricsListen, MaxConns: f.API.MaxConns,
			RegistrationTTL: f.API.RegistrationTTL},
		Texts:    Texts{Welcome: strings.TrimSpace(f.Texts.Welcome)},
		ChainID:  f.Chain.ID,
		Payments: Payments{AllowOverpay: f.Payments.AllowOverpay},
	}
	if c.Terminal.ID == "" {
		return nil, invalid("terminal.id is required")
	}
	st, err := f.Store.check()
	if err != nil {
		return nil, err
	}
	c.Store = st
	if cur := strings.TrimSpace(f.Terminal.Currency); cur != "" {
		if _, err := fiat.Lookup(cur); err != nil {
			return nil, invalid("terminal.currency %q is not an ISO 4217 currency code a shop prices in (three capitals, e.g. \"EUR\")", cur)
		}
		c.Terminal.Currency = cur
	}
	loc, err := locale.Parse(f.Terminal.Locale)
	if err != nil {
		return nil, invalid("terminal.locale %q is not a language the terminal speaks (%s; or a BCP 47 tag of one, e.g. \"de-AT\")",
			f.Terminal.Locale, strings.Join(locale.Tags(), ", "))
	}
	c.Terminal.Locale = loc
	c.Tips = Tips{Enabled: f.Tips.Enabled, Percentages: f.Tips.Percentages}
	if c.Tips.Enabled && len(c.Tips.Percentages) == 0 {
		c.Tips.Percentages = []uint{10, 15, 20}
	}
	if len(c.Tips.Percentages) > 3 {
		return nil, invalid("tips.percentages has %d values, at most 3 (keys 1 to 3)", len(c.Tips.Percentages))
	}
	for _, p := range c.Tips.Percentages {
		if p < 1 || p > fiat.MaxTipPercent {
			return nil, invalid("tips.percentages: %d is outside 1..%d", p, fiat.MaxTipPercent)
		}
	}
	if len(c.Terminal.ID) > 64 {
		return nil, invalid("terminal.id is longer than 64 bytes")
	}
	if c.Terminal.DataDir == "" {
		c.Terminal.DataDir = DefaultDataDir
	}
	if c.Terminal.SealKey != "" && !filepath.IsAbs(c.Terminal.SealKey) {
		return nil, invalid("terminal.seal_key %q is not an absolute path", c.Terminal.SealKey)
	}
	if k := c.SealKeyPath(); filepath.Clean(k) == filepath.Clean(c.StorePath()) || filepath.Clean(k) == filepath.Clean(c.KeyPath()) {
		return nil, invalid("terminal.seal_key %q is the store file or terminal.key: it must be a file of its own", k)
	}
	if c.Terminal.RequestTTL == 0 {
		c.Terminal.RequestTTL = DefaultRequestTTL
	}
	if c.Terminal.RequestTTL < 10*time.Second || c.Terminal.RequestTTL > 24*time.Hour {
		return nil, invalid("terminal.request_ttl %s is outside 10s..24h", c.Terminal.RequestTTL)
	}
	if c.API.Listen == "" {
		c.API.Listen = DefaultListen
	}
	if _, _, err := net.SplitHostPort(c.API.Listen); err != nil {
		return nil, invalid("api.listen %q: %v", c.API.Listen, err)
	}
	if (c.API.TLSCert == "") != (c.API.TLSKey == "") {
		return nil, invalid("api.tls_cert and api.tls_key go together: set both or neither")
	}
	if c.API.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.API.MetricsListen); err != nil {
			return nil, invalid("api.metrics_listen %q: %v", c.API.MetricsListen, err)
		}
	}
	if c.API.MaxConns == 0 {
		c.API.MaxConns = DefaultMaxConns
	}
	if c.API.MaxConns < 1 || c.API.MaxConns > MaxMaxConns {
		return nil, invalid("api.max_conns %d is outside 1..%d", c.API.MaxConns, MaxMaxConns)
	}
	if c.API.RegistrationTTL == 0 {
		c.API.RegistrationTTL = DefaultRegistrationTTL
	}
	if c.API.RegistrationTTL < time.Hour || c.API.RegistrationTTL > 90*24*time.Hour {
		return nil, invalid("api.registration_ttl %s is outside 1h..2160h (90 days)", c.API.RegistrationTTL)
	}
	if c.Terminal.PublicURL == "" {
		c.Terminal.PublicURL = defaultPublicURL(c.API)
	}
	if u, err := url.Parse(c.Terminal.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, invalid("terminal.public_url %q is not an http(s) URL", c.Terminal.PublicURL)
	}
	// The request URL (public_url + path + ?id= + 32 hex digits) rides in
	// every QR code and is capped by the request document.
	if n := len(c.Terminal.PublicURL) + len("/api/showpos/getPaymentRequest?id=") + 32; n > request.MaxURLLength {
		return nil, invalid("terminal.public_url is too long: request URLs would be %d bytes, at most %d", n, request.MaxURLLength)
	}
	// The certificate goes into every request document as JSON: it must be
	// one JSON object (its signature the payer checks, not the terminal).
	if cert := strings.TrimSpace(f.Terminal.Certificate); cert != "" {
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(cert)); err != nil || buf.Len() == 0 || buf.Bytes()[0] != '{' || buf.Len() > 4<<10 {
			return nil, invalid("terminal.certificate is not a certificate (one JSON object of at most 4 KiB, as posctl fleet certify prints)")
		}
		c.Terminal.Certificate = buf.String()
	}
	if err := f.checkChain(c); err != nil {
		return nil, err
	}
	c.Board = f.Board
	if err := c.Board.check(); err != nil {
		return nil, err
	}
	if !common.IsHexAddress(f.Merchant.Address) {
		return nil, invalid("merchant.address %q is not an address", f.Merchant.Address)
	}
	c.Merchant = common.HexToAddress(f.Merchant.Address)
	if c.Merchant == (common.Address{}) {
		return nil, invalid("merchant.address is the zero address")
	}
	if f.Payments.MinFeeCap != "" {
		v, err := asset.ParseAmount(f.Payments.MinFeeCap, 0)
		if err != nil {
			return nil, invalid("payments.min_fee_cap_wei: %v", err)
		}
		c.Payments.MinFeeCap = v
	}
	c.Payments.SettleWindow = f.Payments.SettleWindow
	switch w := c.Payments.SettleWindow; {
	case w == 0:
		c.Payments.SettleWindow = DefaultSettleWindow
	case w < time.Minute || w > maxSettleWindow || w%time.Second != 0:
		return nil, invalid("payments.settle_window %s: want whole seconds from 1m to %s", w, maxSettleWindow)
	}
	if len(c.Texts.Welcome) > maxDisplayText {
		return nil, invalid("texts.welcome is longer than %d bytes", maxDisplayText)
	}
	if err := f.checkFleet(c); err != nil {
		return nil, err
	}
	if err := f.checkMQTT(c); err != nil {
		return nil, err
	}
	if len(f.Networks) == 0 {
		if len(f.Assets) == 0 {
			return nil, invalid("at least one [[assets]] entry is required")
		}
		if c.Assets, err = checkAssets("assets", f.Assets, c.Terminal.Currency); err != nil {
			return nil, err
		}
	}
	if err := f.checkRelay(c); err != nil {
		return nil, err
	}
	if err := f.checkNetworks(c); err != nil {
		return nil, err
	}
	if err := f.checkWebhooks(c); err != nil {
		return nil, err
	}
	return c, nil
}

// maxDisplayText bounds a text shown on the terminal's screens.
const maxDisplayText = 120

// DefaultPullEvery is how often a terminal with fleet.pull_url fetches it.
const DefaultPullEvery = 5 * time.Minute

func (f *file) checkFleet(c *Config) error {
	ff := f.Fleet
	if ff.PublicKey == "" {
		if len(ff.Groups) > 0 || ff.PullURL != "" || ff.PullEvery != 0 {
			return invalid("fleet.public_key is required when [fleet] sets anything else")
		}
		return nil
	}
	k, err := hex.DecodeString(strings.TrimPrefix(ff.PublicKey, "0x"))
	if err != nil || len(k) != ed25519.PublicKeySize {
		return invalid("fleet.public_key must be an ed25519 public key: %d hex digits", 2*ed25519.PublicKeySize)
	}
	c.Fleet = Fleet{PublicKey: ed25519.PublicKey(k), PullURL: ff.PullURL, PullEvery: ff.PullEvery}
	for i, g := range ff.Groups {
		if g == "" || len(g) > 64 || strings.TrimSpace(g) != g {
			return invalid("fleet.groups[%d] must be 1..64 bytes without surrounding spaces", i)
		}
		c.Fleet.Groups = append(c.Fleet.Groups, g)
	}
	if c.Fleet.PullURL != "" {
		u, err := url.Parse(c.Fleet.PullURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid("fleet.pull_url is not an http(s) URL")
		}
		if c.Fleet.PullEvery == 0 {
			c.Fleet.PullEvery = DefaultPullEvery
		}
		if c.Fleet.PullEvery < time.Second {
			return invalid("fleet.pull_every %s is under a second", c.Fleet.PullEvery)
		}
	} else if c.Fleet.PullEvery != 0 {
		return invalid("fleet.pull_every without fleet.pull_url")
	}
	return nil
}

// Defaults of [mqtt].
const (
	DefaultMQTTStatusEvery = 60 * time.Second
	DefaultMQTTKeepalive   = 30 * time.Second
)

func (f *file) checkMQTT(c *Config) error {
	fm := f.MQTT
	m := MQTT{Enabled: fm.Enabled, Broker: strings.TrimSpace(fm.Broker), Username: fm.Username, Password: fm.Password,
		PasswordFile: fm.PasswordFile, CAFile: fm.CAFile, CertFile: fm.CertFile, KeyFile: fm.KeyFile,
		TopicPrefix: fm.TopicPrefix, StatusEvery: fm.StatusEvery, Keepalive: fm.Keepalive}
	if m.TopicPrefix == "" {
		m.TopicPrefix = uplink.DefaultPrefix
	}
	if m.StatusEvery == 0 {
		m.StatusEvery = DefaultMQTTStatusEvery
	}
	if m.Keepalive == 0 {
		m.Keepalive = DefaultMQTTKeepalive
	}
	switch {
	case m.Enabled && m.Broker == "":
		return invalid("mqtt.broker is required when mqtt.enabled is true")
	case m.StatusEvery < time.Second:
		return invalid("mqtt.status_every %s is under a second", m.StatusEvery)
	case m.Keepalive < time.Second || m.Keepalive%time.Second != 0:
		return invalid("mqtt.keepalive %s: want whole seconds, at least 1s", m.Keepalive)
	case m.Password != "" && m.PasswordFile != "":
		return invalid("mqtt.password and mqtt.password_file: set one")
	case (m.Password != "" || m.PasswordFile != "") && m.Username == "":
		return invalid("mqtt.password needs mqtt.username (MQTT 3.1.1 sends no password alone)")
	case (m.CertFile == "") != (m.KeyFile == ""):
		return invalid("mqtt.cert_file and mqtt.key_file go together")
	}
	if err := uplink.ValidPrefix(m.TopicPrefix); err != nil {
		return invalid("mqtt.topic_prefix: %v", err)
	}
	if m.Broker != "" {
		u, err := url.Parse(m.Broker)
		switch {
		case err != nil || (u.Scheme != "mqtt" && u.Scheme != "mqtts") || u.Host == "":
			return invalid("mqtt.broker %q: want mqtt://host:port or mqtts://host:port", m.Broker)
		case u.User != nil:
			return invalid("mqtt.broker: put the user name and password in mqtt.username and mqtt.password, not in the URL")
		case u.Scheme == "mqtt" && (m.CAFile != "" || m.CertFile != ""):
			return invalid("mqtt.ca_file, cert_file and key_file need an mqtts:// broker")
		}
	}
	if m.Enabled {
		// The terminal id is the client id and a topic level; the groups
		// are topic levels too.
		if err := uplink.ValidLevel(c.Terminal.ID); err != nil {
			return invalid("terminal.id cannot be the MQTT client id and topic level: %v", err)
		}
		for i, g := range c.Fleet.Groups {
			if err := uplink.ValidLevel(g); err != nil {
				return invalid("fleet.groups[%d] cannot be an MQTT topic level: %v", i, err)
			}
		}
	}
	c.MQTT = m
	return nil
}

// checkChain reads [chain] (when the file has no [[networks]]: those
// carry their own chain settings, checkNetworks), [broadcast] and [watch].
func (f *file) checkChain(c *Config) error {
	fb := f.Broadcast
	if len(f.Networks) == 0 {
		id, err := checkChainID("chain.id", f.Chain.ID)
		if err != nil {
			return err
		}
		c.ChainID = id
		if c.Chain, err = f.Chain.fileChainKeys.check("chain"); err != nil {
			return err
		}
	}
	c.Broadcast = Broadcast{MaxAge: fb.MaxAge, FundsWindow: fb.FundsWindow, BatchSize: fb.BatchSize, Poll: fb.Poll}
	if c.Broadcast.MaxAge == 0 {
		c.Broadcast.MaxAge = 72 * time.Hour
	}
	if c.Broadcast.FundsWindow == 0 {
		c.Broadcast.FundsWindow = 10 * time.Minute
	}
	if c.Broadcast.BatchSize == 0 {
		c.Broadcast.BatchSize = 100
	}
	if c.Broadcast.Poll == 0 {
		c.Broadcast.Poll = time.Second
	}
	switch {
	case c.Broadcast.MaxAge < time.Minute:
		return invalid("broadcast.max_age %s is under a minute", c.Broadcast.MaxAge)
	case c.Broadcast.FundsWindow < 0 || c.Broadcast.FundsWindow > c.Broadcast.MaxAge:
		return invalid("broadcast.funds_window must be between 0 and max_age")
	case c.Broadcast.BatchSize < 1 || c.Broadcast.BatchSize > 1000:
		return invalid("broadcast.batch_size %d is outside 1..1000", c.Broadcast.BatchSize)
	case c.Broadcast.Poll < 10*time.Millisecond:
		return invalid("broadcast.poll %s is under 10ms", c.Broadcast.Poll)
	}
	return f.checkWatch(c)
}

// checkWatch reads [watch]; the defaults are sync/watch's.
func (f *file) checkWatch(c *Config) error {
	fw := f.Watch
	c.Watch = Watch{Enabled: true, Poll: fw.Poll, MaxRange: fw.MaxRange, MaxLookback: fw.MaxLookback}
	if fw.Enabled != nil {
		c.Watch.Enabled = *fw.Enabled
	}
	if c.Watch.Poll == 0 {
		c.Watch.Poll = 2 * time.Second
	}
	if c.Watch.MaxRange == 0 {
		c.Watch.MaxRange = 500
	}
	if c.Watch.MaxLookback == 0 {
		c.Watch.MaxLookback = 50_000
	}
	switch {
	case c.Watch.Poll < 100*time.Millisecond:
		return invalid("watch.poll %s is under 100ms", c.Watch.Poll)
	case c.Watch.MaxRange > 10_000:
		return invalid("watch.max_range %d is more than 10000 (nodes cap eth_getLogs ranges)", c.Watch.MaxRange)
	case c.Watch.MaxLookback < c.Watch.MaxRange:
		return invalid("watch.max_lookback %d is below watch.max_range %d", c.Watch.MaxLookback, c.Watch.MaxRange)
	}
	return nil
}

// checkRelay reads [relay]; the defaults are sync/relay's, but for the
// fee cap, which it has none of.
func (f *file) checkRelay(c *Config) error {
	fr := f.Relay
	base := Relay{Enabled: true, Poll: fr.Poll, LowCovers: 20, StuckAfter: 3 * time.Minute,
		MaxFeePerGas: new(big.Int).Mul(big.NewInt(DefaultRelayMaxFeeGwei), big.NewInt(1e9))}
	if fr.Enabled != nil {
		base.Enabled = *fr.Enabled
	}
	if base.Poll == 0 {
		base.Poll = 15 * time.Second
	}
	if base.Poll < 100*time.Millisecond {
		return invalid("relay.poll %s is under 100ms", base.Poll)
	}
	r, err := fr.fileNetRelay.over("relay", base)
	if err != nil {
		return err
	}
	c.Relay = r
	return nil
}

// fileNetRelay is the part of [relay] a network may set for itself
// ([networks.relay]): what depends on the chain's fees, its coin and its
// pace. Zero values are unset.
type fileNetRelay struct {
	MaxFeeGwei uint64        `toml:"max_fee_gwei"`
	LowCovers  uint64        `toml:"low_covers"`
	StuckAfter time.Duration `toml:"stuck_after"`
	FollowUp   time.Duration `toml:"follow_up"`
}

// over is base with the keys fr sets, checked; key names the table in
// errors ("relay", "networks[1].relay"). follow_up, unset, is the least
// of 1s and poll.
func (fr fileNetRelay) over(key string, base Relay) (Relay, error) {
	r := base
	r.MaxFeePerGas = new(big.Int).Set(base.MaxFeePerGas)
	if fr.MaxFeeGwei != 0 {
		if fr.MaxFeeGwei > 1_000_000 {
			return r, invalid("%s.max_fee_gwei %d is more than 1000000", key, fr.MaxFeeGwei)
		}
		r.MaxFeePerGas.Mul(new(big.Int).SetUint64(fr.MaxFeeGwei), big.NewInt(1e9))
	}
	if fr.LowCovers != 0 {
		r.LowCovers = fr.LowCovers
	}
	if fr.StuckAfter != 0 {
		r.StuckAfter = fr.StuckAfter
	}
	if fr.FollowUp != 0 {
		r.FollowUp = fr.FollowUp
	}
	if r.FollowUp == 0 {
		r.FollowUp = min(time.Second, r.Poll)
	}
	switch {
	case r.StuckAfter < 10*time.Second:
		return r, invalid("%s.stuck_after %s is under 10s", key, r.StuckAfter)
	case r.FollowUp < 100*time.Millisecond:
		return r, invalid("%s.follow_up %s is under 100ms", key, r.FollowUp)
	case r.FollowUp > r.Poll:
		return r, invalid("%s.follow_up %s is more than relay.poll %s", key, r.FollowUp, r.Poll)
	}
	return r, nil
}

func (fa *fileAsset) check(key string) (Asset, error) {
	var a Asset
	a.Symbol = fa.Symbol
	if len(a.Symbol) > 12 {
		return a, invalid("%s.symbol must be 1..12 characters", key)
	}
	switch {
	case fa.Token == "":
		a.Decimals = nativeDecimals
		if fa.Decimals != nil && *fa.Decimals != nativeDecimals {
			return a, invalid("%s.decimals (%s): the native coin has 18 decimals, not %d", key, a.Symbol, *fa.Decimals)
		}
		a.MinGas = 21_000
		if fa.MinGas > a.MinGas {
			a.MinGas = fa.MinGas
		}
	case common.IsHexAddress(fa.Token):
		a.Token = common.HexToAddress(fa.Token)
		if a.Token == (common.Address{}) {
			return a, invalid("%s.token (%s) is the zero address", key, a.Symbol)
		}
		if fa.Decimals == nil {
			return a, invalid("%s.decimals (%s): decimals is required for a token", key, a.Symbol)
		}
		if *fa.Decimals > 36 {
			return a, invalid("%s.decimals (%s): decimals %d is more than 36", key, a.Symbol, *fa.Decimals)
		}
		a.Decimals = *fa.Decimals
		a.MinGas = fa.MinGas
		if a.MinGas == 0 {
			a.MinGas = DefaultTokenMinGas
		}
		if a.MinGas < 21_000 {
			return a, invalid("%s.min_gas (%s): min_gas %d is below 21000", key, a.Symbol, a.MinGas)
		}
	default:
		return a, invalid("%s.token (%s): token %q is not an address", key, a.Symbol, fa.Token)
	}
	if err := a.Asset.Validate(); err != nil {
		return a, invalid("%s.symbol (%q): %v", key, a.Symbol, err)
	}
	var err error
	if a.MaxPayment, err = optAmount(fa.MaxPayment, a.Decimals); err != nil {
		return a, invalid("%s.max_payment (%s): %v", key, a.Symbol, err)
	}
	if a.MaxUnsettled, err = optAmount(fa.MaxUnsettled, a.Decimals); err != nil {
		return a, invalid("%s.max_unsettled (%s): %v", key, a.Symbol, err)
	}
	if a.MaxUnsettledPerPayer, err = optAmount(fa.MaxUnsettledPerPayer, a.Decimals); err != nil {
		return a, invalid("%s.max_unsettled_per_payer (%s): %v", key, a.Symbol, err)
	}
	switch fa.Authorization {
	case "":
		if fa.DomainName != "" || fa.DomainVersion != "" {
			return a, invalid("%s.domain_name (%s): domain_name and domain_version are for authorization = %q", key, a.Symbol, AuthorizationEIP3009)
		}
	case AuthorizationEIP3009:
		if a.Token == (common.Address{}) {
			return a, invalid("%s.authorization (%s): authorization = %q is for a token; the native coin has no EIP-3009", key, a.Symbol, fa.Authorization)
		}
		if fa.DomainName == "" || fa.DomainVersion == "" || len(fa.DomainName) > 64 || len(fa.DomainVersion) > 16 {
			return a, invalid("%s.authorization (%s): authorization = %q needs the token's EIP-712 domain_name (1..64 bytes) and domain_version (1..16 bytes)", key, a.Symbol, fa.Authorization)
		}
		a.Authorization, a.DomainName, a.DomainVersion = fa.Authorization, fa.DomainName, fa.DomainVersion
	default:
		return a, invalid("%s.authorization (%s): authorization %q: the one kind taken is %q", key, a.Symbol, fa.Authorization, AuthorizationEIP3009)
	}
	if a.Price, err = fa.checkPrice(); err != nil {
		return a, invalid("%s (%s): %v", key, a.Symbol, err)
	}
	return a, nil
}

// checkPrice reads an asset's price_feed, price_heartbeat, max_rate_age
// and peg.
func (fa *fileAsset) checkPrice() (Price, error) {
	var p Price
	if fa.PriceFeed == "" {
		if fa.PriceHeartbeat != 0 || fa.MaxRateAge != 0 {
			return p, fmt.Errorf("price_heartbeat and max_rate_age are for a price_feed")
		}
	}
	if fa.PriceFeed != "" && fa.Peg != "" {
		return p, fmt.Errorf("price_feed and peg exclude each other: the price comes from the feed or is fixed")
	}
	if fa.Peg != "" {
		answer, decimals, err := parsePeg(fa.Peg)
		if err != nil {
			return p, err
		}
		p.Peg, p.PegAnswer, p.PegDecimals = fa.Peg, answer, decimals
		return p, nil
	}
	if fa.PriceFeed == "" {
		return p, nil
	}
	if !common.IsHexAddress(fa.PriceFeed) {
		return p, fmt.Errorf("price_feed %q is not an address", fa.PriceFeed)
	}
	p.Feed = common.HexToAddress(fa.PriceFeed)
	if p.Feed == (common.Address{}) {
		return p, fmt.Errorf("price_feed is the zero address")
	}
	p.Heartbeat = fa.PriceHeartbeat
	if p.Heartbeat < minHeartbeat || p.Heartbeat > maxHeartbeat {
		return p, fmt.Errorf("price_heartbeat %s: want the feed's heartbeat, from %s to %s (price_feed needs it)", p.Heartbeat, minHeartbeat, maxHeartbeat)
	}
	p.MaxRateAge = fa.MaxRateAge
	if p.MaxRateAge == 0 {
		p.MaxRateAge = p.Heartbeat + DefaultRateGrace
	}
	if p.MaxRateAge < p.Heartbeat || p.MaxRateAge > maxMaxRateAge {
		return p, fmt.Errorf("max_rate_age %s: want from price_heartbeat (%s: a healthy feed's round is up to that old) to %s", p.MaxRateAge, p.Heartbeat, maxMaxRateAge)
	}
	return p, nil
}

// parsePeg reads a positive decimal ("1", "0.92") as answer / 10^decimals.
func parsePeg(s string) (*big.Int, uint8, error) {
	bad := fmt.Errorf("peg %q is not a positive decimal (digits, at most one point, at most %d digits after it)", s, maxPegDigits)
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(s) > 64 || len(frac) > maxPegDigits || (strings.Contains(s, ".") && frac == "") {
		return nil, 0, bad
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return nil, 0, bad
			}
		}
	}
	answer, ok := new(big.Int).SetString(whole+frac, 10)
	if !ok || answer.Sign() <= 0 {
		return nil, 0, bad
	}
	return answer, uint8(len(frac)), nil
}

func optAmount(s string, decimals uint8) (*big.Int, error) {
	if s == "" {
		return nil, nil
	}
	return asset.ParseAmount(s, decimals)
}
