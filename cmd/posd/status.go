package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"showpos/cmd/posd/board"
	"showpos/terminal/config"
	"showpos/terminal/fleet"
)

// version is the build's version; `-ldflags "-X main.version=v1.2.3"` sets
// it, else it is the VCS revision Go recorded at build time.
var version = ""

// Status is the answer of GET /v1/status (operator socket; network API for
// register and fleet clients): what a fleet dashboard shows per terminal.
type Status struct {
	Version  string    `json:"version"`
	Terminal string    `json:"terminal"`
	Started  time.Time `json:"started"`
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
}

// Listen is the addresses of the network listeners.
type Listen struct {
	API       string `json:"api"`                 // the network API (payer, integrator, fleet): host:port
	Metrics   string `json:"metrics,omitempty"`   // api.metrics_listen, if set: host:port
	Simulator string `json:"simulator,omitempty"` // the simulator's page, if the board has one: its URL
}

// Device is one configured device of the board.
type Device struct {
	Kind    string `json:"kind"`   // display, keypad, scanner, nfc, indicator
	Driver  string `json:"driver"` // as in [board.*]
	Present bool   `json:"present"`
	Name    string `json:"name,omitempty"`
}

func (d *daemon) status(ctx context.Context) (Status, error) {
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}
	cfg := d.till.Config()
	counts, err := d.store.Counts()
	if err != nil {
		return Status{}, fmt.Errorf("status: %w", err)
	}
	st := d.node.Status()
	round, synced := d.bc.Last(), d.bc.LastSync()
	s := Status{
		Version: buildVersion(), Terminal: cfg.Terminal.ID, Started: d.started,
		Config: d.mgr.Status(), Online: st.Online, Endpoint: st.Endpoint, LastContact: st.LastContact,
		Queue: map[string]int{}, LastSync: synced.At, LastSyncErr: synced.Err,
		Devices: devices(cfg.Board, d.devs), Listen: d.at,
	}
	s.ConfigVersion = s.Config.Version
	for state, n := range counts {
		s.Queue[string(state)] = n
	}
	if !round.OldestQueued.IsZero() {
		s.OldestQueuedAgeSeconds = time.Since(round.OldestQueued).Seconds()
	}
	return s, nil
}

// devices lists the board's configured devices and whether each is there
// now: opened at start and, for one that can go away (a USB scanner),
// still attached.
func devices(b config.Board, devs *board.Devices) []Device {
	var out []Device
	for _, d := range []struct {
		kind, driver string
		dev          any
	}{
		{"display", b.Display.Driver, devs.Display}, {"keypad", b.Keypad.Driver, devs.Keypad},
		{"scanner", b.Scanner.Driver, devs.Scanner}, {"nfc", b.NFC.Driver, devs.NFC},
		{"indicator", b.Indicator.Driver, devs.Indicator},
	} {
		if d.driver == "" || d.driver == "none" {
			continue
		}
		v := Device{Kind: d.kind, Driver: d.driver, Present: d.dev != nil}
		if p, ok := d.dev.(interface{ Present() bool }); ok && v.Present {
			v.Present = p.Present()
		}
		if s, ok := d.dev.(fmt.Stringer); ok && v.Present {
			v.Name = s.String()
		}
		out = append(out, v)
	}
	return out
}

func buildVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return bi.Main.Version
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}
