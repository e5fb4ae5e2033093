//go:build !linux

package evdev

import "errors"

// New needs Linux's input subsystem; elsewhere it fails.
func New(path string, o *Opts) (*Dev, error) {
	return nil, errors.New("evdev: " + path + ": input devices need Linux")
}
