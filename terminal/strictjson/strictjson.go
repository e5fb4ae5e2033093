package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxDepth is how deeply arrays and objects may nest. The terminal's own
// types nest a few levels; the bound keeps the walk's recursion small on
// hostile input (encoding/json's own bound is 10,000).
const MaxDepth = 64

// Error is a refusal of a member: its name is not one the destination
// declares (exactly), or it appears twice in one object.
type Error struct {
	// Path is where the object holding the member is, as
	// "targets" or "items[2].owner"; "" is the top-level value.
	Path string
	// Member is the name as read (after JSON unescaping).
	Member string
	// Duplicate is set when the name was already seen in that object;
	// otherwise the name is not one the destination declares there.
	Duplicate bool
	// Want is the declared name Member folds to (as encoding/json would
	// have matched it), or "".
	Want string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Duplicate {
		fmt.Fprintf(&b, "duplicate member %q", e.Member)
	} else {
		fmt.Fprintf(&b, "unknown member %q", e.Member)
	}
	if e.Path != "" {
		fmt.Fprintf(&b, " in %s", e.Path)
	}
	if e.Want != "" {
		fmt.Fprintf(&b, " (member names are exact and case-sensitive: %q)", e.Want)
	}
	return b.String()
}

// Decode decodes b, one JSON value, into v, a non-nil pointer, refusing
// what the package doc says. A refused member is an *Error; bad syntax,
// data after the value, invalid UTF-8 and values of the wrong type are
// other errors. v is left untouched unless every name in b checks out;
// after that, as with encoding/json, a value of the wrong type may leave v
// partly set: decode into a fresh value and use it only when err is nil.
func Decode(b []byte, v any) error {
	if !utf8.Valid(b) {
		return errors.New("not UTF-8 text")
	}
	s, err := schemaOf(v)
	if err != nil {
		return err
	}
	if err := check(b, s); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	// Redundant after the walk; kept so that a gap between this package's
	// reading of the json tags and encoding/json's is refused, not ignored.
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// check reports whether b is one JSON value, with nothing after it, whose
// member names are exactly those s allows, none twice in one object. It
// does not decode.
func check(b []byte, s *schema) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // numbers are not converted, so no float range error
	w := walker{dec: dec, at: make([]step, 0, 8)}
	if err := w.value(s); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

type walker struct {
	dec *json.Decoder
	// at is where the walk is: the member names and array indices from the
	// top to the value being read.
	at []step
}

// step is a member name, or an array index when index >= 0.
type step struct {
	name  string
	index int
}

// path renders where the walk is as "targets" or "items[2].owner".
func (w *walker) path() string {
	var b strings.Builder
	for _, st := range w.at {
		if st.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(st.index))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		if plainName(st.name) {
			b.WriteString(st.name)
		} else {
			b.WriteString(strconv.Quote(st.name))
		}
	}
	return b.String()
}

// plainName reports whether name can be shown in a path unquoted.
func plainName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// value reads one value, whose names s declares.
func (w *walker) value(s *schema) error {
	tok, err := w.dec.Token()
	if err != nil {
		return syntax(err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar: its type is encoding/json's to check
	}
	if s.kind == scalar {
		what := "an object"
		if d == '[' {
			what = "an array"
		}
		if len(w.at) == 0 {
			return fmt.Errorf("%s where a %s belongs", what, s.want)
		}
		return fmt.Errorf("%s: %s where a %s belongs", w.path(), what, s.want)
	}
	if len(w.at) >= MaxDepth {
		return fmt.Errorf("JSON nested more than %d deep", MaxDepth)
	}
	if d == '[' {
		elem := s.elem
		if s.kind != list {
			elem = free
		}
		for i := 0; w.dec.More(); i++ {
			w.at = append(w.at, step{index: i})
			err := w.value(elem)
			w.at = w.at[:len(w.at)-1]
			if err != nil {
				return err
			}
		}
	} else {
		if err := w.object(s); err != nil {
			return err
		}
	}
	if _, err := w.dec.Token(); err != nil { // the closing delimiter
		return syntax(err)
	}
	return nil
}

// manyMembers is where object switches from a scan of the names seen to a
// map: a body has a handful, a hostile one thousands.
const manyMembers = 16

// object reads an object's members, its '{' read.
func (w *walker) object(s *schema) error {
	var few [manyMembers]string
	seen := few[:0]
	var many map[string]struct{}
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return syntax(err)
		}
		name, _ := tok.(string) // More and Token guarantee a name here
		dup := false
		if many != nil {
			_, dup = many[name]
			many[name] = struct{}{}
		} else {
			for _, x := range seen {
				if x == name {
					dup = true
					break
				}
			}
			seen = append(seen, name)
			if len(seen) > manyMembers {
				many = make(map[string]struct{}, 2*len(seen))
				for _, x := range seen {
					many[x] = struct{}{}
				}
			}
		}
		if dup {
			return &Error{Path: w.path(), Member: name, Duplicate: true}
		}
		sub := free
		switch s.kind {
		case object:
			sub = s.fields[name]
			if sub == nil {
				return &Error{Path: w.path(), Member: name, Want: s.folded(name)}
			}
		case dict:
			sub = s.elem
		}
		w.at = append(w.at, step{name: name, index: -1})
		err = w.value(sub)
		w.at = w.at[:len(w.at)-1]
		if err != nil {
			return err
		}
	}
	return nil
}

// syntax names a tokenizer error as bad JSON.
func syntax(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("invalid JSON: %w", err)
}
