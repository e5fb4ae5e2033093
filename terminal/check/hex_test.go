package check

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestDecodeHex(t *testing.T) {
	full := strings.Repeat("ab", MaxTxSize)
	for _, tc := range []struct {
		name string
		in   string
		want []byte
		code Code
		msg  string
	}{
		{name: "0x prefix accepted", in: "0x02f8ab", want: []byte{0x02, 0xf8, 0xab}},
		{name: "0X prefix accepted", in: "0X02F8AB", want: []byte{0x02, 0xf8, 0xab}},
		{name: "missing prefix accepted", in: "02f8ab", want: []byte{0x02, 0xf8, 0xab}},
		{name: "scanner line ending ignored", in: "0x02f8ab\r\n", want: []byte{0x02, 0xf8, 0xab}},
		{name: "surrounding spaces ignored", in: " \t0x02f8ab ", want: []byte{0x02, 0xf8, 0xab}},
		{name: "exactly 2*MaxTxSize digits accepted", in: "0x" + full, want: bytes.Repeat([]byte{0xab}, MaxTxSize)},
		{name: "one digit pair over the limit refused as too large", in: "0x" + full + "ab", code: CodeTxTooLarge, msg: "at most 262144"},
		{name: "oversize refused before looking at the digits", in: strings.Repeat("zz", MaxTxSize+1), code: CodeTxTooLarge},
		{name: "empty refused", in: "", code: CodeInvalidTx, msg: "empty"},
		{name: "bare prefix refused", in: "0x", code: CodeInvalidTx, msg: "empty"},
		{name: "whitespace only refused", in: " \r\n", code: CodeInvalidTx, msg: "empty"},
		{name: "odd length refused", in: "0x02f8a", code: CodeInvalidTx, msg: "odd number of hex digits (5)"},
		{name: "non-hex character refused with its position", in: "0x02g8", code: CodeInvalidTx, msg: `'g' at digit 2`},
		{name: "non-hex low nibble refused with its position", in: "0x020z", code: CodeInvalidTx, msg: `'z' at digit 3`},
		{name: "inner space refused", in: "0x02 f8a", code: CodeInvalidTx, msg: `' '`},
		{name: "double prefix refused", in: "0x0x02", code: CodeInvalidTx, msg: `'x'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeHex(tc.in)
			if tc.code == "" {
				if err != nil || !bytes.Equal(got, tc.want) {
					t.Fatalf("DecodeHex = %x, %v; want %x", got, err, tc.want)
				}
				return
			}
			var r *Refusal
			if !errors.As(err, &r) || r.Code != tc.code || !strings.Contains(r.Msg, tc.msg) {
				t.Fatalf("DecodeHex error = %v; want %s containing %q", err, tc.code, tc.msg)
			}
			if got != nil {
				t.Errorf("refused input returned %d bytes", len(got))
			}
		})
	}
}

func TestDecodeHexThenCheckAcceptsASignedTx(t *testing.T) {
	p := newPayer(t)
	raw := p.raw(londonSigner(), erc20Dynamic())
	b, err := DecodeHex("0x" + hex.EncodeToString(raw) + "\n")
	if err != nil {
		t.Fatal(err)
	}
	pay, err := New(testPolicy()).Check(b, tokenTerms())
	if err != nil || pay.From != p.addr || pay.Paid.Cmp(usdAmount) != 0 {
		t.Fatalf("Check = %+v, %v", pay, err)
	}
}
