package fbdev

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctl requests (include/uapi/linux/fb.h).
const (
	fbiogetVScreenInfo = 0x4600
	fbiogetFScreenInfo = 0x4602
)

// New opens the framebuffer at path (e.g. /dev/fb0), reads its screen
// info, and maps its memory (or, with o.NoMmap or when mmap fails, writes
// through pwrite). A nil o means DefaultOpts. Halt unmaps and closes it.
func New(path string, o *Opts) (*Dev, error) {
	if o == nil {
		o = &DefaultOpts
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("fbdev: %w", err)
	}
	info, err := readInfo(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("fbdev: %s: %w", path, err)
	}
	d, err := newFromFile(f, path, info, o.NoMmap)
	if err != nil {
		f.Close()
		return nil, err
	}
	return d, nil
}

// readInfo asks the kernel for both screen infos.
func readInfo(f *os.File) (ScreenInfo, error) {
	vb := make([]byte, VarScreenInfoSize)
	fb := make([]byte, nativeFixSize)
	if err := ioctl(f, fbiogetVScreenInfo, vb); err != nil {
		if errors.Is(err, syscall.ENOTTY) || errors.Is(err, syscall.EINVAL) {
			return ScreenInfo{}, fmt.Errorf("FBIOGET_VSCREENINFO: %w (not a framebuffer?)", err)
		}
		return ScreenInfo{}, fmt.Errorf("FBIOGET_VSCREENINFO: %w", err)
	}
	if err := ioctl(f, fbiogetFScreenInfo, fb); err != nil {
		return ScreenInfo{}, fmt.Errorf("FBIOGET_FSCREENINFO: %w", err)
	}
	v, err := ParseVarScreenInfo(vb)
	if err != nil {
		return ScreenInfo{}, err
	}
	fix, err := ParseFixScreenInfo(fb)
	if err != nil {
		return ScreenInfo{}, err
	}
	return ScreenInfo{Var: v, Fix: fix}, nil
}

func ioctl(f *os.File, req uintptr, buf []byte) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(unsafe.Pointer(&buf[0])))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// newFromFile draws on f, described by info: through a shared mapping of
// smem_len bytes, or with pwrite when noMmap is set or mapping fails.
// The Dev owns f from here: Halt unmaps and closes it.
func newFromFile(f *os.File, name string, info ScreenInfo, noMmap bool) (*Dev, error) {
	if !noMmap && info.Fix.SmemLen > 0 {
		var mem []byte
		var merr error
		rc, err := f.SyscallConn()
		if err != nil {
			return nil, fmt.Errorf("fbdev: %s: %w", name, err)
		}
		if err := rc.Control(func(fd uintptr) {
			mem, merr = unix.Mmap(int(fd), 0, int(info.Fix.SmemLen), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		}); err != nil {
			return nil, fmt.Errorf("fbdev: %s: %w", name, err)
		}
		if merr == nil {
			d, err := newDev(name, info, int64(len(mem)))
			if err != nil {
				unix.Munmap(mem)
				return nil, err
			}
			d.mem, d.via = mem, "mmap"
			d.close = func() error {
				return errors.Join(unix.Munmap(mem), f.Close())
			}
			return d, nil
		}
		// Fall through: some drivers cannot be mapped; pwrite works.
	}
	d, err := newDev(name, info, -1)
	if err != nil {
		return nil, err
	}
	d.w, d.via = f, "pwrite"
	d.close = f.Close
	return d, nil
}
