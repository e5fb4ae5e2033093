package config

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/locale"
)

// liveKeys are the keys a fleet bundle may set and a running terminal
// takes without a restart. A key names a value or a whole table or array:
// "payments" covers every key of [payments], "assets" the whole
// [[assets]] array. Every other key is read at start only.
var liveKeys = []string{
	"terminal.merchant_name",
	"terminal.request_ttl",
	"terminal.certificate",
	"terminal.currency",
	"terminal.locale",
	"texts.welcome",
	"merchant.address",
	"payments",
	"assets",
	"chain.rpc",
	"networks",
}

// live reports whether key is a live key or lies inside one.
func live(key string) bool {
	for _, l := range liveKeys {
		if key == l || strings.HasPrefix(key, l+".") {
			return true
		}
	}
	return false
}

// Overlay is the effective config of a terminal running the fleet bundle
// fragment bundle (TOML) over its local file local (TOML): both are decoded,
// the bundle is laid over the file (a table merges key by key, any other
// value, arrays and [[assets]] included, replaces the file's whole), and the
// result is checked by Parse, so it obeys every rule the file does. A bundle
// setting a key outside the live set is refused naming the key. A nil or
// empty bundle gives Parse(local). Errors wrap ErrInvalid.
func Overlay(local, bundle []byte) (*Config, error) {
	// Empty by TOML's own whitespace (space, tab, newline), not Unicode's:
	// a bundle of a vertical tab is not TOML, and is refused as such
	// (found by FuzzPush).
	if len(bytes.Trim(bundle, " \t\r\n")) == 0 {
		return Parse(local)
	}
	var base map[string]any
	if _, err := toml.Decode(string(local), &base); err != nil {
		return nil, fmt.Errorf("%w: local file: %v", ErrInvalid, err)
	}
	over, err := decodeBundle(bundle)
	if err != nil {
		return nil, err
	}
	// A bundle's [[networks]] replaces the file's networks, however the
	// file names them: as [[networks]], or as the one chain of [chain],
	// [[assets]] and payments.min_fee_cap_wei, which a file with networks
	// may not also have. The rest of [chain] has no meaning then either.
	if _, ok := over["networks"]; ok {
		delete(base, "chain")
		delete(base, "assets")
		if p, ok := base["payments"].(map[string]any); ok {
			delete(p, "min_fee_cap_wei")
		}
	}
	merge(base, over)
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(base); err != nil {
		return nil, fmt.Errorf("%w: encode merged config: %v", ErrInvalid, err)
	}
	return Parse(buf.Bytes())
}

// CheckBundleKeys reports whether fragment is TOML setting only live keys,
// so a fleet manager hears of a forbidden key when signing. It does not
// check the values: only Overlay on a terminal's file can.
func CheckBundleKeys(fragment []byte) error {
	_, err := decodeBundle(fragment)
	return err
}

func decodeBundle(b []byte) (map[string]any, error) {
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%w: bundle config of %d bytes, at most %d", ErrInvalid, len(b), maxFileSize)
	}
	var m map[string]any
	if _, err := toml.Decode(string(b), &m); err != nil {
		return nil, fmt.Errorf("%w: bundle config: %v", ErrInvalid, err)
	}
	// Held to the file's rule (see Parse): a key in another case would be
	// refused on the terminal, after the merge; say so at signing too.
	var odd []string
	oddKeys(nil, m, &odd)
	if len(odd) > 0 {
		sort.Strings(odd)
		return nil, fmt.Errorf("%w: bundle config: unknown key(s) %s (keys are lowercase)", ErrInvalid, strings.Join(odd, ", "))
	}
	var bad []string
	forbidden("", m, &bad)
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, fmt.Errorf("%w: a bundle may not set %s (only %s)", ErrInvalid,
			strings.Join(bad, ", "), strings.Join(liveKeys, ", "))
	}
	return m, nil
}

// forbidden appends to bad every key under prefix that m sets outside the
// live set, descending into tables to name the innermost key.
func forbidden(prefix string, m map[string]any, bad *[]string) {
	for k, v := range m {
		key := prefix + k
		if live(key) {
			continue
		}
		if t, ok := v.(map[string]any); ok && len(t) > 0 {
			forbidden(key+".", t, bad)
			continue
		}
		*bad = append(*bad, key)
	}
}

// oddKeys appends to odd every key under prefix, in tables and arrays of
// tables, that is not spelled as the format spells keys (isFormatKey).
func oddKeys(prefix toml.Key, v any, odd *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			key := append(prefix[:len(prefix):len(prefix)], k)
			if !isFormatKey(k) {
				*odd = append(*odd, key.String())
				continue
			}
			oddKeys(key, x, odd)
		}
	case []map[string]any:
		for _, m := range v {
			oddKeys(prefix, m, odd)
		}
	case []any:
		for _, x := range v {
			oddKeys(prefix, x, odd)
		}
	}
}

// merge lays src over dst: tables merge key by key, anything else replaces.
func merge(dst, src map[string]any) {
	for k, v := range src {
		if st, ok := v.(map[string]any); ok {
			if dt, ok := dst[k].(map[string]any); ok {
				merge(dt, st)
				continue
			}
		}
		dst[k] = v
	}
}

// KeepRestartOnly prepares c, freshly read from the local file, to replace
// the running config: every value outside the live set (terminal.id,
// data_dir, seal_key and public_url, [api], chain.id, confirmations,
// final_depth, call_timeout, probe_every and preflight_budget, [broadcast],
// [watch], [relay], [webhooks], [board], [fleet], [mqtt], [store], and
// every [[networks]] entry with the default network's values)
// is taken from running, since
// only a restart can change it. It returns the keys whose value in c
// differed, in a fixed order, for the caller to log as needing a restart.
// Values are shared with running, not copied: configs are not modified
// once in use.
func (c *Config) KeepRestartOnly(running *Config) []string {
	var changed []string
	for _, f := range fields {
		if (f.always || !live(f.key)) && f.keep(c, running) {
			changed = append(changed, f.key)
		}
	}
	return changed
}

// field is one value of Config and the TOML key it comes from.
type field struct {
	key string
	// ptr is the field's address in c, for the test that fields covers
	// every value of Config.
	ptr func(c *Config) any
	// keep sets the field in c to running's value and reports whether
	// they differed.
	keep func(c, running *Config) bool
	// always: keep runs even for a live key (it settles values that
	// depend on restart-only ones).
	always bool
}

func leaf[T any](key string, p func(*Config) *T) field {
	return field{
		key: key,
		ptr: func(c *Config) any { return p(c) },
		keep: func(c, running *Config) bool {
			dst, src := p(c), p(running)
			differ := !reflect.DeepEqual(*dst, *src)
			*dst = *src
			return differ
		},
	}
}

// fields lists every value of Config with its key. [board] is one value:
// its drivers are opened once, at start.
var fields = []field{
	leaf("terminal.id", func(c *Config) *string { return &c.Terminal.ID }),
	leaf("terminal.merchant_name", func(c *Config) *string { return &c.Terminal.MerchantName }),
	leaf("terminal.data_dir", func(c *Config) *string { return &c.Terminal.DataDir }),
	leaf("terminal.seal_key", func(c *Config) *string { return &c.Terminal.SealKey }),
	leaf("terminal.request_ttl", func(c *Config) *time.Duration { return &c.Terminal.RequestTTL }),
	leaf("terminal.public_url", func(c *Config) *string { return &c.Terminal.PublicURL }),
	leaf("terminal.certificate", func(c *Config) *string { return &c.Terminal.Certificate }),
	leaf("terminal.currency", func(c *Config) *string { return &c.Terminal.Currency }),
	leaf("terminal.locale", func(c *Config) *locale.Locale { return &c.Terminal.Locale }),
	leaf("tips.enabled", func(c *Config) *bool { return &c.Tips.Enabled }),
	leaf("tips.percentages", func(c *Config) *[]uint { return &c.Tips.Percentages }),
	leaf("api.listen", func(c *Config) *string { return &c.API.Listen }),
	leaf("api.operator_socket", func(c *Config) *string { return &c.API.OperatorSocket }),
	leaf("api.tls_cert", func(c *Config) *string { return &c.API.TLSCert }),
	leaf("api.tls_key", func(c *Config) *string { return &c.API.TLSKey }),
	leaf("api.metrics_listen", func(c *Config) *string { return &c.API.MetricsListen }),
	leaf("api.max_conns", func(c *Config) *int { return &c.API.MaxConns }),
	leaf("api.registration_ttl", func(c *Config) *time.Duration { return &c.API.RegistrationTTL }),
	leaf("chain.id", func(c *Config) *uint64 { return &c.ChainID }),
	leaf("chain.rpc", func(c *Config) *[]string { return &c.Chain.RPC }),
	leaf("chain.confirmations", func(c *Config) *uint64 { return &c.Chain.Confirmations }),
	leaf("chain.final_depth", func(c *Config) *uint64 { return &c.Chain.FinalDepth }),
	leaf("chain.call_timeout", func(c *Config) *time.Duration { return &c.Chain.CallTimeout }),
	leaf("chain.probe_every", func(c *Config) *time.Duration { return &c.Chain.ProbeEvery }),
	leaf("chain.preflight_budget", func(c *Config) *time.Duration { return &c.Chain.PreflightBudget }),
	leaf("broadcast.max_age", func(c *Config) *time.Duration { return &c.Broadcast.MaxAge }),
	leaf("broadcast.funds_window", func(c *Config) *time.Duration { return &c.Broadcast.FundsWindow }),
	leaf("broadcast.batch_size", func(c *Config) *int { return &c.Broadcast.BatchSize }),
	leaf("broadcast.poll", func(c *Config) *time.Duration { return &c.Broadcast.Poll }),
	leaf("watch.enabled", func(c *Config) *bool { return &c.Watch.Enabled }),
	leaf("watch.poll", func(c *Config) *time.Duration { return &c.Watch.Poll }),
	leaf("watch.max_range", func(c *Config) *uint64 { return &c.Watch.MaxRange }),
	leaf("watch.max_lookback", func(c *Config) *uint64 { return &c.Watch.MaxLookback }),
	leaf("relay.enabled", func(c *Config) *bool { return &c.Relay.Enabled }),
	leaf("relay.max_fee_gwei", func(c *Config) **big.Int { return &c.Relay.MaxFeePerGas }),
	leaf("relay.low_covers", func(c *Config) *uint64 { return &c.Relay.LowCovers }),
	leaf("relay.stuck_after", func(c *Config) *time.Duration { return &c.Relay.StuckAfter }),
	leaf("relay.poll", func(c *Config) *time.Duration { return &c.Relay.Poll }),
	leaf("relay.follow_up", func(c *Config) *time.Duration { return &c.Relay.FollowUp }),
	leaf("webhooks.give_up", func(c *Config) *time.Duration { return &c.Webhooks.GiveUp }),
	leaf("webhooks.timeout", func(c *Config) *time.Duration { return &c.Webhooks.Timeout }),
	leaf("webhooks.max_backoff", func(c *Config) *time.Duration { return &c.Webhooks.MaxBackoff }),
	leaf("webhooks.allow_http", func(c *Config) *bool { return &c.Webhooks.AllowHTTP }),
	leaf("webhooks.allow_loopback", func(c *Config) *bool { return &c.Webhooks.AllowLoopback }),
	leaf("merchant.address", func(c *Config) *common.Address { return &c.Merchant }),
	leaf("payments.allow_overpay", func(c *Config) *bool { return &c.Payments.AllowOverpay }),
	leaf("payments.min_fee_cap_wei", func(c *Config) **big.Int { return &c.Payments.MinFeeCap }),
	leaf("payments.settle_window", func(c *Config) *time.Duration { return &c.Payments.SettleWindow }),
	leaf("assets", func(c *Config) *[]Asset { return &c.Assets }),
	leaf("board", func(c *Config) *Board { return &c.Board }),
	leaf("texts.welcome", func(c *Config) *string { return &c.Texts.Welcome }),
	leaf("fleet.public_key", func(c *Config) *ed25519.PublicKey { return &c.Fleet.PublicKey }),
	leaf("fleet.groups", func(c *Config) *[]string { return &c.Fleet.Groups }),
	leaf("fleet.pull_url", func(c *Config) *string { return &c.Fleet.PullURL }),
	leaf("fleet.pull_every", func(c *Config) *time.Duration { return &c.Fleet.PullEvery }),
	leaf("mqtt.enabled", func(c *Config) *bool { return &c.MQTT.Enabled }),
	leaf("mqtt.broker", func(c *Config) *string { return &c.MQTT.Broker }),
	leaf("mqtt.username", func(c *Config) *string { return &c.MQTT.Username }),
	leaf("mqtt.password", func(c *Config) *string { return &c.MQTT.Password }),
	leaf("mqtt.password_file", func(c *Config) *string { return &c.MQTT.PasswordFile }),
	leaf("mqtt.ca_file", func(c *Config) *string { return &c.MQTT.CAFile }),
	leaf("mqtt.cert_file", func(c *Config) *string { return &c.MQTT.CertFile }),
	leaf("mqtt.key_file", func(c *Config) *string { return &c.MQTT.KeyFile }),
	leaf("mqtt.topic_prefix", func(c *Config) *string { return &c.MQTT.TopicPrefix }),
	leaf("mqtt.status_every", func(c *Config) *time.Duration { return &c.MQTT.StatusEvery }),
	leaf("mqtt.keepalive", func(c *Config) *time.Duration { return &c.MQTT.Keepalive }),
	// Read at start: deleting records is the local file's decision, not a
	// bundle's.
	leaf("store.keep", func(c *Config) **time.Duration { return &c.Store.Keep }),
	leaf("store.scrub_rate", func(c *Config) *int64 { return &c.Store.ScrubRate }),
	// Last: it reads the values the entries above settled.
	networksField,
}

// networksField settles the networks. The one network of a one-chain
// file is a view of [chain], [[assets]] and the rest, so it is rebuilt
// from them as kept (its assets and endpoints are live, its chain id
// restart-only). Networks from [[networks]] are live, whole: a bundle or a
// reload may add, change and remove them (posd starts and stops each
// network's parts, and refuses to drop one with payments still open).
// Their relay settings keep [relay]'s restart-only enabled and poll, and
// ChainID, Chain, Assets, Relay and Payments.MinFeeCap show the default
// network as read.
var networksField = field{
	key:    "networks",
	always: true,
	ptr:    func(c *Config) any { return &c.Networks },
	keep: func(c, running *Config) bool {
		if oneChain(c) && oneChain(running) {
			c.Networks = []Network{{Name: LegacyNetworkName(c.ChainID), ChainID: c.ChainID, Chain: c.Chain,
				FeeFloor: c.Payments.MinFeeCap, Relay: c.Relay, Assets: c.Assets, oneChain: true}}
			return false
		}
		nets := make([]Network, len(c.Networks))
		for i, n := range c.Networks {
			n.Relay.Enabled, n.Relay.Poll = running.Relay.Enabled, running.Relay.Poll
			nets[i] = n
		}
		c.Networks = nets
		d := nets[0]
		c.ChainID, c.Chain, c.Assets, c.Relay, c.Payments.MinFeeCap = d.ChainID, d.Chain, d.Assets, d.Relay, d.FeeFloor
		return false
	},
}

func oneChain(c *Config) bool { return len(c.Networks) == 1 && c.Networks[0].oneChain }
