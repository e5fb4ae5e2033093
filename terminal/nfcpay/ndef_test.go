package nfcpay

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"showpos/device"

	"showpos/tools/jstools"
)

var uriCases = []struct {
	name, link string
	want       string // the message, hex
	// ndefJSLong: ndef-js 0.2.0 writes a long record from a payload of
	// 255 bytes on (it tests < 0xFF); the NDEF spec allows a short record
	// up to 255, which we write. Its decoder reads both; only its own
	// encoding differs, at that one length.
	ndefJSLong bool
}{
	{"https:// is code 04", "https://pos.example/r/1",
		"D1 01 10 55 04 70 6F 73 2E 65 78 61 6D 70 6C 65 2F 72 2F 31", false},
	{"http:// is code 03", "http://10.0.0.7:8080/v1/requests/ab",
		"D1 01 1D 55 03 31 30 2E 30 2E 30 2E 37 3A 38 30 38 30 2F 76 31 2F 72 65 71 75 65 73 74 73 2F 61 62", false},
	{"http://www. is code 01, the longer prefix", "http://www.pos.example/",
		"D1 01 0D 55 01 70 6F 73 2E 65 78 61 6D 70 6C 65 2F", false},
	{"https://www. is code 02", "https://www.a.io",
		"D1 01 05 55 02 61 2E 69 6F", false},
	{"ethereum: has no code (00)", "ethereum:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed@11155111?value=5e16",
		"D1 01 48 55 00" + hex.EncodeToString([]byte("ethereum:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed@11155111?value=5e16")), false},
	{"a prefix is matched case-sensitively", "HTTPS://A.IO",
		"D1 01 0D 55 00 48 54 54 50 53 3A 2F 2F 41 2E 49 4F", false},
	{"a payload of 255 bytes is still a short record", "https://" + strings.Repeat("a", 254),
		"D1 01 FF 55 04" + strings.Repeat("61", 254), true},
	{"a payload over 255 bytes has a 4-byte length", "https://" + strings.Repeat("b", 255),
		"C1 01 00 00 01 00 55 04" + strings.Repeat("62", 255), false},
}

func TestURIMessageEncodesOneURIRecord(t *testing.T) {
	for _, tc := range uriCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := URIMessage(tc.link)
			if err != nil {
				t.Fatal(err)
			}
			want, err := hex.DecodeString(strings.ReplaceAll(tc.want, " ", ""))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("\n got % X\nwant % X", got, want)
			}
		})
	}
}

func TestURIMessageRefusesWhatAPhoneWouldNotOpenAsIs(t *testing.T) {
	for _, tc := range []struct {
		name, link string
		want       error
	}{
		{"empty", "", ErrMalformed},
		{"a space", "https://a.io/x y", ErrMalformed},
		{"a control byte", "https://a.io/\n", ErrMalformed},
		{"not ASCII", "https://ä.io", ErrMalformed},
		{"too long", "https://" + strings.Repeat("c", MaxLink), device.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := URIMessage(tc.link); !errors.Is(err, tc.want) {
				t.Errorf("URIMessage(%q) = %v, want %v", tc.link, err, tc.want)
			}
		})
	}
}

// TestURIMessageDecodesWithTheNpmNdefPackage has an independent parser,
// the npm `ndef` package (pinned in tools/js), read every message of the
// table: one well-known "U" record whose URI is the link, bytes that its
// own encoder gives back unchanged, and the same prefix code as its own
// uriRecord would choose.
func TestURIMessageDecodesWithTheNpmNdefPackage(t *testing.T) {
	dir := jsTools(t)
	for _, tc := range uriCases {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := URIMessage(tc.link)
			if err != nil {
				t.Fatal(err)
			}
			var out struct {
				Records []struct {
					TNF  int    `json:"tnf"`
					Type string `json:"type"`
					URI  string `json:"uri"`
				} `json:"records"`
				ReencodedSame bool   `json:"reencodedSame"`
				OwnEncoding   string `json:"ownEncoding"`
			}
			if err := json.Unmarshal(runNdefJS(t, dir, msg), &out); err != nil {
				t.Fatal(err)
			}
			if len(out.Records) != 1 || out.Records[0].TNF != 1 || out.Records[0].Type != "U" {
				t.Fatalf("ndef read %+v, want one well-known U record", out.Records)
			}
			if out.Records[0].URI != tc.link {
				t.Errorf("ndef read the URI %q, want %q", out.Records[0].URI, tc.link)
			}
			if tc.ndefJSLong {
				return
			}
			if !out.ReencodedSame {
				t.Errorf("ndef re-encodes the message differently")
			}
			if out.OwnEncoding != hex.EncodeToString(msg) {
				t.Errorf("ndef.uriRecord encodes\n %s\nwe encode\n %x", out.OwnEncoding, msg)
			}
		})
	}
}

// jsTools returns tools/js with the ndef package installed, or skips the
// test (fails it when SHOWPOS_REQUIRE_JS=1, as in CI), as terminal/request's
// JS checks do.
func jsTools(t *testing.T) string { return jstools.Dir(t, "ndef") }

// runNdefJS runs tools/js/ndef.js on msg and returns its JSON.
func runNdefJS(t *testing.T, dir string, msg []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "ndef.js"))
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(hex.EncodeToString(msg))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node ndef.js: %v\n%s", err, stderr.Bytes())
	}
	return stdout.Bytes()
}
