// Package screen draws what a showpos terminal shows: state in, image out.
//
// A [Renderer] is made once per display size by [New] and has one method per
// screen: [Renderer.Idle], [Renderer.Amount], [Renderer.Request],
// [Renderer.Result] and [Renderer.Menu]. Each returns an image of exactly the
// display's size, ready for device.Display.Draw: an *image.Paletted with only
// black and white for a monochrome panel (a 128×64 OLED), an *image.RGBA for
// a colour one (240×240 and 320×240 TFTs). Nothing here touches a device or
// starts a goroutine.
//
// Text comes from the Go fonts (golang.org/x/image/font/gofont), embedded in
// the binary. Every text is measured before it is drawn: lines wrap on
// spaces, a paragraph that does not fit shrinks to a smaller face, and a word
// wider than a line even at the smallest face is cut with "…", so no text
// ever runs off the screen. Positions are whole pixels. On a monochrome panel
// text is rendered in gray and thresholded at 50%, so there are no
// anti-aliasing greys for the panel to dither.
//
// The request screen draws the payment URI as a QR code as large as the
// screen allows, with the largest whole number of pixels per module that
// fits (fractional modules blur and cost scans) and never fewer than
// [MinModule] (two) where anything fits at two: at one pixel a module a
// phone at 20 cm sees each module as about one camera pixel and cannot
// read it (qr_camera_test.go measures this). The full URI (EIP-681 with
// its req link) is shown when it fits at two pixels a module with the
// standard 4-module quiet zone: on a 240×240 or 320×240 screen it does.
// Otherwise [Request.ShortURI] is shown, the request's short link (a
// version-2 code for a typical public_url, 25 modules): on a 128×64 OLED
// at two pixels a module with a quiet zone of 3.5 modules, all inside the
// panel (its bezel is dark, and a quiet zone that ran off the panel would
// not be one). When nothing fits at two pixels a module (a screen under
// 58 pixels high, or a very long public_url), one pixel a module it is:
// the short URI (the smaller code) before the full one, the standard
// quiet zone before the reduced one of 2 modules. When nothing fits at
// all, the screen says so in words beside the amount.
//
// A Renderer caches parsed fonts, faces and the last QR codes it encoded; it
// is safe for concurrent use (calls are serialised).
package screen
