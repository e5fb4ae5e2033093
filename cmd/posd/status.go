package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"showpos/cmd/posd/board"
	"showpos/terminal/config"
	"showpos/terminal/httpapi"
)

// version is the build's version; `-ldflags "-X main.version=v1.2.3"` sets
// it, else it is the VCS revision Go recorded at build time.
var version = ""

func (d *daemon) status(ctx context.Context) (httpapi.Status, error) {
	if err := ctx.Err(); err != nil {
		return httpapi.Status{}, err
	}
	cfg := d.till.Config()
	counts, err := d.store.Counts()
	if err != nil {
		return httpapi.Status{}, fmt.Errorf("status: %w", err)
	}
	st := d.node.Status()
	round, synced := d.bc.Last(), d.bc.LastSync()
	s := httpapi.Status{
		Version: buildVersion(), Terminal: cfg.Terminal.ID, Started: d.started,
		Config: d.mgr.Status(), Online: st.Online, Endpoint: st.Endpoint, LastContact: st.LastContact,
		Queue: map[string]int{}, LastSync: synced.At, LastSyncErr: synced.Err,
		Devices: devices(cfg.Board, d.devs), Listen: d.at,
	}
	s.ConfigVersion = s.Config.Version
	for state, n := range counts {
		s.Queue[string(state)] = n
	}
	if d.watch != nil {
		w := d.watch.Status()
		s.Watch = &httpapi.Watch{Height: w.Height, Head: w.Head, Lag: w.Lag, LastRound: w.LastRound, Reorgs: w.Reorgs,
			Skipped: w.Skipped, SkippedTo: w.SkippedTo, Err: w.Err}
	}
	s.Authorizations = d.till.DomainVerdicts()
	s.Rates = d.rates.Status()
	if d.relay != nil {
		s.Relayer = relayerStatus(d.relay)
	}
	if d.printq != nil {
		p := d.printq.Status()
		s.Printer = &httpapi.Printer{Name: p.Printer, Online: p.Online, PaperOut: p.PaperOut, PaperLow: p.PaperLow,
			CoverOpen: p.CoverOpen, Queued: p.Queued, Printed: p.Printed, Failed: p.Failed, Dropped: p.Dropped,
			LastError: p.LastError, LastErrorAt: p.LastErrorAt, LastPrinted: p.LastPrinted}
	}
	s.Webhooks = d.hooks.status(d.log)
	if s.Store, err = storeStatus(d.store, cfg.Store.Keep, d.pruner); err != nil {
		return httpapi.Status{}, fmt.Errorf("status: %w", err)
	}
	if !round.OldestQueued.IsZero() {
		s.OldestQueuedAgeSeconds = time.Since(round.OldestQueued).Seconds()
	}
	s.MQTT = d.mqttStatus()
	return s, nil
}

// devices lists the board's configured devices and whether each is there
// now: opened at start and, for one that can go away (a USB scanner),
// still attached.
func devices(b config.Board, devs *board.Devices) []httpapi.Device {
	var out []httpapi.Device
	for _, d := range []struct {
		kind, driver string
		dev          any
	}{
		{"display", b.Display.Driver, devs.Display}, {"keypad", b.Keypad.Driver, devs.Keypad},
		{"scanner", b.Scanner.Driver, devs.Scanner}, {"nfc", b.NFC.Driver, devs.NFC},
		{"indicator", b.Indicator.Driver, devs.Indicator}, {"printer", b.Printer.Driver, devs.Printer},
	} {
		if d.driver == "" || d.driver == "none" {
			continue
		}
		v := httpapi.Device{Kind: d.kind, Driver: d.driver, Present: d.dev != nil}
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
