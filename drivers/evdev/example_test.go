package evdev_test

import (
	"context"
	"errors"
	"log"

	"showpos/drivers/evdev"
)

func Example() {
	// A USB numeric keypad, by a name that survives re-plugging.
	kp, err := evdev.New("/dev/input/by-id/usb-0c45_USB_Keypad-event-kbd", &evdev.DefaultOpts)
	if err != nil {
		log.Fatal(err)
	}
	defer kp.Halt()

	for {
		k, err := kp.ReadKey(context.Background())
		if errors.Is(err, evdev.ErrUnplugged) {
			log.Fatal("keypad unplugged: ", err)
		} else if err != nil {
			log.Fatal(err)
		}
		log.Println("key", k)
	}
}
