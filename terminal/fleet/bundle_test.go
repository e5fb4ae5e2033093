package fleet

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSignOpenRoundTrip(t *testing.T) {
	pub, priv := testKey(1)
	p := Payload{
		Version: 42, Issued: t0, Expires: t0.Add(time.Hour),
		Targets: Targets{Terminals: []string{"till-7"}, Groups: []string{"cafes"}},
		Config:  "[texts]\nwelcome = \"Hi\"\n",
	}
	raw, err := Sign(priv, p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(raw, pub)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("Open = %+v, want %+v", got, p)
	}
	var env map[string]string
	if err := json.Unmarshal(raw, &env); err != nil || len(env) != 2 || env["payload"] == "" || env["signature"] == "" {
		t.Errorf("envelope %s: want exactly payload and signature", raw)
	}
}

// The signature covers the payload bytes as sent: any formatting a third
// party's tool produces is taken, and nothing is re-encoded to check it.
func TestOpenTakesAnyPayloadFormatting(t *testing.T) {
	pub, priv := testKey(1)
	payload := []byte("{\n  \"config\": \"\",\n  \"expires\": \"2025-03-08T12:00:00+01:00\",\n  \"issued\": \"2025-03-01T12:00:00Z\",\n  \"version\": 7\n}\n")
	raw := []byte(`{"signature":"` + base64.StdEncoding.EncodeToString(ed25519.Sign(priv, payload)) +
		`","payload":"` + base64.StdEncoding.EncodeToString(payload) + `"}`)
	p, err := Open(raw, pub)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 7 || p.Expires.UTC() != time.Date(2025, 3, 8, 11, 0, 0, 0, time.UTC) || len(p.Targets.Terminals)+len(p.Targets.Groups) != 0 {
		t.Errorf("payload %+v", p)
	}
}

// A signed payload is read as any JSON reader reads it: a member name
// folded to a documented one, or given twice at any depth, is refused
// bad_bundle naming it, though the signature holds. encoding/json alone
// read {"version":30,…,"verſion":31} as version 31.
func TestOpenRefusesMemberNamesNotExactlyDeclared(t *testing.T) {
	pub, priv := testKey(1)
	const times = `"issued":"2025-03-01T12:00:00Z","expires":"2025-03-08T12:00:00Z"`
	for _, tc := range []struct{ name, payload, says string }{
		{"long s", `{"version":30,` + times + `,"verſion":31}`, `payload: unknown member "verſion" (member names are exact and case-sensitive: "version")`},
		{"capitalised", `{"Version":30,` + times + `}`, `unknown member "Version"`},
		{"upper case", `{"VERSION":30,` + times + `}`, `unknown member "VERSION"`},
		{"twice", `{"version":30,` + times + `,"version":31}`, `duplicate member "version"`},
		{"twice in targets", `{"version":30,` + times + `,"targets":{"terminals":["a"],"terminals":["b"]}}`, `duplicate member "terminals" in targets`},
		{"folded in targets", `{"version":30,` + times + `,"targets":{"groupſ":["a"]}}`, `unknown member "groupſ" in targets`},
		{"config in another case", `{"version":30,` + times + `,"Config":"x = 1"}`, `unknown member "Config"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Open(envelopeOf(t, priv, []byte(tc.payload)), pub)
			if err == nil {
				t.Fatalf("Open took %+v", p)
			}
			if r := asRefusal(t, err); r.Code != CodeBadBundle || !strings.Contains(r.Message, tc.says) {
				t.Fatalf("Open = %v; want bad_bundle saying %q", r, tc.says)
			}
		})
	}
	raw, _ := Sign(priv, Payload{Version: 30, Issued: t0, Expires: t0.Add(time.Hour)})
	for _, env := range []string{
		strings.Replace(string(raw), `"payload"`, `"Payload"`, 1),
		strings.Replace(string(raw), `"signature"`, `"ſignature"`, 1),
		strings.Replace(string(raw), `{`, `{"signature":"AA==",`, 1),
	} {
		if _, err := Open([]byte(env), pub); err == nil || asRefusal(t, err).Code != CodeBadBundle {
			t.Errorf("envelope %.40s…: Open = %v; want bad_bundle", env, err)
		}
	}
}

// Inspect reads a bundle as Open does but for the signature: a sender
// holding no key sees the payload of any well-formed bundle, whoever
// signed it, and the same bad_bundle refusals as a terminal would give.
func TestInspectReadsWithoutAKey(t *testing.T) {
	_, priv := testKey(1)
	want := Payload{Version: 9, Issued: t0, Expires: t0.Add(time.Hour), Targets: Targets{Groups: []string{"cafes"}}}
	raw, err := Sign(priv, want)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Inspect(raw); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Inspect = %+v, %v; want %+v", got, err, want)
	}
	payload, _ := json.Marshal(want)
	shortSig, _ := json.Marshal(map[string][]byte{"payload": payload, "signature": []byte("short")})
	for _, tc := range []struct{ name, raw, says string }{
		{"empty", ``, "empty bundle"},
		{"not JSON", `hello`, "bundle:"},
		{"oversize", `{"payload":"` + strings.Repeat("A", MaxBundle) + `"}`, "larger than"},
		{"no signature", `{"payload":"e30="}`, "payload and signature are required"},
		{"short signature", string(shortSig), "signature of 5 bytes"},
		{"bad payload", string(envelopeOf(t, priv, []byte(`{"version":0}`))), "payload:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Inspect([]byte(tc.raw))
			if err == nil {
				t.Fatal("Inspect took it")
			}
			if r := asRefusal(t, err); r.Code != CodeBadBundle || !strings.Contains(r.Message, tc.says) {
				t.Errorf("Inspect = %v; want bad_bundle saying %q", r, tc.says)
			}
		})
	}
}

func TestSignRefusesBadPayloads(t *testing.T) {
	_, priv := testKey(1)
	for name, p := range map[string]Payload{
		"version 0":        {Version: 0, Issued: t0, Expires: t0.Add(time.Hour)},
		"no expiry":        {Version: 1, Issued: t0},
		"expires early":    {Version: 1, Issued: t0, Expires: t0},
		"empty target":     {Version: 1, Issued: t0, Expires: t0.Add(time.Hour), Targets: Targets{Groups: []string{""}}},
		"larger than 256k": {Version: 1, Issued: t0, Expires: t0.Add(time.Hour), Config: strings.Repeat("#", MaxBundle)},
	} {
		if _, err := Sign(priv, p); err == nil {
			t.Errorf("Sign(%s) succeeded", name)
		}
	}
}

func TestRefusalHTTPStatus(t *testing.T) {
	for code, status := range map[string]int{
		CodeBadBundle: 400, CodeNoFleetKey: 501, CodeBadSignature: 403, CodeWrongTarget: 422,
		CodeNotNewer: 409, CodeExpired: 422, CodeBadConfig: 422,
	} {
		r := &Refusal{Code: code, Message: "m"}
		if r.HTTPStatus() != status || r.ErrorCode() != code || r.Error() != code+": m" {
			t.Errorf("%s: status %d code %q error %q", code, r.HTTPStatus(), r.ErrorCode(), r.Error())
		}
	}
}

func TestPrivateKeyFile(t *testing.T) {
	pub, priv, err := GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fleet.key")
	if err := WritePrivateKey(path, priv); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode(), err)
	}
	b, _ := os.ReadFile(path)
	if want := hex.EncodeToString(priv.Seed()) + "\n"; string(b) != want {
		t.Errorf("key file %q, want the seed in hex and a newline", b)
	}
	got, err := ReadPrivateKey(path)
	if err != nil || !bytes.Equal(got, priv) || !bytes.Equal(got.Public().(ed25519.PublicKey), pub) {
		t.Fatalf("ReadPrivateKey = %x, %v", got, err)
	}

	_, other, _ := GenerateKey(rand.Reader)
	if err := WritePrivateKey(path, other); !errors.Is(err, os.ErrExist) {
		t.Errorf("overwrite = %v, want os.ErrExist", err)
	}
	if got, _ := ReadPrivateKey(path); !bytes.Equal(got, priv) {
		t.Errorf("the key file changed")
	}

	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPrivateKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("ReadPrivateKey(0640) = %v, want refused", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.key")
	_ = os.WriteFile(bad, []byte("not a key\n"), 0o600)
	if _, err := ReadPrivateKey(bad); err == nil {
		t.Error("ReadPrivateKey(garbage) succeeded")
	}
}
