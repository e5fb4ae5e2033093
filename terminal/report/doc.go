// Package report is the terminal's books as a cashier and an operator
// close them: the failures after acceptance kept until someone
// acknowledges them, and the X and Z reports.
//
// An X report is the running totals since the last Z (or since the first
// record, before any Z); it is read, never stored. A Z report is the
// close: the same content for the period from the last Z's end to the
// moment it is taken, numbered 1, 2, … and stored once, never rewritten
// (terminal/store TakeZ checks the period against the last Z and numbers
// it in one write). Both carry checkout's Totals for their period (sums per
// asset: taken, confirmed, pending, failed, and unmatched receipts) embedded
// whole, so what Totals gains shows in the reports too, and the failures
// dated in the period.
//
// A period is by the records' own times (a payment's acceptance, a
// receipt's block, a failure's), as Totals counts them. A Z is refused if
// a record dated in its period was stored after the books were read (a
// payment accepted during the Z): Books.TakeZ reads again, a few times.
// What it cannot see is a record dated before the last Z's end that is
// stored after it (a chain watcher catching up on old blocks, a clock set
// back): that record is in no Z's period. The period starts of the first Z
// is the zero time: everything before.
//
// Job lays a report out for the receipt printer (device.PrintJob) at a
// given number of columns; Text renders a job as plain text, what the
// golden tests compare.
package report
