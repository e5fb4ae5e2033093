package evdev

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Layout says how wide input_event's struct timeval is.
type Layout int

const (
	// LayoutAuto is the layout of this binary: Layout64 on 64-bit GOARCHes.
	LayoutAuto Layout = 0
	// Layout32: timeval is two 32-bit words; a record is 16 bytes.
	Layout32 Layout = 32
	// Layout64: timeval is two 64-bit words; a record is 24 bytes.
	Layout64 Layout = 64
)

func (l Layout) resolve() (Layout, error) {
	switch l {
	case LayoutAuto:
		if bits.UintSize == 32 {
			return Layout32, nil
		}
		return Layout64, nil
	case Layout32, Layout64:
		return l, nil
	}
	return 0, fmt.Errorf("evdev: unknown layout %d", int(l))
}

// size is the record size in bytes of a resolved layout.
func (l Layout) size() int {
	if l == Layout32 {
		return 16
	}
	return 24
}

// Event types and key values, from linux/input-event-codes.h.
const (
	evSyn = 0x00
	evKey = 0x01
	evMsc = 0x04

	valRelease = 0
	valPress   = 1
	valRepeat  = 2
)

// event is one decoded input_event.
type event struct {
	Sec, Usec int64
	Type      uint16
	Code      uint16
	Value     int32
}

// decode reads one record of layout l (resolved) from b, which holds at
// least l.size() bytes.
func decode(b []byte, l Layout) event {
	le := binary.LittleEndian
	var e event
	if l == Layout32 {
		e.Sec = int64(int32(le.Uint32(b[0:])))
		e.Usec = int64(int32(le.Uint32(b[4:])))
		b = b[8:]
	} else {
		e.Sec = int64(le.Uint64(b[0:]))
		e.Usec = int64(le.Uint64(b[8:]))
		b = b[16:]
	}
	e.Type = le.Uint16(b[0:])
	e.Code = le.Uint16(b[2:])
	e.Value = int32(le.Uint32(b[4:]))
	return e
}

// encode is decode's inverse; tests build byte streams with it.
func encode(e event, l Layout) []byte {
	le := binary.LittleEndian
	var b []byte
	if l == Layout32 {
		b = le.AppendUint32(b, uint32(e.Sec))
		b = le.AppendUint32(b, uint32(e.Usec))
	} else {
		b = le.AppendUint64(b, uint64(e.Sec))
		b = le.AppendUint64(b, uint64(e.Usec))
	}
	b = le.AppendUint16(b, e.Type)
	b = le.AppendUint16(b, e.Code)
	return le.AppendUint32(b, uint32(e.Value))
}
