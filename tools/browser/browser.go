// Package browser starts the headless Chromium that the browser tests drive
// through chromedp: the simulator page's own test (drivers/virtual) and a
// whole sale in the browser (cmd/posd). It is a test and development tool;
// posd never links it.
//
// The browser is found as Chromium says, started with Options (headless, no
// network but loopback, an 800×900 window at scale 1, so screenshots have a
// known size) and a fresh profile in a temporary directory that chromedp
// removes when the browser stops.
package browser

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// Chromium finds the browser: $SHOWPOS_CHROMIUM, else chromium (or
// chromium-browser, google-chrome) on the PATH.
func Chromium() (string, error) {
	if p := os.Getenv("SHOWPOS_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium not found (Debian: apt-get install chromium; or set SHOWPOS_CHROMIUM)")
}

// Options start the chromium at path with the headless flags that work on
// this kind of machine (no sandbox: tests run as root; no GPU), no network but
// loopback (every other host name is unresolvable, so a page that reaches out
// fails visibly), and an 800×900 window at device scale 1 whose viewport
// screenshots are 800×813. They replace chromedp's defaults rather than add
// to them: the browser runs with these flags and only those chromedp must add
// (a fresh profile directory, the DevTools pipe, about:blank).
func Options(path string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.WindowSize(800, 900),
		chromedp.Flag("force-device-scale-factor", "1"),
		// As ChromeDriver does: without it the tab chromedp drives carries
		// the infobar that warns of an unsupported command-line flag, 56
		// pixels off the viewport (800×757 instead of 800×813).
		chromedp.Flag("test-type", true),
	}
}

// New starts a headless Chromium for t and returns a chromedp context on a
// blank tab in it, for chromedp.Run. The browser stops when t ends; if t
// failed, its output is logged. Without a chromium t is skipped, or fails
// when SHOWPOS_REQUIRE_BROWSER=1 (as in CI).
//
// The browser lives as long as t, not as a deadline: derive a context with
// a timeout from the returned one to bound the steps.
func New(t testing.TB) context.Context {
	t.Helper()
	path, err := Chromium()
	if err != nil {
		if os.Getenv("SHOWPOS_REQUIRE_BROWSER") == "1" {
			t.Fatalf("%v; SHOWPOS_REQUIRE_BROWSER=1 makes this a failure", err)
		}
		t.Skip(err)
	}
	out := new(output)
	alloc, stopAlloc := chromedp.NewExecAllocator(context.Background(),
		append(Options(path), chromedp.CombinedOutput(out))...)
	tab, stopBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		stopBrowser()
		stopAlloc()
		if t.Failed() {
			t.Logf("chromium output:\n%s", out)
		}
	})
	// Start the browser now, with no deadline on its life.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return tab
}

// output keeps what the browser writes; chromedp writes it from its own
// goroutine while a failing test may read it.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
