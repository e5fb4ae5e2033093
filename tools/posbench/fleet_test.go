package main

import (
	"context"
	"strings"
	"testing"

	"showpos/tools/mosquitto"
)

// The fleet section measures all three figures against a real Mosquitto
// at a small size: every terminal's status, every event of every terminal
// and the bundle reach their subscribers (a row that could not be measured
// says why).
func TestFleetRowsMeasureEveryFigure(t *testing.T) {
	if _, err := mosquitto.Binary(); err != nil {
		mosquitto.Start(t, mosquitto.Options{}) // skips, or fails when required
	}
	rows := fleetRows(context.Background(), options{fleetN: 20, fleetEvents: 5}, t.TempDir())
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	for _, r := range rows {
		if r.Value == "not measured" {
			t.Errorf("%s: %s", r.What, r.How)
		}
		if !strings.Contains(r.Peer, "bare paho") {
			t.Errorf("%s: peer %q is not the bare-client floor", r.What, r.Peer)
		}
	}
}
