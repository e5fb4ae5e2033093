// Package matrixkeypad reads a membrane or tactile keypad wired as a matrix
// of R rows and C columns straight to GPIO pins, the 16-pin "4×4 keypad" of
// hobby and POS boards included.
//
// # Wiring and scanning
//
// Rows are inputs with pull-ups and edge detection on both edges; columns
// are outputs. While idle every column is driven Low, so pressing any key
// pulls its row Low and raises an edge: the driver sleeps on the rows'
// WaitForEdge and never polls an idle keypad. On an edge it waits until the
// rows have been quiet for Opts.Debounce (every further edge restarts the
// wait), then scans: all columns High, then each column in turn Low, waiting
// Opts.ScanSettle before reading every row; then all columns Low again.
// A row read Low while column c is Low means the key at (row, c) is down.
//
// The scan's own column switching raises edges too. After a scan the driver
// drops edges until the rows have been quiet for 20 × ScanSettle (1 ms),
// then reads the rows with the columns idle: if that disagrees with the scan
// (a key moved during the scan, and its edge was dropped with the scan's
// own), it scans again. An idle keypad, or a held key, costs no CPU between
// edges.
//
// # What is reported
//
// A key is reported once when it goes down; holding it, auto-repeat and
// release report nothing, and it is reported again only after it has been
// seen released. A scan reports only when exactly one key is newly down and
// the scan is unambiguous:
//
//   - two or more keys down in one row make the scan ambiguous: the row is
//     then driven Low by one column and High by another through the switches
//     (undefined level), and three keys on a rectangle's corners show the
//     fourth (ghosting). Nothing is reported, rather than a wrong key.
//   - two keys newly down in the same scan (pressed together) report nothing.
//
// Keys seen in a scan that reported nothing are not reported later either:
// they must be released first. Rolling over from one key to another in a
// different row works (hold 1, press 5: 5 is reported).
//
// A limitation shared with Linux's matrix-keypad driver: while a key is held,
// pressing or releasing another key in the same row changes no row level,
// raises no edge, and goes unseen until some other edge causes a scan.
//
// # Hardware notes
//
// Columns are push-pull: pressing two keys in one row shorts a High column
// to a Low one through the switches for the few microseconds of a scan step.
// Series resistors (~1 kΩ) on the column lines, or diodes, make that
// harmless. Linux's sysfs GPIO cannot set pulls: use external pull-ups on
// the rows there (gpioioctl, the character device, can).
//
// Halt stops the goroutines: it calls Halt on each row pin, which interrupts
// a pending WaitForEdge on periph's gpioioctl pins; for other pins (sysfs,
// test fakes) each wait is bounded by Opts.EdgeTimeout. Use positive
// timeouts with periph pins: gpioioctl treats WaitForEdge(-1) as an already
// expired deadline, and WaitForEdge(0) as "forever".
package matrixkeypad
