package main

import (
	"log/slog"
	"strings"
	"time"

	"showpos/terminal/checkout"
	"showpos/terminal/request"
	"showpos/terminal/screen"
)

// shortLinkQR is how the request screen r draws the short link of a
// request under publicURL: the pixels a module of its QR code, planned
// by the screen itself (screen.Renderer.RequestQR) for a link of the
// length and characters every short link under publicURL has (a short
// code is always 8 QR alphanumeric characters). Only the short link is
// given, so the plan is the one a screen too small for the full URI
// draws.
func shortLinkQR(r *screen.Renderer, publicURL string) (link string, module int) {
	id := strings.Repeat("f", 32) // any request id: every code packs alike
	link = checkout.ShortLink(&request.Document{ID: id, RequestURL: publicURL + checkout.RequestPath + "?id=" + id})
	module, _ = r.RequestQR(screen.Request{ShortURI: link, Amount: "0.0013", Asset: "ETH", Remaining: 5 * time.Minute})
	return link, module
}

// warnShortLinkQR logs a warning at start when publicURL makes the short
// link's QR code on r (a small display: the 128×64 OLED) come out under
// screen.MinModule pixels a module, which a phone at 20 cm does not read:
// a public_url with a path, or a long host, takes the link past what a
// version-2 code holds. Larger screens draw it bigger and are not warned.
func warnShortLinkQR(log *slog.Logger, r *screen.Renderer, publicURL string) {
	link, module := shortLinkQR(r, publicURL)
	if module >= screen.MinModule {
		return
	}
	size := r.Size()
	log.Warn("terminal.public_url makes the request screen's short-link QR code too dense for a phone to read: "+
		"use a shorter public_url with no path (scheme://host:port, e.g. http://192.168.1.20:8080)",
		"public_url", publicURL, "short_link", link, "chars", len(link),
		"px_per_module", module, "want", screen.MinModule, "screen", size.String())
}
