package nfcpay

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
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

// uriHex is uri's bytes in hex, for a record's payload after its code.
func uriHex(uri string) string { return hex.EncodeToString([]byte(uri)) }

// shortLen is the payload length byte of a short record of uri with no
// prefix code: the code byte and uri.
func shortLen(uri string) string { return fmt.Sprintf(" %02X ", len(uri)+1) }

const (
	tagLink = "https://pos.example/r/1" // record: 91/D1 01 10 55 04 + 15 bytes
	baseURI = "ethereum:0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913@8453/transfer?address=0x00000000000000000000000000000000000bEEF1&uint256=1250000"
	arbURI  = "ethereum:0xaf88d065e77c8cC2239327C5EDb3A432268e5831@42161/transfer?address=0x00000000000000000000000000000000000bEEF1&uint256=1250000"
)

var tagCases = []struct {
	name, link string
	uris       []string
	want       string // the message, hex
	held       int
}{
	{"no URIs: the link alone, as URIMessage", tagLink, nil,
		"D1 01 10 55 04" + uriHex("pos.example/r/1"), 0},
	{"one URI: MB on the link, ME on the URI", tagLink, []string{baseURI},
		"91 01 10 55 04" + uriHex("pos.example/r/1") + "51 01" + shortLen(baseURI) + "55 00" + uriHex(baseURI), 1},
	{"two URIs in order, the middle record neither first nor last", tagLink, []string{baseURI, arbURI},
		"91 01 10 55 04" + uriHex("pos.example/r/1") + "11 01" + shortLen(baseURI) + "55 00" + uriHex(baseURI) + "51 01" + shortLen(arbURI) + "55 00" + uriHex(arbURI), 2},
	{"a URI over 255 bytes is a long record among short ones", tagLink, []string{"ethereum:" + strings.Repeat("d", 300), arbURI},
		"91 01 10 55 04" + uriHex("pos.example/r/1") + "01 01 00 00 01 36 55 00" + uriHex("ethereum:"+strings.Repeat("d", 300)) + "51 01" + shortLen(arbURI) + "55 00" + uriHex(arbURI), 2},
	{"an https URI takes its prefix code too", tagLink, []string{"https://pay.example/x"},
		"91 01 10 55 04" + uriHex("pos.example/r/1") + "51 01 0E 55 04" + uriHex("pay.example/x"), 1},
}

func TestTagMessageEncodesTheLinkThenEachURI(t *testing.T) {
	for _, tc := range tagCases {
		t.Run(tc.name, func(t *testing.T) {
			got, held, err := TagMessage(tc.link, tc.uris)
			if err != nil {
				t.Fatal(err)
			}
			want, err := hex.DecodeString(strings.ReplaceAll(tc.want, " ", ""))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) || held != tc.held {
				t.Errorf("\n got % X (%d URIs)\nwant % X (%d)", got, held, want, tc.held)
			}
		})
	}
	// A request on one network: the message is byte for byte what it was.
	for _, tc := range uriCases {
		one, err := URIMessage(tc.link)
		if err != nil {
			t.Fatal(err)
		}
		if got, held, err := TagMessage(tc.link, nil); err != nil || held != 0 || !bytes.Equal(got, one) {
			t.Errorf("TagMessage(%q, nil) = % X, %d, %v; want URIMessage's % X", tc.link, got, held, err, one)
		}
	}
}

// The tag holds whole records up to MaxTagMessage bytes: the URIs that fit,
// in order, and none from the first that does not (a shorter one after it
// is not tried, so what the tag offers is always the first networks).
func TestTagMessageStopsBeforeARecordThatWouldNotFit(t *testing.T) {
	// tagLink's record is 20 bytes; a URI record with a long payload is 8
	// bytes more than the URI: 996 bytes of URI fill the message to 1024.
	fill := func(n int) string { return "ethereum:" + strings.Repeat("f", n-len("ethereum:")) }
	for _, tc := range []struct {
		name string
		link string
		uris []string
		held int
		size int
	}{
		{"a URI that fills the tag exactly is held", tagLink, []string{fill(996)}, 1, MaxTagMessage},
		{"one byte more is not", tagLink, []string{fill(997)}, 0, 20},
		{"a later URI that would fit is not tried", tagLink, []string{baseURI, fill(997), arbURI}, 1, 20 + 4 + 1 + len(baseURI)},
		{"a link of MaxLink bytes holds no URI", "https://" + strings.Repeat("l", MaxLink-8), []string{baseURI}, 0, 7 + 1 + MaxLink - 8},
		{"eight URIs of 300 bytes: three fit", tagLink, slices.Repeat([]string{fill(300)}, 8), 3, 20 + 3*308},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, held, err := TagMessage(tc.link, tc.uris)
			if err != nil {
				t.Fatal(err)
			}
			if held != tc.held || len(got) != tc.size || len(got) > MaxTagMessage {
				t.Fatalf("held %d URIs in %d bytes, want %d in %d (at most %d)", held, len(got), tc.held, tc.size, MaxTagMessage)
			}
			// Whole records: the message is that of the URIs held alone.
			want, _, err := TagMessage(tc.link, tc.uris[:held])
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("the message is not the link and the first %d URIs whole (%v)", held, err)
			}
		})
	}
}

func TestTagMessageRefusesAURIAPhoneWouldNotOpenAsIs(t *testing.T) {
	for _, tc := range []struct {
		name string
		uris []string
	}{
		{"empty", []string{baseURI, ""}},
		{"a space", []string{"ethereum:0x1@1?value=1 2"}},
		{"not ASCII", []string{baseURI, "ethereum:ä"}},
		{"malformed past the size bound too", []string{"ethereum:" + strings.Repeat("x", 2000), "ethereum:\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg, _, err := TagMessage(tagLink, tc.uris); !errors.Is(err, ErrMalformed) || msg != nil {
				t.Errorf("TagMessage = % X, %v; want no message, ErrMalformed", msg, err)
			}
		})
	}
}

// The npm `ndef` package reads each message of tagCases as the link's
// record then one record per URI, re-encodes it unchanged, and encodes
// the same URIs, one uriRecord each, to the same bytes.
func TestTagMessageDecodesWithTheNpmNdefPackage(t *testing.T) {
	dir := jsTools(t)
	for _, tc := range tagCases {
		t.Run(tc.name, func(t *testing.T) {
			msg, _, err := TagMessage(tc.link, tc.uris)
			if err != nil {
				t.Fatal(err)
			}
			checkNdefJS(t, dir, msg, append([]string{tc.link}, tc.uris...))
		})
	}
}

// checkNdefJS has the npm `ndef` package read msg: well-known "U" records
// whose URIs are uris, in order; bytes its encoder gives back unchanged;
// and the same bytes as its own uriRecord of each URI.
func checkNdefJS(t *testing.T, dir string, msg []byte, uris []string) {
	t.Helper()
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
	var got []string
	for _, r := range out.Records {
		if r.TNF != 1 || r.Type != "U" {
			t.Fatalf("ndef read %+v, want well-known U records", out.Records)
		}
		got = append(got, r.URI)
	}
	if !slices.Equal(got, uris) {
		t.Errorf("ndef read the URIs\n %q\nwant\n %q", got, uris)
	}
	if !out.ReencodedSame {
		t.Errorf("ndef re-encodes the message differently")
	}
	if out.OwnEncoding != hex.EncodeToString(msg) {
		t.Errorf("ndef.uriRecord encodes\n %s\nwe encode\n %x", out.OwnEncoding, msg)
	}
}
