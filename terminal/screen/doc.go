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
// anti-aliasing greys for the panel to dither. [Renderer.Cut] tells what
// the last screen had to cut or leave out, so that a test can hold every
// translation to its screen. A French amount's no-break space (U+00A0)
// is not a place to break a line.
//
// The screens' own words (ONLINE, PAID, the hints under a request, "no
// tip") come from the message catalog in the language [Renderer.SetLocale]
// sets (English by default); the caller's (reasons, menu lines, amounts)
// come translated and formatted. The Go fonts have the accented Latin
// letters German, French and Spanish need.
//
// The request screen draws the payment URI as a QR code as large as the
// screen allows, with the largest whole number of pixels per module that
// fits (fractional modules blur and cost scans) and never fewer than
// [MinModule] (two) where anything fits at two. What a phone at 20 cm
// reads is a module of about 0.33 mm (qr_camera_test.go measures it with
// a camera model and zbar): one pixel of a 0.96" OLED is 0.17 mm, two
// pixels of a 1.3" 240×240 TFT 0.195 mm. So the full URI (EIP-681 with
// its req link, 53 to 61 modules) is shown only at [FullMinModule] (three)
// pixels a module or more with the standard 4-module quiet zone: on a
// 320×240 screen and larger. Otherwise [Request.ShortURI] is shown, the
// request's short link (a version-2 code, 25 modules, for a typical
// public_url): on a 240×240 at five pixels a module, on a 128×64 OLED at
// two with a quiet zone of 3.5 modules, all inside the panel (its bezel
// is dark, and a quiet zone that ran off the panel would not be one).
// When nothing fits at two pixels a module (a screen under 58 pixels
// high, or a very long public_url), one pixel a module it is: the short
// URI (the smaller code) before the full one, the standard quiet zone
// before the reduced one of 2 modules. When nothing fits at all, the
// screen says so in words beside the amount.
//
// A request payable on several networks ([Request.Offers] of 2 or more)
// names the network whose URI is shown under the amount ("base 1/2"),
// and its hint says F4 shows the next (the 128×64 OLED keeps the amount,
// the name and the time left, and cuts the hint).
//
// A Renderer caches parsed fonts, faces and the last QR codes it encoded; it
// is safe for concurrent use (calls are serialised).
package screen
