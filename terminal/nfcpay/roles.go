package nfcpay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"showpos/device"
	"showpos/device/clock"
)

// DefaultTiming is how long each role lasts while a request is on screen.
//
// Reader 600 ms: two polls of the pn532 driver (PollBudget 300 ms is
// one), so a phone whose app answers in card emulation is found in one
// reader window however its own NFC loop is phased. Tag 400 ms: a phone's
// reader looks for tags several times a second while its screen is on
// (Android polls in a loop of about 100 to 300 ms), so a phone held still
// finds the tag within one tag window; a phone that has found it is
// served past the window (the driver's TagSession bounds that). A phone
// held to the terminal is answered in either role within about one
// second, worst case. Rest 3 s: after a phone has read the tag, the
// reader role alone runs for this long, so a phone still held there does
// not see "a new tag" at each tag window and open the link again.
var DefaultTiming = Timing{Reader: 600 * time.Millisecond, Tag: 400 * time.Millisecond, Rest: 3 * time.Second}

// Timing is the alternation's schedule. A zero field takes DefaultTiming's.
type Timing struct {
	Reader time.Duration // each reader window: the showpos tap protocol
	Tag    time.Duration // each tag window: the request's link as a Type 4 tag
	Rest   time.Duration // tag role skipped for this long after a phone read the tag
}

func (t Timing) withDefaults() Timing {
	if t.Reader <= 0 {
		t.Reader = DefaultTiming.Reader
	}
	if t.Tag <= 0 {
		t.Tag = DefaultTiming.Tag
	}
	if t.Rest <= 0 {
		t.Rest = DefaultTiming.Rest
	}
	return t
}

// Roles shares one NFC chip between its two roles while a request is on
// screen: the reader, which finds a phone running the showpos app in card
// emulation (the tap protocol, Pay), and the tag, which a phone without
// the app reads to get the request's link (its browser or wallet opens
// it; for a request on several networks each network's EIP-681 URI
// follows, TagMessage). With no Tag, or no link, it is the reader alone,
// as before.
//
// The two roles cannot overlap: a chip is either polling with its field on
// or listening as a card. So each costs the other its window: a phone with
// the app waits, worst case, one tag window longer; a phone without it,
// one reader window. A phone with the app that comes during a tag window
// reads the link too (its own reader polls): the app should claim that
// link (an Android App Link) so the payer lands in the app either way.
type Roles struct {
	Reader device.NFCReader
	Tag    device.NFCTag // nil: no tag role
	Timing Timing
	Clock  clock.Clock // nil: clock.System
	// OnRead, when set, is told each time a phone read the whole tag.
	OnRead func(link string)

	restUntil time.Time
}

// TagContent is what the tag holds for the request on screen (see
// TagMessage): its link, and for a request on several networks each
// network's EIP-681 URI, primary first.
type TagContent struct {
	Link string   // the request's URL; "" when there is no request on screen
	URIs []string // nil for a request on one network: the tag holds the link alone
}

// WaitTap returns the next phone with the showpos app (a Tap, as
// Reader.WaitTap does), serving the tag role in between when content
// gives a link (the request on screen; a zero TagContent when there is
// none). content is asked before each tag window, so a request that
// leaves the screen stops being offered at the next window. Content
// TagMessage refuses is an error (nothing is presented); so is any error
// of either role but the end of a reader window.
func (r *Roles) WaitTap(ctx context.Context, content func() TagContent) (device.Tap, error) {
	if r.Tag == nil {
		return r.Reader.WaitTap(ctx)
	}
	t := r.Timing.withDefaults()
	clk := r.Clock
	if clk == nil {
		clk = clock.System{}
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, t.Reader)
		tap, err := r.Reader.WaitTap(wctx)
		cancel()
		switch {
		case err == nil:
			return tap, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded):
			return nil, err
		}
		c := content()
		if c.Link == "" || clk.Now().Before(r.restUntil) {
			continue
		}
		msg, _, err := TagMessage(c.Link, c.URIs)
		if err != nil {
			return nil, err
		}
		read, err := r.Tag.PresentTag(ctx, msg, t.Tag)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("nfcpay: tag role: %w", err)
		}
		if read {
			r.restUntil = clk.Now().Add(t.Rest)
			if r.OnRead != nil {
				r.OnRead(c.Link)
			}
		}
	}
}
