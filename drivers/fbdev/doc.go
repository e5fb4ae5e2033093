// Package fbdev draws on a Linux framebuffer device (/dev/fb0): HDMI and
// DSI screens on single-board computers, and SPI panels whose kernel
// driver (fbtft, tinydrm's fbdev emulation) exposes one.
//
// # How
//
// New opens the device, asks the kernel for its variable and fixed screen
// info (ioctls FBIOGET_VSCREENINFO 0x4600 and FBIOGET_FSCREENINFO 0x4602),
// maps smem_len bytes of it shared, and draws by writing pixels into the
// mapping. Where mapping fails it writes rows with pwrite(2) instead.
// NewFromMemory and NewFromWriterAt draw into any buffer described by a
// ScreenInfo, which is how the tests run on files and byte slices.
//
// Draw writes only the rows of its rectangle, and in each row only the
// rectangle's bytes: the rest of the screen and the padding at the end of
// each row (line_length may exceed width × bytes per pixel) are not
// touched. Pixels go to the visible page: the screen's xoffset/yoffset
// inside its virtual buffer, read once in New (a later pan by another
// program is not followed).
//
// # Pixel formats
//
// 16 bits per pixel (RGB565, BGR565, RGB555) and 32 (XRGB8888, XBGR8888,
// ARGB8888) true colour, packed, little-endian (every ARM Linux board).
// Each channel's place is read from the red, green, blue and transp
// bitfields, so BGR panels need nothing special; transparency bits are set
// (opaque). Other depths (8 bpp palettes, 24 bpp packed RGB) and planar or
// greyscale modes are refused with an error naming the device and what it
// reported; ErrUnsupported is wrapped.
//
// fb_var_screeninfo is 160 bytes everywhere; fb_fix_screeninfo holds two
// unsigned longs, so it is 68 bytes on 32-bit ARM and 80 on arm64.
// ParseVarScreenInfo and ParseFixScreenInfo decode both from bytes.
//
// # Caveats
//
// The kernel's text console draws on the same framebuffer: its cursor
// blinks over the picture and a kernel message scrolls it. Boot with
// fbcon=map:9 or vt.global_cursor_default=0 and consoleblank=0, or put
// the VT into graphics mode (KDSETMODE KD_GRAPHICS) from the service.
//
// Halt unmaps and closes the device; the last picture stays on the glass.
//
// # References
//
// The framebuffer API:
// https://www.kernel.org/doc/html/latest/fb/api.html
//
// The structures and ioctls, include/uapi/linux/fb.h:
// https://github.com/torvalds/linux/blob/master/include/uapi/linux/fb.h
package fbdev
