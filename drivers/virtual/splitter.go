package virtual

import (
	"bytes"

	"showpos/device"
)

// scanItem is one thing a scanner read: a payload, or an error in its place.
type scanItem struct {
	payload []byte
	err     error
}

// splitter cuts a scanner's byte stream into payloads. A line ends at CR
// or LF (so CRLF ends one line and an empty one); lines are trimmed of
// spaces and empty ones skipped. A line longer than max bytes (counted
// before trimming) is dropped and reported once as device.ErrTooLarge when
// its terminator arrives; reading goes on with the next line.
type splitter struct {
	max      int
	line     []byte
	overflow bool
}

// feed consumes p and calls emit for each finished line.
func (s *splitter) feed(p []byte, emit func(scanItem)) {
	for len(p) > 0 {
		i := bytes.IndexAny(p, "\r\n")
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if !s.overflow {
			if len(s.line)+len(chunk) > s.max {
				s.overflow = true
				s.line = s.line[:0]
			} else {
				s.line = append(s.line, chunk...)
			}
		}
		if i < 0 {
			return
		}
		p = p[i+1:]
		if s.overflow {
			emit(scanItem{err: device.ErrTooLarge})
		} else if t := bytes.TrimSpace(s.line); len(t) > 0 {
			emit(scanItem{payload: bytes.Clone(t)})
		}
		s.overflow = false
		s.line = s.line[:0]
	}
}
