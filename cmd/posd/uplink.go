package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"showpos/sync/uplink"
	"showpos/terminal/config"
	"showpos/terminal/fleet"
	"showpos/terminal/httpapi"
	"showpos/terminal/store"
	"showpos/terminal/telemetry"
)

// newUplink builds the MQTT uplink from [mqtt] (read at start only). With
// mqtt.enabled false it returns nil, after removing the store's "mqtt"
// sink, if an earlier run with it on left one: a cursor nobody advances
// would hold back the event log's trimming and the bounded store's
// pruning for ever.
func (d *daemon) newUplink(ctx context.Context, cfg *config.Config, st *store.Store, tel *telemetry.Telemetry, log *slog.Logger) (*uplink.Link, error) {
	m := cfg.MQTT
	if !m.Enabled {
		if err := st.RemoveSink(ctx, uplink.SinkName); err != nil {
			return nil, fmt.Errorf("mqtt off: %w", err)
		}
		return nil, nil
	}
	password := m.Password
	if m.PasswordFile != "" {
		b, err := os.ReadFile(m.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt.password_file: %w", err)
		}
		password = strings.TrimSpace(string(b))
	}
	var tlsc *tls.Config
	if u, err := url.Parse(m.Broker); err == nil && u.Scheme == "mqtts" {
		if tlsc, err = uplink.LoadTLS(m.CAFile, m.CertFile, m.KeyFile); err != nil {
			return nil, err
		}
	}
	// The sink is registered now, before the pruner's first round: a
	// payment must not be pruned before the uplink has published its
	// events (the Link registers it again as it starts: a no-op).
	if _, err := st.RegisterSink(ctx, uplink.SinkName, store.SinkFromOldest, time.Now()); err != nil {
		return nil, fmt.Errorf("mqtt: %w", err)
	}
	return uplink.New(uplink.Options{
		Broker: m.Broker, TLS: tlsc, Username: m.Username, Password: password,
		Prefix: m.TopicPrefix, Terminal: cfg.Terminal.ID, Groups: cfg.Fleet.Groups,
		Keepalive: m.Keepalive, StatusEvery: m.StatusEvery,
		Log: st, Status: d.uplinkStatus,
		// Bundles from the config topics go through the fleet manager as
		// pushed and pulled ones do: same checks, same refusals in status.
		Config: func(ctx context.Context, raw []byte) error {
			_, err := d.mgr.TakeMQTT(ctx, raw)
			return err
		},
		MaxConfig: fleet.MaxBundle,
		OnAcked:   tel.MQTTPublished,
		Logger:    log,
	})
}

// uplinkStatus is the terminal's status as the uplink publishes it: the
// /v1/status fields a fleet screen shows, and when the newest payment was
// accepted. Read every second: a count of the store's payments, one seek,
// the parts' last states; no network call.
func (d *daemon) uplinkStatus() uplink.Status {
	s := uplink.Status{Version: buildVersion(), Started: d.started, ConfigVersion: d.mgr.Status().Version,
		Online: d.nets.allOnline()}
	if counts, err := d.store.Counts(); err == nil {
		s.Queue = make(map[string]int, len(counts))
		for state, n := range counts {
			s.Queue[string(state)] = n
		}
	}
	for _, n := range d.nets.all() {
		if r := n.bc.Last(); !r.OldestQueued.IsZero() {
			s.OldestQueuedAgeSeconds = max(s.OldestQueuedAgeSeconds, time.Since(r.OldestQueued).Seconds())
		}
	}
	// The newest payment: one seek to the end of the acceptance index.
	if ps, err := d.store.Payments(store.PaymentFilter{Newest: true, Limit: 1}); err == nil && len(ps) == 1 {
		s.LastPayment = ps[0].AcceptedAt
	}
	return s
}

// mqttConnected is the showpos_mqtt_connected gauge's callback; nil (no
// gauge) when the uplink is off.
func (d *daemon) mqttConnected() func() bool {
	if d.uplink == nil {
		return nil
	}
	return func() bool { return d.uplink.Status().Connected }
}

// mqttStatus is the uplink in /v1/status; nil when it is off.
func (d *daemon) mqttStatus() *httpapi.MQTT {
	if d.uplink == nil {
		return nil
	}
	s := d.uplink.Status()
	return &httpapi.MQTT{Connected: s.Connected, Broker: s.Broker, LastConnect: s.LastConnect, LastError: s.LastError,
		LastErrorAt: s.LastErrorAt, Delivered: s.Delivered, Backlog: s.Backlog}
}
