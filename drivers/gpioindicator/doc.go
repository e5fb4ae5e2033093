// Package gpioindicator drives a payment terminal's buzzer and status LED
// from two GPIO output pins.
//
// Each device.Signal plays a pattern: a list of Steps, each setting both pins
// and holding them for a duration. The default patterns (DefaultPatterns):
//
//	SignalKey       buzzer 20 ms
//	SignalAccepted  buzzer 80 ms on, 80 ms off, 80 ms on; LED on for the whole 1 s
//	SignalRejected  buzzer 600 ms on; LED blinks 3× (100 ms on, 100 ms off) meanwhile
//	SignalAttention buzzer 100 ms on, 100 ms off, three beeps; LED off
//
// With a single-colour LED the payer tells accepted (steady) from rejected
// (blinking) by the light alone, and by the beep: two short against one long.
//
// # Buzzer
//
// The buzzer pin is switched on and off (gpio.High / gpio.Low): wire an
// active buzzer (one with its own oscillator, usually through a transistor).
// A passive buzzer or piezo disc needs a square wave at its resonant
// frequency (PWM); this driver does not generate one.
//
// # Guarantees
//
// Signal returns when the pattern is done, when ctx ends (with ctx's error) or
// when Halt is called (with device.ErrHalted); in every case both pins are
// driven Low before it returns. Signals do not overlap: a second caller waits
// for the first pattern to finish (or for its own ctx to end).
//
// Either pin may be nil or gpio.INVALID; that half of every pattern is then
// skipped (a board with only a buzzer, or only an LED).
package gpioindicator
