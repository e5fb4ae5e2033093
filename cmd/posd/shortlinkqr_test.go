package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"showpos/terminal/screen"
)

// A public_url whose short link the 128×64 OLED cannot draw at two pixels
// a module (past a version-2 code even at level Low: over 47 characters
// of link, or over 34 with a path, which keeps the link in lower case,
// out of QR's alphanumeric set) is warned of at start, with the link and the module size the screen
// plans; a short public_url is not, nor is any public_url on a screen
// that draws its short link at two pixels or more.
func TestWarnShortLinkQRWhenTheOLEDCannotDrawIt(t *testing.T) {
	oled := screen.Size{W: 128, H: 64, Mono: true}
	square := screen.Size{W: 240, H: 240}
	tft := screen.Size{W: 320, H: 240}
	for _, tc := range []struct {
		name      string
		size      screen.Size
		publicURL string
		warn      bool
	}{
		{"OLED, an address and port", oled, "http://192.168.1.20:8080", false},
		{"OLED, 45 characters of link (level Low)", oled, "http://till-04.corner-cafe.example", false},
		{"OLED, 51 characters of link", oled, "https://till-04.corner-cafe.example:8443", true},
		{"OLED, a short path", oled, "https://10.0.0.5/pos", false},
		{"OLED, a path behind a proxy", oled, "https://10.0.0.5/till/04", true},
		{"240x240, a path behind a proxy", square, "https://10.0.0.5/till/04", false},
		{"320x240, a long host", tft, "https://till-04.corner-cafe.example:8443", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := screen.New(tc.size)
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			warnShortLinkQR(slog.New(rec), r, tc.publicURL)
			var warned []slog.Record
			for _, x := range rec.recs {
				if x.Level == slog.LevelWarn && strings.Contains(x.Message, "public_url") {
					warned = append(warned, x)
				}
			}
			link, module := shortLinkQR(r, tc.publicURL)
			if got := len(warned) == 1; got != tc.warn || len(warned) > 1 {
				t.Fatalf("%d warnings for %s (link %q, %d chars, %d px a module); want warned %v", len(warned), tc.publicURL, link, len(link), module, tc.warn)
			}
			if (module < screen.MinModule) != tc.warn {
				t.Errorf("the screen plans %d px a module for %q; want under %d: %v", module, link, screen.MinModule, tc.warn)
			}
			if tc.warn {
				attrs := map[string]string{}
				warned[0].Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
				if attrs["short_link"] != link || attrs["px_per_module"] != "1" || attrs["public_url"] != tc.publicURL {
					t.Errorf("warning %q %v; want the link %q at 1 px a module", warned[0].Message, attrs, link)
				}
			}
		})
	}
}

// posd warns at start of a public_url its 128×64 display cannot draw the
// short link of at two pixels a module, and not of the default one.
func TestPosdWarnsOfAPublicURLTheOLEDCannotDraw(t *testing.T) {
	for _, tc := range []struct {
		publicURL string // "": the default, http://127.0.0.1:<port>
		warn      bool
	}{
		{"", false},
		{"https://till-04.corner-cafe.example:8443", true},
	} {
		t.Run(tc.publicURL, func(t *testing.T) {
			over := `
assets = [{ symbol = "ETH" }]
[terminal]
id = "oled-till"
data_dir = "DATA"
`
			if tc.publicURL != "" {
				over += "public_url = \"" + tc.publicURL + "\"\n"
			}
			over += `
[board.display]
driver = "virtual"
width = 128
height = 64
mono = true
[board.virtual]
listen = "127.0.0.1:0"
`
			tm := writeTerminal(t, over)
			rec := &recorder{}
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { errc <- run(ctx, slog.New(rec), tm.cfgPath, "", anyPort) }()
			waitFor(t, tm.op, errc)
			cancel()
			if err := <-errc; err != nil {
				t.Fatalf("posd: %v", err)
			}
			warned := 0
			rec.mu.Lock()
			for _, x := range rec.recs {
				if x.Level == slog.LevelWarn && strings.Contains(x.Message, "short-link QR code") {
					warned++
				}
			}
			rec.mu.Unlock()
			if warned != map[bool]int{false: 0, true: 1}[tc.warn] {
				t.Errorf("%d short-link warnings at start with public_url %q; want warned %v", warned, tc.publicURL, tc.warn)
			}
		})
	}
}
