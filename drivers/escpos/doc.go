// Package escpos drives an ESC/POS thermal receipt printer on a serial
// port (go.bug.st/serial) or on the Linux USB printer class device
// (/dev/usb/lp0). It implements showpos/device.Printer.
//
// # The story of one receipt
//
// Print first asks the printer how it is with the real-time status query
// DLE EOT n — n=1 printer (bit 3: offline), n=2 offline cause (bit 2:
// cover open, bit 5: stopped at paper end), n=4 roll paper sensor (bits
// 2–3: near end, bits 5–6: paper out) — each answer one byte with bits 1
// and 4 set, awaited for at most Opts.StatusTimeout. A printer out of
// paper or open is refused with device.ErrPaperOut or device.ErrCoverOpen
// before anything is sent; one that does not answer, or whose port is not
// there, is device.ErrPrinterGone. The caller (terminal/printq) keeps the
// job and tries again; a sale never waits on the printer.
//
// Then it sends the job, laid out by Layout.Encode: ESC @ (initialise),
// ESC t 19 (code page PC858, Latin-1 with "€"), and per line ESC a
// (alignment), ESC E (emphasis) and GS ! (double width and height) where
// they change, the text in PC858 ("?" for what it lacks), two-column lines
// padded to the paper's width, rules of "-", QR codes through GS ( k
// (model 2, module size fitted to the paper, error correction M, store,
// print), and at the end GS V 66 0 (feed to the cutter, partial cut).
//
// The byte format is written here in one small file (encode.go) rather
// than taken from a library: no ESC/POS module is kept on the Go proxy
// this project draws from, and the format is a handful of fixed byte
// sequences, not a protocol with state to get wrong.
//
// # Caveats
//
//   - DLE EOT is a real-time command: a printer acts on it wherever it
//     appears in the stream. Text never contains it (control characters
//     become "?"), but the length of a QR payload of exactly 1,037 bytes
//     reads as DLE EOT 49; receipt links are far shorter.
//   - Print returns once the port took the job, not once it is on paper.
//     If the paper runs out mid-receipt the printer stops and finishes it
//     when a roll is put in; the job is not sent twice.
//   - Printers that are not bidirectional on USB never answer DLE EOT and
//     are reported gone; use their serial port, or a bidirectional model.
//   - The code page number for PC858 differs on some clones (Opts.CodeTable).
//
// References: Epson, "ESC/POS Command Reference for TM printers" (DLE EOT,
// ESC @, ESC t, ESC a, ESC E, GS !, GS ( k functions 165–181, GS V), as
// summarised in the "ESC/POS Command Manual" at
// https://github.com/fjmduran/images/blob/master/blog/esc_pos_printer/ESCPOS_Command_Manual.pdf
// and Rongta's RP32x command set
// (https://cdn.shopify.com/s/files/1/0613/4205/6698/files/RP325_RP326_RP327_RP328-Command_Set_RT_V1.0.pdf,
// DLE EOT n status bits); Linux drivers/usb/class/usblp.c (the USB printer
// class device: bulk OUT for the job, bulk IN for the answers); go.bug.st/serial v1.8.0.
package escpos
