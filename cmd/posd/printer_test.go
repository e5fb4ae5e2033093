package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"showpos/terminal/config/configtest"
	"showpos/terminal/httpapi"
)

// posd with a virtual printer runs its print queue and reports the printer
// in /v1/status: present and online, then out of paper once the simulator's
// switch is thrown, as a cashier would see it on a real one.
func TestPosdReportsItsPrinter(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "posd.toml")
	if err := os.WriteFile(cfgPath, []byte(configtest.Text(t, `
assets = [{ symbol = "ETH" }]
[terminal]
id = "printer-till"
data_dir = "`+filepath.Join(dir, "data")+`"
[board.printer]
driver = "virtual"
columns = 32
[board.virtual]
listen = "127.0.0.1:0"
`)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, testLog(t), cfgPath, "", anyPort) }()
	defer func() { cancel(); <-errc }()
	op := unixClient(filepath.Join(dir, "data", "posd.sock"))
	waitFor(t, op, errc)

	status := func() httpapi.Status {
		t.Helper()
		resp, err := op.Get("http://posd/v1/status")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st httpapi.Status
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := status()
	if st.Printer == nil || !strings.Contains(st.Printer.Name, "virtual printer") {
		t.Fatalf("status printer %+v, want the virtual printer", st.Printer)
	}
	if !slices.ContainsFunc(st.Devices, func(d httpapi.Device) bool {
		return d.Kind == "printer" && d.Driver == "virtual" && d.Present
	}) {
		t.Errorf("devices %+v lack the printer", st.Devices)
	}

	resp, err := http.Post(st.Listen.Simulator+"sim/printer", "application/json", strings.NewReader(`{"paperOut":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		p := status().Printer
		if p.PaperOut && !p.Online {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never showed paper out: %+v", p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
