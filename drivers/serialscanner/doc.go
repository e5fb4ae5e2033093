// Package serialscanner drives a QR/barcode scanner that types what it reads
// over a serial port: a USB CDC-ACM device (/dev/ttyACM0) or a UART.
//
// A payer shows a QR code holding a signed Ethereum transaction as 0x-hex
// (or the payer API's handover JSON, one line starting with '{', for an
// EIP-3009 authorization: the terminal tells them apart, not the driver);
// the scanner sends the decoded text followed by a suffix — CR, LF or CRLF,
// a per-unit setting made by scanning a config barcode from its manual. Dev
// cuts the stream at that suffix (any of the three by default), trims
// surrounding whitespace, skips empty lines and hands each payload to
// ReadPayload. It implements showpos/device.Scanner.
//
// # The story of one Dev
//
// New opens the port, by Path or by looking up the scanner's USB VID and
// PID (the enumerator reads them from sysfs), and fails early if it cannot.
// It then starts one reader goroutine, which Halt stops and waits for.
//
// The reader reads with a 100 ms timeout, so it notices Halt without having
// its port closed under it. Complete payloads go into a queue of four; a
// scanner is a human-speed device, so if nobody reads, the oldest payload is
// dropped (and logged) rather than the reader stalling.
//
// A line longer than Opts.MaxPayload is dropped as it streams in — memory
// stays bounded whatever the scanner sends — and ReadPayload reports it once
// as device.ErrTooLarge; the next line reads normally.
//
// Unplugging a USB scanner makes the read fail (go.bug.st/serial reports
// PortClosed; a pty gives EIO). The reader closes the port, logs once and
// reopens it with capped, jittered backoff (Opts.ReconnectMin..Max),
// looking the VID/PID up afresh each time because the kernel may name the
// replugged scanner /dev/ttyACM1. ReadPayload simply keeps waiting; a
// partial payload cut by the unplug is lost. Nothing in the driver ends the
// process.
//
// # Caveats
//
//   - The port is opened in raw mode, 8N1, with no flow control and no
//     change to the modem lines (a pty has none; set no InitialStatusBits).
//   - Bytes already waiting when the port opens are read as usual; the first
//     line after a (re)open may be the tail of a scan that began before.
//   - go.bug.st/serial takes an exclusive lock on the port, which root
//     ignores.
//
// References: USB CDC-ACM class (usb.org, "CDC PSTN Subclass"); go.bug.st/serial
// v1.8.0 (https://pkg.go.dev/go.bug.st/serial).
package serialscanner
