package uplink_test

import (
	"context"
	"log/slog"
	"os"

	"showpos/sync/uplink"
	"showpos/terminal/store"
)

// A terminal's uplink: the store's event log, a status source and a
// bundle taker, run until its context ends (posd wires it from [mqtt] in
// cmd/posd/uplink.go).
func ExampleLink() {
	st, err := store.Open("/var/lib/showpos/showpos.db", nil)
	if err != nil {
		return
	}
	defer st.Close()
	l, err := uplink.New(uplink.Options{
		Broker: "mqtts://mqtt.example.net:8883", Username: "till-01", Password: "…",
		Terminal: "till-01", Groups: []string{"cafes"},
		Log:    st,
		Status: func() uplink.Status { return uplink.Status{Online: true} },
		Config: func(ctx context.Context, raw []byte) error {
			return nil // the fleet manager's TakeMQTT
		},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go l.Run(ctx)  // publishes offline and disconnects when ctx ends
	_ = l.Status() // connected, last error, delivered, backlog
}
