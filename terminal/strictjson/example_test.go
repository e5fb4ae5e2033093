package strictjson_test

import (
	"fmt"

	"showpos/terminal/strictjson"
)

func ExampleDecode() {
	var body struct {
		RequestID string `json:"requestId"`
		RawTx     string `json:"rawTx"`
	}
	for _, in := range []string{
		`{"requestId":"r1","rawTx":"0x02"}`,
		`{"requestId":"r1","requestid":"r2","rawTx":"0x02"}`, // encoding/json: r2
		`{"requestId":"r1","rawTx":"0x02","rawTx":"0x03"}`,   // encoding/json: 0x03
	} {
		if err := strictjson.Decode([]byte(in), &body); err != nil {
			fmt.Println("refused:", err)
			continue
		}
		fmt.Println("read:", body.RequestID, body.RawTx)
	}
	// Output:
	// read: r1 0x02
	// refused: unknown member "requestid" (member names are exact and case-sensitive: "requestId")
	// refused: duplicate member "rawTx"
}
