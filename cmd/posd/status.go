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
	s := httpapi.Status{
		Version: buildVersion(), Terminal: cfg.Terminal.ID, Started: d.started,
		Config: d.mgr.Status(), Queue: map[string]int{},
		Devices: devices(cfg.Board, d.devs), Listen: d.at,
	}
	s.ConfigVersion = s.Config.Version
	for state, n := range counts {
		s.Queue[string(state)] = n
	}
	// Online only while every network is, and never with none running.
	s.Online = len(d.nets.all()) > 0
	for i, n := range d.nets.all() {
		ns, err := d.networkStatus(n)
		if err != nil {
			return httpapi.Status{}, fmt.Errorf("status: %w", err)
		}
		s.Networks = append(s.Networks, ns)
		s.Online = s.Online && ns.Online
		s.OldestQueuedAgeSeconds = max(s.OldestQueuedAgeSeconds, ns.OldestQueuedAgeSeconds)
		if i == 0 {
			s.Endpoint, s.LastContact, s.LastSync, s.LastSyncErr = ns.Endpoint, ns.LastContact, ns.LastSync, ns.LastSyncErr
			s.Watch, s.Relayer = ns.Watch, ns.Relayer
		}
	}
	s.Authorizations = d.till.DomainVerdicts()
	s.Rates = d.rates.Status()
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
	s.MQTT = d.mqttStatus()
	return s, nil
}

// networkStatus is one network in the status.
func (d *daemon) networkStatus(n *chainNetwork) (httpapi.NetworkStatus, error) {
	st := n.node.Status()
	round, synced := n.bc.Last(), n.bc.LastSync()
	out := httpapi.NetworkStatus{Name: n.cfg.Name, ChainID: n.cfg.ChainID, Confirmations: n.cfg.Chain.Confirmations,
		FinalDepth: n.cfg.Chain.FinalDepth, Online: st.Online, Endpoint: st.Endpoint, LastContact: st.LastContact,
		Queue: map[string]int{}, LastSync: synced.At, LastSyncErr: synced.Err}
	if !st.Online {
		out.Reason = st.Err
	}
	counts, err := d.store.Chain(n.cfg.ChainID).Counts()
	if err != nil {
		return out, fmt.Errorf("network %s: %w", n.cfg.Name, err)
	}
	for state, k := range counts {
		out.Queue[string(state)] = k
	}
	if !round.OldestQueued.IsZero() {
		out.OldestQueuedAgeSeconds = time.Since(round.OldestQueued).Seconds()
	}
	if n.watch != nil {
		w := n.watch.Status()
		out.Watch = &httpapi.Watch{Height: w.Height, Head: w.Head, Lag: w.Lag, LastRound: w.LastRound, Reorgs: w.Reorgs,
			Skipped: w.Skipped, SkippedTo: w.SkippedTo, Err: w.Err}
	}
	if n.relay != nil {
		out.Relayer = relayerStatus(n.relay)
	}
	return out, nil
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
