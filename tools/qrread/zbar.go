package qrread

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrNoZbar is ReadZbar's answer where Debian's zbar-tools (zbarimg) is
// not installed.
var ErrNoZbar = errors.New("qrread: zbarimg not found (apt-get install zbar-tools)")

// ReadZbar returns the text of the QR code in img as zbar reads it: the
// ZBar library through its zbarimg command (Debian's zbar-tools), a
// decoder independent of gozxing (Read) and of the encoder the terminal
// draws with. It writes img to a temporary PNG file and asks zbarimg for
// QR codes only. ErrNotFound when zbar finds none.
func ReadZbar(img image.Image) (string, error) {
	bin, err := exec.LookPath("zbarimg")
	if err != nil {
		return "", ErrNoZbar
	}
	dir, err := os.MkdirTemp("", "qrread")
	if err != nil {
		return "", fmt.Errorf("qrread: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "photo.png")
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return "", fmt.Errorf("qrread: %w", err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return "", fmt.Errorf("qrread: %w", err)
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", path)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 4 { // zbarimg: no symbol found
		return "", fmt.Errorf("%w by zbar in the %dx%d picture", ErrNotFound, img.Bounds().Dx(), img.Bounds().Dy())
	}
	if err != nil {
		return "", fmt.Errorf("qrread: zbarimg: %w: %s", err, strings.TrimSpace(errb.String()))
	}
	// --raw prints each symbol's text and a newline.
	return strings.TrimSuffix(out.String(), "\n"), nil
}
