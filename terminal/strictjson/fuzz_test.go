package strictjson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// A read is what the reference reader saw: every value by its path, in
// order, and every member name where it stood.
type read struct {
	values  []refValue
	members []refMember
	// dup is the first name seen twice in one object, with its path.
	dup string
}

type refValue struct {
	path string // "owner.name", "items[1].tags[0]"
	// tok is a scalar's token (string, json.Number, bool, nil), or for an
	// array its length as an int, for an object -1.
	tok any
}

type refMember struct {
	at   string // the object's path with array indices as "[]"
	name string
}

// reference reads b apart from Decode: a generic walk of the tokens into
// an ordered list of (path, name, value), with no knowledge of the
// destination type and no depth bound. It fails on anything that is not
// exactly one JSON value in UTF-8.
func reference(b []byte) (*read, error) {
	if !utf8.Valid(b) {
		return nil, errors.New("not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	r := &read{}
	var walk func(p, pattern string) error
	walk = func(p, pattern string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			r.values = append(r.values, refValue{p, -1})
			seen := map[string]bool{}
			for dec.More() {
				tok, err := dec.Token()
				if err != nil {
					return err
				}
				name := tok.(string)
				if seen[name] && r.dup == "" {
					r.dup = p + "/" + name
				}
				seen[name] = true
				r.members = append(r.members, refMember{pattern, name})
				if err := walk(join(p, name), join(pattern, name)); err != nil {
					return err
				}
			}
		case json.Delim('['):
			i := len(r.values)
			r.values = append(r.values, refValue{p, 0})
			n := 0
			for ; dec.More(); n++ {
				if err := walk(p+"["+strconv.Itoa(n)+"]", pattern+"[]"); err != nil {
					return err
				}
			}
			r.values[i].tok = n
		default:
			r.values = append(r.values, refValue{p, tok})
			return nil
		}
		_, err = dec.Token()
		return err
	}
	if err := walk("", ""); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the value")
	}
	return r, nil
}

func join(p, name string) string {
	if p == "" {
		return name
	}
	return p + "." + name
}

// wrongName is the first member the reference saw that the test type does
// not declare where it stands (spelled exactly), or "".
func (r *read) wrongName() string {
	for _, m := range r.members {
		names, ok := declared[m.at]
		if ok && !slices.Contains(names, m.name) {
			return m.at + "/" + m.name
		}
	}
	return ""
}

// sameValue reports whether scalar tokens a (from the input) and b (from
// the re-encoding) are the same value.
func sameValue(path string, a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		if a == b { // the same text; math/big refuses exponents past 1e6
			return true
		}
		x, okx := new(big.Rat).SetString(string(a))
		y, oky := new(big.Rat).SetString(string(b))
		return okx && oky && x.Cmp(y) == 0
	case string:
		b, ok := b.(string)
		if !ok {
			return false
		}
		if path == "blob" { // base64: padding bits and line breaks are not kept
			x, errx := base64.StdEncoding.DecodeString(a)
			y, erry := base64.StdEncoding.DecodeString(b)
			return errx == nil && erry == nil && bytes.Equal(x, y)
		}
		if path == "issued" { // time.Time writes its own RFC 3339 form
			x, errx := time.Parse(time.RFC3339Nano, a)
			y, erry := time.Parse(time.RFC3339Nano, b)
			return errx == nil && erry == nil && x.Equal(y)
		}
		return a == b
	}
	return a == b
}

// empty reports whether a token is a value omitempty leaves out.
func empty(tok any) bool {
	return tok == "" || tok == 0 || tok == false || tok == nil || tok == json.Number("0")
}

// FuzzDecode checks Decode against the reference reader. Whenever Decode
// accepts: the reference reads the same bytes as one JSON value, sees
// every member name declared where it stands, spelled exactly, and no name
// twice in one object, and the decoded value, encoded again, holds every
// value the reference read, at the same path. Whenever the reference
// finds a name twice in an object, or a name the type does not declare
// exactly (folded case included), Decode refuses.
func FuzzDecode(f *testing.F) {
	for _, tc := range cases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d doc
		err := Decode(b, &d)
		ref, referr := reference(b)
		if err != nil {
			if referr == nil && ref.dup == "" && ref.wrongName() == "" {
				var e *Error
				if errors.As(err, &e) {
					t.Fatalf("Decode refused a member (%v) of %q the reference found nothing wrong with", err, b)
				}
			}
			return
		}
		switch {
		case referr != nil:
			t.Fatalf("Decode took %q, which the reference cannot read: %v", b, referr)
		case ref.dup != "":
			t.Fatalf("Decode took %q with a member twice: %s", b, ref.dup)
		case ref.wrongName() != "":
			t.Fatalf("Decode took %q with a member not declared exactly: %s", b, ref.wrongName())
		}
		out, err := json.Marshal(&d)
		if err != nil {
			t.Fatalf("encode the decoded %q: %v", b, err)
		}
		again, err := reference(out)
		if err != nil || again.dup != "" {
			t.Fatalf("the reference cannot read the encoding %s: %v", out, err)
		}
		got := map[string]any{}
		for _, v := range again.values {
			got[v.path] = v.tok
		}
		for _, v := range ref.values {
			if v.tok == nil { // null leaves a field as it was
				continue
			}
			g, ok := got[v.path]
			switch {
			case !ok && empty(v.tok) && omitted(v.path):
			case !ok:
				t.Fatalf("%q: %s = %v is not in the decoded value %s", b, v.path, v.tok, out)
			case !sameValue(v.path, v.tok, g):
				t.Fatalf("%q: %s = %v, decoded as %v (%s)", b, v.path, v.tok, g, out)
			}
		}
	})
}

// omitted reports whether the value at path is one omitempty leaves out
// when empty.
func omitted(path string) bool {
	if path == "note" || path == "targets.terminals" || path == "targets.groups" || path == "owner.tags" {
		return true
	}
	var i int
	_, err := fmt.Sscanf(path, "items[%d].tags", &i)
	return err == nil && strings.HasSuffix(path, ".tags")
}
