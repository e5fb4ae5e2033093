package evdev

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctl numbers from linux/input.h, in the generic encoding (arm, arm64,
// x86): _IOW('E', 0x90, int) and _IOC(_IOC_READ, 'E', 0x06, 256).
const (
	eviocgrab     = 0x40044590
	eviocgname256 = 0x81004506
)

// New opens the input device at path (e.g. "/dev/input/event0" or a stable
// "/dev/input/by-id/usb-…-event-kbd") and grabs it. A file that is not an
// input device, or one another process holds grabbed, is refused.
func New(path string, o *Opts) (*Dev, error) {
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("evdev: %w", err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("evdev: %s: %w", path, err)
	}
	var ierr error
	var name [256]byte
	cerr := rc.Control(func(fd uintptr) {
		if ierr = unix.IoctlSetInt(int(fd), eviocgrab, 1); ierr != nil {
			return
		}
		// The name only decorates String; a failure leaves it empty.
		_, _, _ = unix.Syscall(unix.SYS_IOCTL, fd, eviocgname256, uintptr(unsafe.Pointer(&name[0])))
	})
	if cerr != nil {
		ierr = cerr
	}
	if ierr != nil {
		f.Close()
		return nil, fmt.Errorf("evdev: grab %s (EVIOCGRAB): %w", path, ierr)
	}
	label := path
	if n, _, _ := bytes.Cut(name[:], []byte{0}); len(n) > 0 {
		label += " " + strconv.Quote(string(n))
	}
	return newDev(label, f, o)
}
