package serialscanner

import "bytes"

// splitter cuts the byte stream a scanner types into payloads. It is fed
// whatever each read returned, in any chunking, and gives the same payloads
// for the same bytes however they were cut.
//
// Memory is bounded: it never holds more than max+len(term)-1 bytes plus one
// read's worth, because a line that outgrows max is dropped on the spot and
// only its end (the terminator) is looked for.
type splitter struct {
	auto       bool   // any of CR, LF ends a line (so CRLF too)
	term       []byte // the terminator when not auto
	max        int    // the longest line kept, before trimming
	buf        []byte // the current, unterminated line
	scanned    int    // buf[:scanned] holds no terminator start
	discarding bool   // the current line is over max: drop up to its end
}

func newSplitter(term string, max int) *splitter {
	s := &splitter{max: max}
	if term == TerminatorAuto {
		s.auto = true
	} else {
		s.term = []byte(term)
	}
	return s
}

// emitFunc receives one complete line: trimmed, non-empty payload bytes the
// callee may keep, or tooLarge for a line over max (payload is nil then).
type emitFunc func(payload []byte, tooLarge bool)

// feed appends p to the stream and emits every line it completes.
func (s *splitter) feed(p []byte, emit emitFunc) {
	s.buf = append(s.buf, p...)
	start := 0 // first byte of the current line in buf
	for {
		i, n := s.index(start)
		if i < 0 {
			break
		}
		line := s.buf[start:i]
		switch {
		case s.discarding || len(line) > s.max:
			s.discarding = false
			emit(nil, true)
		default:
			if t := bytes.TrimSpace(line); len(t) > 0 {
				emit(bytes.Clone(t), false)
			}
		}
		start = i + n
		s.scanned = start
	}
	// Move the unterminated rest to the front of buf, so buf's array is
	// reused rather than crawled along.
	rest := s.buf[start:]
	s.scanned -= start
	keep := len(s.term) - 1 // a terminator may straddle two reads
	if keep < 0 {
		keep = 0
	}
	if s.discarding || len(rest) > s.max+keep {
		s.discarding = true
		if len(rest) > keep {
			rest = rest[len(rest)-keep:]
		}
		s.scanned = 0
	}
	s.buf = s.buf[:copy(s.buf, rest)]
	if s.scanned < 0 {
		s.scanned = 0
	}
	if s.scanned > len(s.buf) {
		s.scanned = len(s.buf)
	}
}

// index finds the first terminator in buf at or after start, searching
// only bytes not searched before. It returns its offset in buf and length,
// or -1.
func (s *splitter) index(start int) (int, int) {
	from := max(start, s.scanned)
	if s.auto {
		i := bytes.IndexAny(s.buf[from:], "\r\n")
		if i < 0 {
			s.scanned = len(s.buf)
			return -1, 0
		}
		return from + i, 1
	}
	// A terminator may have begun in the last len(term)-1 scanned bytes.
	from = max(start, from-(len(s.term)-1))
	i := bytes.Index(s.buf[from:], s.term)
	if i < 0 {
		s.scanned = len(s.buf)
		return -1, 0
	}
	return from + i, len(s.term)
}

// pending reports whether an unterminated line is held (bytes a disconnect
// would lose).
func (s *splitter) pending() bool {
	return s.discarding || len(bytes.TrimSpace(s.buf)) > 0
}
