// Package pn532 drives an NXP PN532 NFC controller on a serial line (HSU,
// 115200 8N1) as the terminal's device.NFCReader: it polls for a phone in
// host card emulation and exchanges APDUs with it.
//
// New(path, opts) opens the port and owns it (Halt closes it); NewPort(port,
// opts) takes a port the caller owns. Both wake the chip (0x55 and a run of 0x00), send
// SAMConfiguration (normal mode), bound InListPassiveTarget's retries with
// RFConfiguration item 0x05 (never 0xFF, which would wait forever), and
// read the firmware version, failing early with an error that names the
// port when the chip does not answer.
//
// WaitTap polls with InListPassiveTarget (one target, 106 kbps type A),
// each poll bounded by Opts.PollBudget, until a target with SEL_RES bit
// 0x20 (ISO 14443-4) is there; anything else (an NTAG sticker, a MIFARE
// Classic card) is released with InRelease and polling goes on. The chip
// has then done RATS; Tap.Exchange carries bare APDUs in InDataExchange,
// and Tap.Release is InRelease.
//
// # Wire behaviour
//
// Every command is one frame; the chip answers with an ACK, then the
// response frame (TFI D5, code = command + 1). Every read has a deadline
// (Opts.AckTimeout for the ACK, a per-command budget for the answer) and
// is done in slices of at most 20 ms, so a cancelled context or a Halt is
// seen at once; nothing waits forever and the driver starts no goroutine.
//
//   - Garbage before a frame's start code is skipped.
//   - A damaged answer (bad LCS or DCS) is asked for again with a NACK
//     (00 00 FF FF 00 00), at most twice.
//   - No ACK, a NACK from the chip, the error frame (00 00 FF 01 FF 7F 81
//     00), or no answer after the ACK: the driver sends an ACK (which
//     aborts the chip's current command) and sends the command once more;
//     a second failure is an error naming the command (ErrNoAnswer,
//     ErrSyntax, ErrFrame). InListPassiveTarget is the exception: an
//     answer missing past the poll budget means "nothing found this
//     round" (the search is aborted with an ACK).
//   - An InDataExchange status with error bits set is a *StatusError;
//     time-out (0x01), RF errors (0x02, 0x03, 0x0B) and the
//     target-gone codes (0x13, 0x27, 0x29, 0x2A, 0x2B) unwrap to
//     device.ErrGone, and the Tap stays gone.
//   - Status bit 0x40 ("more information"): the target's answer did not
//     fit one frame; the driver sends InDataExchange with only Tg to fetch
//     each next part, up to Opts.MaxAnswer bytes.
//   - An APDU over MaxAPDU (254) bytes is refused before it reaches the
//     wire; those over 252 go in an extended frame.
//
// After any of these the Dev stays usable: the next WaitTap starts clean.
//
// # Why not github.com/ZaparooProject/go-pn532
//
// go-pn532 v0.26.1 (already in go.mod) was evaluated first and is not used:
//
//   - uart.New(path), even with an explicit path, calls
//     enumerator.GetDetailedPortsList to choose a device profile; on Linux
//     that opens and sets up every /dev/ttyS* and /dev/ttyHS* to see if it
//     is real. On a POS board those are other drivers' ports (scanner,
//     printer, console), probed and reconfigured under them.
//   - Its frame codec is in internal/frame: not importable, so "build on
//     its codec" means taking the whole transport.
//   - Device.SendDataExchange treats any non-zero status as an error,
//     including the 0x40 chaining bit; there is no chaining.
//   - The transport hides faults we must see: when InListPassiveTarget's
//     answer stays damaged it returns a made-up "no target" (4B 00); it
//     resends each command up to 3 times and the wake-up up to 3 times
//     with fixed sleeps; it resends 16 wake-up bytes and flushes the input
//     before every command; its read timeout is shared mutable state that
//     InListPassiveTarget changes and restores.
//   - A package init reads DEBUG / PN532_DEBUG and turns on global logging.
//
// What we need is small (six commands, one frame format), so the codec and
// transaction are here, on go.bug.st/serial, with the wire tested byte for
// byte against an emulator (package pn532test) that has its own codec.
//
// # Not verified on hardware
//
// The emulator follows the user manual; two points are read off it and not
// yet checked on a chip: that a "more information" answer is continued by
// InDataExchange with only Tg, and how many milliseconds one passive
// activation retry takes (PollBudget bounds a poll either way).
//
// # Datasheets
//
// PN532 user manual UM0701-02 (frames §6.2, commands §7, error codes
// table 4 in §7.1): https://www.nxp.com/docs/en/user-guide/141520.pdf
//
// PN532 product data sheet (HSU wake-up, timings):
// https://www.nxp.com/docs/en/nxp/data-sheets/PN532_C1.pdf
//
// ISO/IEC 14443-4 activation (SAK bit 6, RATS/ATS) as the chip does it:
// AN10834 MIFARE ISO/IEC 14443 PICC selection,
// https://www.nxp.com/docs/en/application-note/AN10834.pdf
package pn532
