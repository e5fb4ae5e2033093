package strictjson

import (
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// schema is what member names a destination type takes where.
type schema struct {
	kind kind
	// fields are an object's members by exact name.
	fields map[string]*schema
	// names are fields' keys in order, for folded.
	names []string
	// elem is a list's elements or a dict's values.
	elem *schema
	// want names a scalar's JSON type: "string", "number" or "boolean".
	want string
}

type kind uint8

const (
	// anything: any JSON; an object's names are free (none twice). For
	// scalars, interfaces, json.RawMessage and types that decode
	// themselves.
	anything kind = iota
	// object: a struct; only its declared names.
	object
	// dict: a map; any names, values of elem.
	dict
	// list: a slice or array of elem.
	list
	// scalar: a string, number or boolean (want says which), so an
	// object or array there is refused at its first token rather than
	// walked to its end and refused by encoding/json after.
	scalar
)

var (
	// free is the schema of a value whose member names are not declared.
	free = &schema{kind: anything}

	str     = &schema{kind: scalar, want: "string"}
	number  = &schema{kind: scalar, want: "number"}
	boolean = &schema{kind: scalar, want: "boolean"}
)

// folded is the declared name that name matches ignoring case under
// Unicode folding, as encoding/json would match it, or "".
func (s *schema) folded(name string) string {
	for _, n := range s.names {
		if strings.EqualFold(n, name) {
			return n
		}
	}
	return ""
}

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	// schemas caches a schema per destination type: reflection runs once
	// per type per process. Schemas are not changed once stored.
	schemas sync.Map // reflect.Type → *schema
)

// schemaOf is the schema of what v points to.
func schemaOf(v any) (*schema, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, errors.New("strictjson: decode into a non-nil pointer")
	}
	t := rv.Type()
	if s, ok := schemas.Load(t); ok {
		return s.(*schema), nil
	}
	s := build(t, map[reflect.Type]*schema{})
	got, _ := schemas.LoadOrStore(t, s)
	return got.(*schema), nil
}

// build is the schema of type t. building holds the structs being built,
// so a recursive type refers to itself.
func build(t reflect.Type, building map[reflect.Type]*schema) *schema {
	// encoding/json hands the value to its own UnmarshalJSON (or, for a
	// string, UnmarshalText) wherever the type or a pointer to it has one.
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) ||
		t.Implements(textUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		if t.Kind() != reflect.Pointer {
			return free
		}
	}
	switch t.Kind() {
	case reflect.String:
		return str
	case reflect.Bool:
		return boolean
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return number
	case reflect.Pointer:
		return build(t.Elem(), building)
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			// []byte is written as a base64 string. encoding/json also
			// reads an array of numbers into it; no writer of ours or
			// of a documented format sends one, so it is refused.
			return str
		}
		elem := build(t.Elem(), building)
		if elem == free {
			return free
		}
		return &schema{kind: list, elem: elem}
	case reflect.Map:
		return &schema{kind: dict, elem: build(t.Elem(), building)}
	case reflect.Struct:
		if s, ok := building[t]; ok {
			return s
		}
		s := &schema{kind: object, fields: map[string]*schema{}}
		building[t] = s
		for name, ft := range structFields(t) {
			s.fields[name] = build(ft, building)
			s.names = append(s.names, name)
		}
		slices.Sort(s.names)
		return s
	}
	return free
}

// structFields are the member names encoding/json decodes into a struct
// of type t, with the type of each one's field: exported fields under
// their json tag's name or their own, "-" left out, the fields of an
// embedded struct without a tag name promoted, and of several fields with
// one name the shallowest, then the only tagged one, wins, or none
// (encoding/json's typeFields and dominantField).
func structFields(t reflect.Type) map[string]reflect.Type {
	type candidate struct {
		typ    reflect.Type
		depth  int
		tagged bool
	}
	byName := map[string][]candidate{}
	visited := map[reflect.Type]bool{}
	level := []reflect.Type{t}
	for depth := 0; len(level) > 0; depth++ {
		var next []reflect.Type
		for _, st := range level {
			if visited[st] {
				continue
			}
			for i := range st.NumField() {
				sf := st.Field(i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if sf.Anonymous {
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				if !validTag(name) {
					name = ""
				}
				if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
					// An unexported embedded pointer to a struct cannot
					// be set, and encoding/json skips it.
					if !sf.IsExported() && sf.Type.Kind() == reflect.Pointer {
						continue
					}
					next = append(next, ft)
					continue
				}
				c := candidate{typ: sf.Type, depth: depth, tagged: name != ""}
				if name == "" {
					name = sf.Name
				}
				byName[name] = append(byName[name], c)
			}
		}
		// Marked after the level: a struct embedded twice at one depth
		// gives its fields twice there, so they annihilate, as in
		// encoding/json.
		for _, st := range level {
			visited[st] = true
		}
		level = next
	}
	out := make(map[string]reflect.Type, len(byName))
	for name, cs := range byName {
		top := slices.MinFunc(cs, func(a, b candidate) int { return a.depth - b.depth }).depth
		var win []candidate
		for _, c := range cs {
			if c.depth == top {
				win = append(win, c)
			}
		}
		if len(win) > 1 {
			tagged := slices.DeleteFunc(win, func(c candidate) bool { return !c.tagged })
			win = tagged
		}
		if len(win) == 1 {
			out[name] = win[0].typ
		}
	}
	return out
}

// validTag is encoding/json's isValidTag.
func validTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
