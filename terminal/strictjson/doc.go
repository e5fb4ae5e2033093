// Package strictjson reads JSON so that what a client's JSON library wrote
// is what the terminal understood.
//
// encoding/json matches a member name to a struct field ignoring case and
// under Unicode folding ("Version", "VERSION" and "verſion" all fill the
// field tagged "version"), lets the last of two equal names win, and
// ignores unknown names unless told otherwise. Another reader of the same
// bytes (the signer's tools, a proxy, a log) can then see another value
// than the terminal applies: {"version":30,"verſion":31} is 30 to Python
// and 31 to Go. [Decode] refuses such input instead:
//
//   - a member name must be one the destination type declares (its json
//     tags, or a field's own name where it has none, as encoding/json
//     reads them), spelled exactly: compared byte for byte after JSON
//     unescaping, case-sensitive;
//   - no JSON object anywhere in the input may name a member twice, also
//     inside maps, json.RawMessage, interface values and the values of
//     types with their own UnmarshalJSON, whose member names are otherwise
//     free;
//   - the input is one JSON value in UTF-8 with nothing but white space
//     after it, nested at most [MaxDepth] deep;
//   - an object or array where the destination holds a string, number or
//     boolean is refused at its first token, so a hostile body costs no
//     walk to its end; a []byte is read only as the base64 string
//     encoding/json writes (not as an array of numbers).
//
// It checks the names with a walk over json.Decoder's tokens against the
// names the destination type declares (read once per type by reflection
// and cached), then decodes with encoding/json itself, numbers kept exact
// (json.Number in interface values). So it writes no JSON parser of its
// own and decodes values exactly as encoding/json does; null leaves a
// field as it was, as there.
package strictjson
