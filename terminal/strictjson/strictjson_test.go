package strictjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// The test destination has every shape the decoder must read: a promoted
// embedded struct, nested structs by value and by pointer, a slice of
// structs, a type with its own UnmarshalJSON (time.Time), json.RawMessage,
// a map, an interface, omitempty, "-", "-," and an untagged field.
type Base struct {
	ID string `json:"id"`
}

type owner struct {
	Name string   `json:"name"`
	Tags []string `json:"tags,omitempty"`
}

type targets struct {
	Terminals []string `json:"terminals,omitempty"`
	Groups    []string `json:"groups,omitempty"`
}

type doc struct {
	Base
	Version  uint64            `json:"version"`
	Issued   time.Time         `json:"issued"`
	Targets  targets           `json:"targets"`
	Owner    *owner            `json:"owner"`
	Items    []owner           `json:"items"`
	Extra    json.RawMessage   `json:"extra"`
	Labels   map[string]string `json:"labels"`
	Any      any               `json:"any"`
	Note     string            `json:"note,omitempty"`
	Secret   string            `json:"-"`
	Dash     string            `json:"-,"`
	Blob     []byte            `json:"blob"`
	Untagged int
	hidden   int
}

// declared is the test type's member names by where they are ("[]" for any
// element of an array), written out apart from the reflection that
// Decode uses. Objects elsewhere (extra, labels, any, issued) have free
// names.
var declared = map[string][]string{
	"":        {"id", "version", "issued", "targets", "owner", "items", "extra", "labels", "any", "note", "-", "blob", "Untagged"},
	"targets": {"terminals", "groups"},
	"owner":   {"name", "tags"},
	"items[]": {"name", "tags"},
}

// A case is a body and what Decode says: "" to accept, or text its error
// holds. The fuzz target is seeded from the same table.
var cases = []struct {
	name, in, err string
}{
	{"every member", `{"id":"a","version":30,"issued":"2025-03-01T12:00:00Z","targets":{"terminals":["t1"],"groups":["g"]},
		"owner":{"name":"o","tags":["x"]},"items":[{"name":"i0"},{"name":"i1","tags":[]}],"extra":{"Free":[1,{"k":null}]},
		"labels":{"a":"1","ſ":"2","s":"3"},"any":{"n":12345678901234567890,"l":[true,false,null]},"note":"n","-":"d","Untagged":7}`, ""},
	{"empty object", `{}`, ""},
	{"null members", `{"owner":null,"items":null,"labels":null,"any":null,"extra":null,"version":null}`, ""},
	{"escaped name spelled exactly", `{"vers\u0069on":1}`, ""},
	{"long s folds to version", `{"version":30,"verſion":31}`, `unknown member "verſion" (member names are exact and case-sensitive: "version")`},
	{"escaped long s", `{"ver\u017fion":31}`, `unknown member "verſion"`},
	{"capitalised", `{"Version":1}`, `unknown member "Version" (member names are exact and case-sensitive: "version")`},
	{"upper case", `{"VERSION":1}`, `unknown member "VERSION"`},
	{"kelvin sign folds to k", `{"labels":{},"targets":{"terminals":[]},"id":"x","any":1,"extra":1,"Untagged":1,"owner":{"name":"\u212a"},"items":[],"note":"","-":"","issued":"2025-03-01T12:00:00Z","version":1}`, ""},
	{"duplicate at the top", `{"version":30,"version":31}`, `duplicate member "version"`},
	{"duplicate in targets", `{"targets":{"groups":["a"],"groups":["b"]}}`, `duplicate member "groups" in targets`},
	{"folded name in targets", `{"targets":{"Groups":["a"]}}`, `unknown member "Groups" in targets (member names are exact and case-sensitive: "groups")`},
	{"folded name in a slice element", `{"items":[{"name":"a"},{"Name":"b"}]}`, `unknown member "Name" in items[1]`},
	{"duplicate behind a pointer", `{"owner":{"name":"a","name":"b"}}`, `duplicate member "name" in owner`},
	{"duplicate map key", `{"labels":{"a":"1","a":"2"}}`, `duplicate member "a" in labels`},
	{"duplicate inside a raw message", `{"extra":{"x":1,"x":2}}`, `duplicate member "x" in extra`},
	{"free names inside a raw message", `{"extra":{"Anything":1,"anything":2}}`, ""},
	{"duplicate deep in an interface", `{"any":[{"a":{"b":1,"b":2}}]}`, `duplicate member "b" in any[0].a`},
	{"duplicate inside a type that decodes itself", `{"issued":{"a":1,"a":2}}`, `duplicate member "a" in issued`},
	{"many members, duplicate last", `{"labels":{"a":"","b":"","c":"","d":"","e":"","f":"","g":"","h":"","i":"","j":"","k":"","l":"","m":"","n":"","o":"","p":"","q":"","r":"","a":""}}`, `duplicate member "a" in labels`},
	{"unknown member", `{"versions":1}`, `unknown member "versions"`},
	{"json minus is no name", `{"Secret":"x"}`, `unknown member "Secret"`},
	{"json minus comma is the name -", `{"-":"x"}`, ""},
	{"untagged field by its own name", `{"Untagged":1}`, ""},
	{"untagged field in another case", `{"untagged":1}`, `unknown member "untagged" (member names are exact and case-sensitive: "Untagged")`},
	{"unexported field", `{"hidden":1}`, `unknown member "hidden"`},
	{"embedded member promoted", `{"id":"x"}`, ""},
	{"embedded struct by its type name", `{"Base":{"id":"x"}}`, `unknown member "Base"`},
	{"embedded member in another case", `{"ID":"x"}`, `unknown member "ID"`},
	{"data after the value", `{"version":1} {}`, "data after the JSON value"},
	{"garbage after the value", `{"version":1}x`, "data after the JSON value"},
	{"byte order mark", "\ufeff{\"version\":1}", "invalid JSON"},
	{"not UTF-8", "{\"note\":\"\xff\"}", "not UTF-8"},
	{"truncated", `{"version":1`, "invalid JSON"},
	{"empty", ``, "invalid JSON"},
	{"wrong type", `{"version":"1"}`, "cannot unmarshal"},
	{"float for an integer", `{"version":1.5}`, "cannot unmarshal"},
	{"array for a number", `{"version":[1,2,3]}`, "version: an array where a number belongs"},
	{"bytes as base64", `{"blob":"AAE="}`, ""},
	{"bytes as an array", `{"blob":[0,1]}`, "blob: an array where a string belongs"},
	{"object for a string", `{"targets":{"groups":[{"a":1}]}}`, "targets.groups[0]: an object where a string belongs"},
	{"too deep", `{"any":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, "nested more than"},
	{"deep enough", `{"any":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`, ""},
}

func TestDecode(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var d doc
			err := Decode([]byte(tc.in), &d)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Decode: %v", err)
			case tc.err != "" && err == nil:
				t.Fatalf("Decode took it: %+v", d)
			case tc.err != "" && !strings.Contains(err.Error(), tc.err):
				t.Fatalf("Decode: %v; want an error holding %q", err, tc.err)
			}
		})
	}
}

// A refused member changes nothing in the destination.
func TestDecodeRefusalLeavesTheValue(t *testing.T) {
	d := doc{Version: 29, Note: "kept"}
	err := Decode([]byte(`{"version":30,"note":"new","verſion":31}`), &d)
	var e *Error
	if !errors.As(err, &e) || e.Member != "verſion" || e.Want != "version" || e.Duplicate {
		t.Fatalf("Decode = %v; want an *Error for verſion", err)
	}
	if d.Version != 29 || d.Note != "kept" {
		t.Fatalf("destination changed to %+v", d)
	}
}

// Numbers in interface values stay exact, and the decoded values are
// encoding/json's.
func TestDecodeValues(t *testing.T) {
	var d doc
	in := `{"id":"a","version":18446744073709551615,"owner":{"name":"o"},"items":[{"name":"x","tags":["t"]}],"any":{"n":12345678901234567890},"-":"d","extra":{"b":1}}`
	if err := Decode([]byte(in), &d); err != nil {
		t.Fatal(err)
	}
	n, _ := d.Any.(map[string]any)["n"].(json.Number)
	if d.ID != "a" || d.Version != 1<<64-1 || d.Owner.Name != "o" || d.Items[0].Tags[0] != "t" || n != "12345678901234567890" || d.Dash != "d" || string(d.Extra) != `{"b":1}` {
		t.Fatalf("decoded %+v", d)
	}
}

// A field whose name two embedded structs give at the same depth is
// dropped by encoding/json, so it is unknown here too; a tagged one
// wins over an untagged one, and the shallower over the deeper.
func TestDecodeEmbeddedConflicts(t *testing.T) {
	type A struct{ X, Y int }
	type B struct {
		X int
		Y int `json:"Y"`
	}
	type C struct {
		Z int
	}
	type D struct {
		C
		Z string
	}
	type both struct {
		A
		B
		D
	}
	for _, tc := range []struct{ in, err string }{
		{`{"X":1}`, `unknown member "X"`},
		{`{"Y":1}`, ""},
		{`{"Z":"shallow"}`, ""},
	} {
		var v both
		err := Decode([]byte(tc.in), &v)
		if (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: Decode = %v; want %q", tc.in, err, tc.err)
		}
	}
}

// A recursive type is read to any depth it nests (within MaxDepth).
func TestDecodeRecursiveType(t *testing.T) {
	type node struct {
		Name string  `json:"name"`
		Kids []*node `json:"kids"`
	}
	var n node
	if err := Decode([]byte(`{"name":"a","kids":[{"name":"b","kids":[{"name":"c"}]}]}`), &n); err != nil || n.Kids[0].Kids[0].Name != "c" {
		t.Fatalf("Decode = %v, %+v", err, n)
	}
	err := Decode([]byte(`{"name":"a","kids":[{"name":"b","kids":[{"Name":"c"}]}]}`), &n)
	if err == nil || !strings.Contains(err.Error(), `unknown member "Name" in kids[0].kids[0]`) {
		t.Fatalf("Decode = %v", err)
	}
}

func TestDecodeNeedsAPointer(t *testing.T) {
	var d doc
	if err := Decode([]byte(`{}`), d); err == nil {
		t.Fatal("Decode into a struct value took it")
	}
	if err := Decode([]byte(`{}`), (*doc)(nil)); err == nil {
		t.Fatal("Decode into a nil pointer took it")
	}
}

// A map's keys are free, but the values of a map of structs are held to
// the struct's names, and an array of structs to its elements'.
func TestDecodeMapsAndArraysOfStructs(t *testing.T) {
	type v struct {
		ByName map[string]owner `json:"byName"`
		Pair   [2]owner         `json:"pair"`
	}
	for _, tc := range []struct{ in, err string }{
		{`{"byName":{"Any Key":{"name":"a"},"any key":{"name":"b"}},"pair":[{"name":"x"},{"tags":[]}]}`, ""},
		{`{"byName":{"k":{"Name":"a"}}}`, `unknown member "Name" in byName.k`},
		{`{"byName":{"a b":{"name":"a","name":"b"}}}`, `duplicate member "name" in byName."a b"`},
		{`{"pair":[{"name":"x"},{"NAME":"y"}]}`, `unknown member "NAME" in pair[1]`},
	} {
		var got v
		err := Decode([]byte(tc.in), &got)
		if (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: Decode = %v; want %q", tc.in, err, tc.err)
		}
	}
}
