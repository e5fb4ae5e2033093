package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"showpos/terminal/procio"
)

// idleCPU is what posd used while left alone for a window, after a
// warm-up it was also left alone for.
type idleCPU struct {
	cpu    time.Duration // user and system CPU time over the window (10 ms ticks)
	window time.Duration // wall time of the window
	read   procio.IO     // what it read over the window
}

// idleCPUOf leaves every daemon of ds alone at once for warm, then
// measures each one's CPU time and reads over the next window.
func idleCPUOf(ctx context.Context, ds []*daemon, warm, window time.Duration) ([]idleCPU, error) {
	if err := sleep(ctx, warm); err != nil {
		return nil, err
	}
	type mark struct {
		cpu time.Duration
		io  procio.IO
		at  time.Time
	}
	marks := func() ([]mark, error) {
		out := make([]mark, len(ds))
		for i, d := range ds {
			cpu, err := d.cpuTime()
			if err != nil {
				return nil, err
			}
			io, err := procio.Read(d.cmd.Process.Pid)
			if err != nil {
				return nil, err
			}
			out[i] = mark{cpu: cpu, io: io, at: time.Now()}
		}
		return out, nil
	}
	before, err := marks()
	if err != nil {
		return nil, err
	}
	if err := sleep(ctx, window); err != nil {
		return nil, err
	}
	after, err := marks()
	if err != nil {
		return nil, err
	}
	out := make([]idleCPU, len(ds))
	for i := range ds {
		out[i] = idleCPU{cpu: after[i].cpu - before[i].cpu, window: after[i].at.Sub(before[i].at), read: after[i].io.Sub(before[i].io)}
	}
	return out, nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// chainStatus is what posd's status says of its chains and uplink.
type chainStatus struct {
	Networks []struct {
		Name     string `json:"name"`
		ChainID  uint64 `json:"chainId"`
		Online   bool   `json:"online"`
		Reason   string `json:"reason"`
		Endpoint string `json:"endpoint"`
	} `json:"networks"`
	MQTT  *json.RawMessage `json:"mqtt"`
	Queue map[string]int   `json:"queue"`
}

// chainless reads posd's status and says what chain and uplink it has;
// an error if any network has an endpoint or is online, or MQTT is on:
// the idle rows are of a posd with nothing to talk to.
func (d *daemon) chainless() (string, error) {
	resp, err := d.op.Get("http://posd/v1/status")
	if err != nil {
		return "", fmt.Errorf("status: %w", err)
	}
	defer resp.Body.Close()
	var st chainStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return "", fmt.Errorf("status: %w", err)
	}
	return st.describe()
}

// describe is chainless's verdict on a status.
func (st chainStatus) describe() (string, error) {
	if len(st.Networks) == 0 {
		return "", fmt.Errorf("status names no network")
	}
	var parts []string
	for _, n := range st.Networks {
		if n.Endpoint != "" || n.Online {
			return "", fmt.Errorf("network %s (chain %d) has an endpoint (%q, online %v): not a posd without a chain", n.Name, n.ChainID, n.Endpoint, n.Online)
		}
		p := fmt.Sprintf("network %s (chain %d) offline, no endpoint", n.Name, n.ChainID)
		if n.Reason != "" {
			p += fmt.Sprintf(" (%q)", n.Reason)
		}
		parts = append(parts, p)
	}
	if st.MQTT != nil {
		return "", fmt.Errorf("MQTT uplink enabled: not a posd left alone")
	}
	parts = append(parts, "no MQTT")
	var q []string
	for state, n := range st.Queue {
		if n > 0 {
			q = append(q, fmt.Sprintf("%s %s", thousands(int64(n)), state))
		}
	}
	sort.Strings(q)
	if len(q) == 0 {
		q = append(q, "empty")
	}
	parts = append(parts, "payments: "+strings.Join(q, ", "))
	return strings.Join(parts, "; "), nil
}
