// Package device declares what the terminal needs from hardware, as small
// interfaces named by role: Display, Keypad, Scanner, NFCReader (with its
// Tap sessions), Indicator and Printer. cmd/posd/board wires drivers to them from
// config. The terminal's domain (terminal/) depends on these interfaces,
// never on a driver; cmd/posd wires real or simulated drivers in.
// device/clock is the time both sides are handed (Clock, Sleep).
//
// The payment core (request, check, store, payer API) runs without any of
// them: a terminal with no hardware is still a payment endpoint, driven over
// its operator socket and payer API.
package device
