// Package pn532 drives an NXP PN532 NFC controller on a serial line (HSU,
// 115200 8N1) as the terminal's device.NFCReader: it polls for a phone in
// host card emulation and exchanges APDUs with it. It is also a
// device.NFCTag: for a while at a time it acts as an NFC Forum Type 4 tag
// that any phone reads (see "Tag role").
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
// # Tag role
//
// PresentTag(ctx, ndef, wait) turns the chip into a read-only NFC Forum
// Type 4 tag (T4T v2.0) holding one NDEF message:
//
//	SetParameters 0x30         ISO 14443-4 PICC emulation on (the chip does
//	                           RATS/ATS, ISO-DEP blocks and chaining itself),
//	                           automatic ATR_RES off
//	TgInitAsTarget             mode 05 (passive, PICC only), SENS_RES 04 00,
//	                           NFCID1 08 53 50 53, SEL_RES 20; waits up to
//	                           wait for a phone, then is aborted with an ACK
//	TgGetData / TgSetData      the phone's command APDU / the tag's answer,
//	                           until the NDEF file has been read to its end,
//	                           the phone leaves (status 0x29 or a gone code),
//	                           or Opts.TagSession runs out
//	SetParameters 0x14         back to the reader's parameters, on every path
//
// The tag answers, as T4T v2.0 and ISO/IEC 7816-4 say:
//
//	SELECT 00 A4 04 00 07 D2 76 00 00 85 01 01 [00]   NDEF Tag Application: 90 00; other AID: 6A 82
//	SELECT 00 A4 00 0C 02 E1 03                       capability container: 90 00
//	SELECT 00 A4 00 0C 02 E1 04                       NDEF file: 90 00; other file, or no application: 6A 82
//	READ BINARY 00 B0 P1P2 Le                         data (at most MLe = 240 bytes, cut at the file's end) 90 00;
//	                                                  no file selected 69 86; offset past the end 6B 00; P1 bit 7 6A 86
//	UPDATE BINARY 00 D6 …                             69 82: read-only (the CC's write access is FF)
//	anything else                                     6D 00 (INS), 6E 00 (CLA), 6A 86 (SELECT P1P2), 67 00 (length)
//
// The capability container is 15 bytes, 00 0F 20 00 F0 00 F0 04 06 E1 04
// <file size> 00 FF; the NDEF file is NLEN (2 bytes) then the message, at
// most MaxNDEF bytes. Every APDU's length is checked against its Lc/Le;
// one that is malformed gets an error status and changes nothing (the
// selection and how far the file was read stay as they were). Which NDEF
// message is held is the caller's: the terminal puts a URI record with
// the request's link, then for a request on several networks one with
// each network's EIP-681 URI, at most MaxNDEF bytes in all
// (nfcpay.TagMessage).
//
// The chip plays one role at a time: polling with its field on (WaitTap)
// or listening as a card (PresentTag). A caller alternates the two
// (terminal/nfcpay's Roles does, with its timing and trade-off); a Tap
// from before PresentTag is no longer valid after it.
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
// What we need is small (ten commands, one frame format), so the codec and
// transaction are here, on go.bug.st/serial, with the wire tested byte for
// byte against an emulator (package pn532test) that has its own codec.
//
// # Not verified on hardware
//
// The emulator follows the user manual; these points are read off it and not
// yet checked on a chip: that a "more information" answer is continued by
// InDataExchange with only Tg; how many milliseconds one passive
// activation retry takes (PollBudget bounds a poll either way); and, in the
// tag role, that with SetParameters 0x30 the chip answers RATS itself and
// TgGetData returns bare APDUs (what libnfc's nfc-emulate-forum-tag4
// relies on), and that an Android or iOS phone reads a tag whose role
// lasts a few hundred milliseconds at a time.
//
// # Datasheets
//
// PN532 user manual UM0701-02 (frames §6.2, commands §7, error codes
// table 4 in §7.1): https://www.nxp.com/docs/en/user-guide/141520.pdf
//
// PN532 product data sheet (HSU wake-up, timings):
// https://www.nxp.com/docs/en/nxp/data-sheets/PN532_C1.pdf
//
// NFC Forum Type 4 Tag Technical Specification v2.0 (NDEF detection
// procedure §5.4, capability container §5.1, command set §5.2) and the NFC
// Forum URI Record Type Definition (prefix codes): https://nfc-forum.org/
//
// ISO/IEC 14443-4 activation (SAK bit 6, RATS/ATS) as the chip does it:
// AN10834 MIFARE ISO/IEC 14443 PICC selection,
// https://www.nxp.com/docs/en/application-note/AN10834.pdf
package pn532
