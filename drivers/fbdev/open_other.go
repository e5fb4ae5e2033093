//go:build !linux

package fbdev

import (
	"errors"
	"fmt"
)

// New reports that framebuffer devices exist only on Linux. Use
// NewFromMemory or NewFromWriterAt elsewhere.
func New(path string, o *Opts) (*Dev, error) {
	return nil, fmt.Errorf("fbdev: %s: %w", path, errors.ErrUnsupported)
}
