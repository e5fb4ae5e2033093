// Package evdev reads a keypad through the Linux input subsystem
// (/dev/input/eventN): a USB numeric keypad, a POS keyboard, or a built-in
// keypad whose kernel driver (matrix-keypad, gpio-keys) already scans it.
//
// New opens the device and grabs it (EVIOCGRAB) so its keys reach only this
// process, not the console or a desktop; a device another process has
// grabbed is refused with an error naming it. A goroutine owned by the Dev
// reads input_event records until Halt closes the device.
//
// # input_event
//
// The kernel writes one record per event:
//
//	struct timeval time   2×4 bytes (32-bit process) or 2×8 bytes (64-bit)
//	__u16 type            EV_KEY = 1; EV_SYN, EV_MSC, … are skipped
//	__u16 code            KEY_* from linux/input-event-codes.h
//	__s32 value           1 press, 0 release, 2 autorepeat
//
// so a record is 16 bytes for a 32-bit process (arm) and 24 for a 64-bit one
// (arm64, amd64). The size follows the reading process, not the kernel: a
// 32-bit binary on a 64-bit kernel gets 16-byte records. Layout Auto uses
// this binary's word size; Layout32 and Layout64 decode records captured on
// another machine. A wrong layout cannot be detected and decodes garbage,
// phantom presses included: 24-byte records read as 16-byte ones yield every
// second record's event intact and noise between. Records are decoded from
// bytes, little-endian (every board showpos targets).
//
// Only presses (value 1) of codes in the keymap are delivered; releases,
// autorepeats and unknown codes are dropped. Key codes do not depend on
// NumLock: the keypad's 7 is KEY_KP7 whether the LED is lit or not.
//
// NewFromReader runs the same decoder over any io.Reader (a capture, a pipe,
// a test's bytes). See
// https://www.kernel.org/doc/html/latest/input/input.html and
// https://www.kernel.org/doc/html/latest/input/event-codes.html.
package evdev
