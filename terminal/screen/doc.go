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
// fits (fractional modules blur and cost scans), with the standard 4-module
// quiet zone. When that does not fit at one pixel a module, it tries, in
// order: the same URI with a 2-module quiet zone; [Request.ShortURI] with 4,
// then 2 modules. A full EIP-681 URI with its req parameter is ~250 bytes, a
// 65-module code: too tall for a 64-pixel OLED, where the short URI (the
// URI without req, which any wallet can still pay) is shown instead. When
// nothing fits, the screen says so in words beside the amount.
//
// A Renderer caches parsed fonts, faces and the last QR codes it encoded; it
// is safe for concurrent use (calls are serialised).
package screen
