package gpioindicator_test

import (
	"context"
	"log"

	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"showpos/device"
	"showpos/drivers/gpioindicator"
)

func Example() {
	if _, err := host.Init(); err != nil {
		log.Fatal(err)
	}
	// An active buzzer on GPIO18 (through a transistor), a green LED on GPIO23.
	ind, err := gpioindicator.New(gpioreg.ByName("GPIO18"), gpioreg.ByName("GPIO23"), &gpioindicator.DefaultOpts)
	if err != nil {
		log.Fatal(err)
	}
	defer ind.Halt()

	var i device.Indicator = ind
	if err := i.Signal(context.Background(), device.SignalAccepted); err != nil {
		log.Fatal(err)
	}
}
