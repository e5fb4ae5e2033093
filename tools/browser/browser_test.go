package browser

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestChromiumLooksAtTheEnvironmentThenThePath(t *testing.T) {
	for _, tc := range []struct {
		name   string
		env    string
		onPath []string
		want   string // a name on PATH, or the env value; "" for not found
	}{
		{"env wins", "/opt/chrome/chrome", []string{"chromium"}, "/opt/chrome/chrome"},
		{"chromium first", "", []string{"google-chrome", "chromium-browser", "chromium"}, "chromium"},
		{"then chromium-browser", "", []string{"google-chrome", "chromium-browser"}, "chromium-browser"},
		{"then google-chrome", "", []string{"google-chrome"}, "google-chrome"},
		{"none", "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range tc.onPath {
				if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("PATH", dir)
			t.Setenv("SHOWPOS_CHROMIUM", tc.env)
			got, err := Chromium()
			switch {
			case tc.want == "":
				if err == nil || !strings.Contains(err.Error(), "SHOWPOS_CHROMIUM") {
					t.Errorf("Chromium() = %q, %v; want an error that names SHOWPOS_CHROMIUM", got, err)
				}
			case tc.env != "":
				if err != nil || got != tc.want {
					t.Errorf("Chromium() = %q, %v; want %q", got, err, tc.want)
				}
			default:
				if err != nil || got != filepath.Join(dir, tc.want) {
					t.Errorf("Chromium() = %q, %v; want %q", got, err, filepath.Join(dir, tc.want))
				}
			}
		})
	}
}

// The browser the tests get: an 800×900 window whose screenshots are its
// whole viewport, 800×813 (no infobar above the page), and no host but
// loopback.
func TestNewStartsAnOfflineBrowserWithAKnownWindow(t *testing.T) {
	tab := New(t)
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()

	win, err := chromedp.Run(ctx, chromedp.Evaluate[[4]int](`[outerWidth, outerHeight, innerWidth, innerHeight]`))
	if err != nil {
		t.Fatal(err)
	}
	if win != [4]int{800, 900, 800, 813} {
		t.Errorf("window %d×%d with a viewport %d×%d; want 800×900 and 800×813", win[0], win[1], win[2], win[3])
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != win[2] || b.Dy() != win[3] {
		t.Errorf("screenshot is %v, want the viewport, %d×%d", b, win[2], win[3])
	}

	// localhost would resolve from /etc/hosts; only 127.0.0.1 may.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<title>here</title>")
	}))
	defer srv.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Errorf("navigating to %s: %v", srv.URL, err)
	}
	elsewhere := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	err = chromedp.Do(ctx, chromedp.Navigate(elsewhere))
	if err == nil || !strings.Contains(err.Error(), "ERR_NAME_NOT_RESOLVED") {
		t.Errorf("navigating to %s: %v; want ERR_NAME_NOT_RESOLVED", elsewhere, err)
	}
}
