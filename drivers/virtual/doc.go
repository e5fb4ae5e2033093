// Package virtual simulates a payment terminal's hardware so that showpos
// runs on a laptop and in tests with no board attached.
//
// A Board bundles six simulated devices behind the interfaces of package
// device:
//
//   - Display: an in-memory Width×Height picture (colour, or 1-bit with
//     Opts.Mono). A web page served on loopback shows it live.
//   - Keypad: the same page has a POS keypad; clicks and the computer's
//     keyboard become key presses, in order.
//   - Scanner: a pseudo-terminal. Anything able to write to a serial port
//     writes payloads, one a line, to ScannerPath (echo, socat, a payer
//     simulator using go.bug.st/serial); the page and tests can also POST
//     one payload.
//   - NFCReader: Board.Tap presents a simulated phone, a function from a
//     command APDU to a response APDU.
//   - Indicator: records the signals and shows them on the page as a
//     coloured LED and a beep text.
//   - Printer: a receipt printer of Opts.PrinterColumns characters. What
//     it prints appears on the page as paper (monospace text laid out as
//     drivers/escpos lays it out, QR codes drawn), newest on top; the
//     page's switches make it out of paper, low on paper, open or
//     unplugged, and it then refuses jobs as a real one does.
//
// The page and its endpoints (listed on Board.handler in http.go) are served
// on a loopback address only: whoever reaches them presses the terminal's
// keys. Requests naming a foreign Host or coming from a foreign Origin are
// refused, so a web page in the same browser cannot drive the terminal.
//
// Every goroutine the Board starts is stopped and waited for by Close.
package virtual
