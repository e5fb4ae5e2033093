package httpapi_test

import (
	"encoding/json"
	"testing"
	"time"

	"showpos/terminal/fleet"
	"showpos/terminal/httpapi"
)

// GET /v1/status is read by fleet dashboards and posctl: its JSON, names,
// order and omitted members, is public API. These are the bytes the status
// gave before its type moved here from cmd/posd.
func TestStatusJSONIsStable(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		st   httpapi.Status
		want string
	}{
		{"empty: zero times and empty strings left out where optional", httpapi.Status{},
			`{"version":"","terminal":"","started":"0001-01-01T00:00:00Z","configVersion":0,"config":{"version":0},"online":false,"queue":null,"oldestQueuedAgeSeconds":0,"devices":null,"listen":{"api":""}}`},
		{"full", httpapi.Status{
			Version: "v1", Terminal: "till-1", Started: at, ConfigVersion: 3,
			Config: fleet.Status{Version: 3}, Online: true, Endpoint: "https://node", LastContact: at,
			Queue: map[string]int{"queued": 2, "broadcast": 1}, OldestQueuedAgeSeconds: 1.5,
			LastSync: at, LastSyncErr: "timeout",
			Devices: []httpapi.Device{{Kind: "display", Driver: "virtual", Present: true, Name: "sim"}, {Kind: "nfc", Driver: "pn532"}},
			Listen:  httpapi.Listen{API: "127.0.0.1:8080", Metrics: "127.0.0.1:9100", Simulator: "http://x/sim"},
		}, `{"version":"v1","terminal":"till-1","started":"2026-11-23T12:00:00Z","configVersion":3,"config":{"version":3},"online":true,"endpoint":"https://node","lastContact":"2026-11-23T12:00:00Z","queue":{"broadcast":1,"queued":2},"oldestQueuedAgeSeconds":1.5,"lastSync":"2026-11-23T12:00:00Z","lastSyncError":"timeout","devices":[{"kind":"display","driver":"virtual","present":true,"name":"sim"},{"kind":"nfc","driver":"pn532","present":false}],"listen":{"api":"127.0.0.1:8080","metrics":"127.0.0.1:9100","simulator":"http://x/sim"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.st)
			if err != nil || string(b) != tc.want {
				t.Errorf("status JSON:\n got %s (%v)\nwant %s", b, err, tc.want)
			}
		})
	}
}
