package matrixkeypad_test

import (
	"context"
	"log"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"showpos/drivers/matrixkeypad"
)

func Example() {
	if _, err := host.Init(); err != nil {
		log.Fatal(err)
	}
	// A 4×4 membrane keypad: connector pins 1–4 are the rows, 5–8 the columns.
	var rows []gpio.PinIO
	for _, n := range []string{"GPIO5", "GPIO6", "GPIO13", "GPIO19"} {
		rows = append(rows, gpioreg.ByName(n))
	}
	var cols []gpio.PinOut
	for _, n := range []string{"GPIO12", "GPIO16", "GPIO20", "GPIO21"} {
		cols = append(cols, gpioreg.ByName(n))
	}
	kp, err := matrixkeypad.New(rows, cols, matrixkeypad.DefaultKeymap(), &matrixkeypad.DefaultOpts)
	if err != nil {
		log.Fatal(err)
	}
	defer kp.Halt()

	for {
		k, err := kp.ReadKey(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		log.Println("key", k)
	}
}
