package serialscanner_test

import (
	"context"
	"errors"
	"log"
	"log/slog"

	"showpos/device"
	"showpos/drivers/serialscanner"
)

func Example() {
	// Find the scanner by USB id, so a replug under another name still works.
	opts := serialscanner.DefaultOpts
	opts.Path = ""
	opts.VID, opts.PID = "05e0", "1200"
	opts.Logger = slog.Default()
	dev, err := serialscanner.New(&opts)
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Halt()

	ctx := context.Background()
	for {
		tx, err := dev.ReadPayload(ctx)
		switch {
		case errors.Is(err, device.ErrTooLarge):
			log.Print("code too large; scanner reads on")
			continue
		case err != nil:
			log.Fatal(err)
		}
		log.Printf("%s read %d bytes: %.20s…", dev, len(tx), tx)
	}
}
