// Package uplink is the terminal's connection out to a fleet's MQTT
// broker: it publishes the terminal's status (retained, with a last will)
// and its payment events from the store's event log, and takes signed
// config bundles from retained config topics. A terminal behind NAT needs
// no inbound port: it dials the broker.
//
// This file is the contract every side of the link speaks: the terminal,
// posctl fleet and the fleet benchmark. Topics, with P the prefix
// (mqtt.topic_prefix, default "showpos") and T the terminal id:
//
//	P/T/status        retained, QoS 1: Status JSON; the last will is
//	                  {"v":1,"terminal":T,"connected":false}
//	P/T/events        QoS 1: each event's JSON exactly as the store keeps
//	                  it (terminal/store, Event.Body), in seq order; a
//	                  consumer drops duplicates by seq
//	P/config/G        retained: a signed fleet bundle for group G
//	P/T/config        retained: a signed fleet bundle for this terminal
//
// A terminal id or a group is one topic level: no '/', '+', '#' or NUL,
// 1..64 bytes (ValidLevel).
package uplink

import (
	"fmt"
	"strings"
	"time"
)

// DefaultPrefix is the topic prefix when mqtt.topic_prefix is unset.
const DefaultPrefix = "showpos"

// Topics names one terminal's topics under a prefix.
type Topics struct {
	Prefix   string
	Terminal string
}

// Status is P/T/status.
func (t Topics) Status() string { return t.Prefix + "/" + t.Terminal + "/status" }

// Events is P/T/events.
func (t Topics) Events() string { return t.Prefix + "/" + t.Terminal + "/events" }

// Config is P/T/config, the bundle for this terminal alone.
func (t Topics) Config() string { return t.Prefix + "/" + t.Terminal + "/config" }

// GroupConfig is P/config/G.
func GroupConfig(prefix, group string) string { return prefix + "/config/" + group }

// StatusFilter matches every terminal's status under prefix.
func StatusFilter(prefix string) string { return prefix + "/+/status" }

// EventsFilter matches every terminal's events under prefix.
func EventsFilter(prefix string) string { return prefix + "/+/events" }

// ValidLevel says why s cannot be one topic level (a terminal id, a
// group or a prefix's level), or nil.
func ValidLevel(s string) error {
	switch {
	case len(s) == 0 || len(s) > 64:
		return fmt.Errorf("topic level %q: 1..64 bytes", s)
	case strings.ContainsAny(s, "/+#\x00"):
		return fmt.Errorf("topic level %q: no '/', '+', '#' or NUL", s)
	}
	return nil
}

// Status is the retained P/T/status payload: the /v1/status body trimmed
// to what a fleet screen shows, plus whether the terminal is connected to
// the broker. JSON names follow /v1/status. The last will, and the
// message a terminal publishes as it stops, carry V, Terminal and
// Connected false alone.
type Status struct {
	V         int    `json:"v"` // 1
	Terminal  string `json:"terminal"`
	Connected bool   `json:"connected"`
	// At is when the terminal published this status.
	At      time.Time `json:"at,omitzero"`
	Version string    `json:"version,omitempty"` // posd's build
	Started time.Time `json:"started,omitzero"`
	// ConfigVersion is the fleet bundle in effect (0: the local file).
	ConfigVersion uint64 `json:"configVersion"`
	// Online: the terminal reaches its chain (as in /v1/status).
	Online bool `json:"online"`
	// Queue counts payments by state; OldestQueuedAgeSeconds is how long
	// the oldest payment not yet on chain has waited.
	Queue                  map[string]int `json:"queue,omitempty"`
	OldestQueuedAgeSeconds float64        `json:"oldestQueuedAgeSeconds"`
	// LastPayment is when the terminal last accepted a payment (zero:
	// none since the event log began).
	LastPayment time.Time `json:"lastPayment,omitzero"`
	// LastEvent is the seq of the newest event in the store's log, so a
	// consumer of P/T/events can see what it has yet to receive.
	LastEvent uint64 `json:"lastEvent"`
}
